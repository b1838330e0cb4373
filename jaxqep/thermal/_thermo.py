"""Thermodynamics of GKLS models: heat currents, Clausius and Spohn entropy production,
power, efficiency and coefficient of performance with their Carnot bounds.

Sign convention (``CONVENTIONS.md``): ``J_b = tr(H_ref D_b(ρ))`` is the energy flowing
from bath ``b`` into the system; ``P = Σ_b J_b`` the power the system delivers (zero at a
steady state when ``H_ref = H``); ``σ = −Σ_b β_b J_b``.
"""

from __future__ import annotations

from typing import Literal, overload

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import _validate as val
from .._dispatch import register
from .._entry import call, entropy_production, steady_state
from .._solution import RESULTS, SteadyStateSolution
from .._superop_model import SuperoperatorModel
from ..solvers import AbstractSolver, DenseLU
from ..solvers._dense import _dense_steady_state
from ._model import DENSE_MAX_D, GKLSModel
from ._results import HeatCurrents, ThermalEntropyProduction

__all__ = [
    "heat_currents",
    "heat_currents_at",
    "spohn_entropy_production",
    "efficiency",
    "carnot_efficiency",
    "cooling_cop",
    "carnot_cop",
]


def _check_model(model) -> GKLSModel:
    if not isinstance(model, GKLSModel):
        raise TypeError(f"model: expected a jaxqep.GKLSModel, got {type(model).__name__}")
    return model


def currents_at(model: GKLSModel, rho: Array, reference: Array | None = None) -> Array:
    """``J_b = tr(H_ref D_b(ρ))`` at a given state, ``(B,)`` (real)."""
    h = model.energy() if reference is None else reference.astype(model.H.dtype)
    if model.d > DENSE_MAX_D:
        from ._krylov import _operators  # sparse products along the static patterns

        per_jump = _operators(model)[2](rho.astype(model.H.dtype), h)
        return jnp.asarray(model.bath_mask()) @ per_jump
    ds = model.apply_dissipators(rho)
    return jnp.real(jnp.einsum("ij,bji->b", h, ds))


def heat_currents_at(model: GKLSModel, rho: ArrayLike, reference: ArrayLike | None = None):
    """Heat currents ``J_b = tr(H_ref D_b(ρ))`` at a given state (no solve): for reusing a
    state already computed, e.g. ``current_statistics(...).rho``.

    Args:
        model: a :class:`~jaxqep.GKLSModel`.
        rho: a ``(d, d)`` state.
        reference: Hermitian ``(d, d)`` energy; ``None`` means the model's reference or ``H``.

    Returns:
        ``(B,)`` real array.

    Raises:
        ValueError: shapes that do not match the model, a non-Hermitian ``reference``,
            NaN/inf in ``rho``.

    Example:
        >>> import jaxqep
        >>> m = jaxqep.thermal.qubit_two_baths(1.0, (0.1, 0.2), (0.5, 2.0))
        >>> rho = jaxqep.steady_state(m).rho
        >>> bool(abs(jaxqep.thermal.heat_currents_at(m, rho) - jaxqep.heat_currents(m)).max()
        ...      < 1e-15)
        True
    """
    model = _check_model(model)
    rho = val.finite(val.square_matrix(rho, "rho", model.d), "rho")
    ref = None if reference is None else val.hermitian(reference, "reference", model.d)
    return currents_at(model, rho, ref)


def entropy_production_at(
    model: GKLSModel, sol: SteadyStateSolution | None, currents: Array | None = None
) -> ThermalEntropyProduction:
    """The Clausius entropy production at the steady state ``sol``; ``currents``: the heat
    currents ``J_b`` if a route already computed them (else from ``sol.rho``)."""
    if model.betas is None:
        raise ValueError(
            "betas: the entropy production of a GKLSModel needs the baths' inverse "
            "temperatures (GKLSModel(..., betas=...))"
        )
    assert sol is not None
    j = currents_at(model, sol.rho) if currents is None else currents
    parts = -model.betas * j
    return ThermalEntropyProduction(
        total=jnp.sum(parts),
        parts=parts,
        heat_currents=j,
        power=jnp.sum(j),
        rho=sol.rho,
        result=RESULTS.successful,
        stats=sol.stats,
    )


@register("steady_state", GKLSModel, DenseLU)
def _ss_dense(problem: GKLSModel, solver: DenseLU) -> SteadyStateSolution:
    return _dense_steady_state(problem.lindbladian(), "L")


@register("entropy_production", GKLSModel, DenseLU)
def _ep_dense(problem: GKLSModel, solver: DenseLU) -> ThermalEntropyProduction:
    return entropy_production_at(problem, _ss_dense(problem, solver))


@overload
def heat_currents(
    model: GKLSModel,
    reference: ArrayLike | None = ...,
    solver: AbstractSolver | None = ...,
    *,
    throw: Literal[True] = ...,
) -> Array: ...


@overload
def heat_currents(
    model: GKLSModel,
    reference: ArrayLike | None = ...,
    solver: AbstractSolver | None = ...,
    *,
    throw: Literal[False],
) -> HeatCurrents: ...


def heat_currents(
    model: GKLSModel,
    reference: ArrayLike | None = None,
    solver: AbstractSolver | None = None,
    *,
    throw: bool = True,
) -> Array | HeatCurrents:
    """Heat currents ``J_b = tr(H_ref D_b(ρ))`` at the steady state: the energy flowing
    from bath ``b`` into the system.

    Args:
        model: a :class:`~jaxqep.GKLSModel`.
        reference: Hermitian ``(d, d)`` Hamiltonian defining the energy; ``None`` means the
            model's ``reference`` or else its ``H``.
        solver: a :mod:`jaxqep.solvers` object for the steady state (default: the model's).
        throw: raise on a failed solve and return the ``(B,)`` array (default); with
            ``False`` nothing raises and the result carries the outcome code.

    Returns:
        With ``throw=True`` the ``(B,)`` real array; ``Σ_b J_b = 0`` when the reference is
        ``H``. With ``throw=False`` a :class:`~jaxqep.thermal.HeatCurrents` (``currents``,
        ``power``, ``rho``, ``result``, ``stats``): the currents mean nothing unless
        ``result == RESULTS.successful``.

    Raises:
        ValueError: a non-Hermitian or mis-shaped ``reference``, or (``throw=True``) a
            failed solve.
        TypeError: ``model`` not a :class:`~jaxqep.GKLSModel`, a non-bool ``throw``.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> m = jaxqep.thermal.qubit_two_baths(1.0, gammas=(0.1, 0.2), betas=(0.5, 2.0))
        >>> J = jaxqep.heat_currents(m)
        >>> bool(J[0] > 0), bool(abs(J.sum()) < 1e-14)
        (True, True)
        >>> out = jaxqep.heat_currents(m, throw=False)
        >>> bool(out.result == jaxqep.RESULTS.successful), bool(jnp.all(out.currents == J))
        (True, True)
    """
    model = _check_model(model)
    if not isinstance(throw, bool):
        raise TypeError(f"throw: must be a Python bool, got {type(throw).__name__}")
    ref = None if reference is None else val.hermitian(reference, "reference", model.d)
    sol = steady_state(model, solver, throw=throw)
    j = call(currents_at, model, sol.rho, ref)
    if throw:
        return j
    return HeatCurrents(
        currents=j, power=jnp.sum(j), rho=sol.rho, result=sol.result, stats=sol.stats
    )


def spohn_entropy_production(
    model: GKLSModel, lambdas: ArrayLike | None = None, *, throw: bool = True
):
    """Spohn entropy production of the per-bath decomposition ``L = Σ_b L_b``,
    ``L_b = −i[λ_b H, ·] + D_b`` (dense; every part needs a unique, faithful fixed point).

    For the global (Davies) equation each ``D_b`` fixes the Gibbs state at ``β_b`` and
    commutes with ``−i[H, ·]``, so ``σ_b = tr(L_b(ρ) ln ρ_b) = −β_b J_b`` part by part: the
    Spohn and Clausius forms agree. For local equations they differ, and a part whose
    fixed point is not unique (a dissipator acting on one subsystem only, with
    ``λ_b = 0``) is reported as non-unique.

    Args:
        model: a :class:`~jaxqep.GKLSModel`.
        lambdas: ``(B,)`` affine split of ``H`` over the parts (``Σ λ_b = 1``); default ``1/B``.
        throw: raise on failure (default) or return the failure as ``result``.

    Returns:
        :class:`~jaxqep.EntropyProduction` (``total``, ``parts`` per bath, ``fluxes``,
        ``rho``, ``partial_states``, ...).

    Raises:
        ValueError: ``lambdas`` of the wrong shape or not summing to 1; a part without a
            unique faithful fixed point.

    Example:
        >>> import jaxqep
        >>> m = jaxqep.thermal.xx_pair(1.0, 1.2, 0.1, gammas=(0.05, 0.05), betas=(0.5, 1.0),
        ...                            kind="global")
        >>> a = jaxqep.thermal.spohn_entropy_production(m).total
        >>> b = jaxqep.entropy_production(m).total
        >>> bool(abs(a - b) < 1e-10)
        True
    """
    model = _check_model(model)
    if lambdas is not None:
        lam = val.as_inexact(lambdas, "lambdas")
        if lam.shape != (model.n_baths,):
            raise ValueError(f"lambdas: expected shape ({model.n_baths},), got {lam.shape}")
        lam = val.check(lam, jnp.abs(jnp.sum(lam) - 1) > 1e-10, "lambdas: must sum to 1")
    else:
        lam = None
    return entropy_production(SuperoperatorModel(model.superoperators(lam)), throw=throw)


# ---------------------------------------------------------------------- performance


def _index(i, n: int, name: str) -> int:
    if not isinstance(i, int) or not 0 <= i < n:
        raise ValueError(f"{name}: must be a bath index in 0..{n - 1}, got {i!r}")
    return i


def _vector(x, name: str) -> Array:
    arr = val.as_inexact(x, name)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a vector (B,), got shape {arr.shape}")
    if jnp.iscomplexobj(arr):
        raise TypeError(f"{name}: must be real, got dtype {arr.dtype}")
    return val.finite(arr, name)


def _ratio(num: Array, den: Array, message: str) -> Array:
    """``num / den`` with a zero denominator reported (``message``), never inf/NaN."""
    zero = den == 0
    return val.check(num / jnp.where(zero, 1.0, den), zero, message)


def efficiency(currents: ArrayLike, hot: int) -> Array:
    """Engine efficiency ``η = P / J_hot`` with ``P = Σ_b J_b`` (meaningful when ``P > 0``).

    Args:
        currents: heat currents ``(B,)`` (:func:`jaxqep.heat_currents`, measured with the
            bare Hamiltonian of a driven model).
        hot: index of the hot bath.

    Returns:
        The efficiency (real scalar).

    Raises:
        ValueError: ``hot`` out of range, NaN/inf currents, ``J_hot = 0``.
        TypeError: complex currents.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> float(jaxqep.thermal.efficiency(jnp.array([2.0, -1.5]), hot=0))
        0.25
    """
    j = _vector(currents, "currents")
    return _ratio(
        jnp.sum(j),
        j[_index(hot, j.shape[0], "hot")],
        "currents: the hot bath's current is zero, so the efficiency P/J_hot is undefined",
    )


def carnot_efficiency(betas: ArrayLike, hot: int, cold: int) -> Array:
    """``η_C = 1 − β_hot/β_cold``.

    Args:
        betas: inverse temperatures ``(B,)``.
        hot: index of the hot bath.
        cold: index of the cold bath.

    Returns:
        The Carnot efficiency.

    Raises:
        ValueError: an index out of range, non-positive or non-finite ``betas``.
        TypeError: complex ``betas``.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> float(jaxqep.thermal.carnot_efficiency(jnp.array([0.5, 2.0]), 0, 1))
        0.75
    """
    b = _vector(betas, "betas")
    b = val.check(b, jnp.any(b <= 0), "betas: inverse temperatures must be positive")
    n = b.shape[0]
    return 1 - b[_index(hot, n, "hot")] / b[_index(cold, n, "cold")]


def cooling_cop(currents: ArrayLike, cold: int, hot: int | None = None) -> Array:
    """Coefficient of performance of a refrigerator: ``J_cold / J_hot`` for an absorption
    refrigerator driven by the heat of bath ``hot``, ``J_cold / (−P)`` for a work-driven
    one (``hot=None``).

    Args:
        currents: heat currents ``(B,)``.
        cold: index of the bath being cooled.
        hot: index of the driving (hot) bath, or ``None`` for work driving.

    Returns:
        The COP (meaningful when ``J_cold > 0``).

    Raises:
        ValueError: an index out of range, NaN/inf currents, a zero denominator
            (``J_hot = 0`` or ``P = 0``).
        TypeError: complex currents.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> float(jaxqep.thermal.cooling_cop(jnp.array([0.1, 0.4, -0.5]), cold=0, hot=1))
        0.25
    """
    j = _vector(currents, "currents")
    n = j.shape[0]
    jc = j[_index(cold, n, "cold")]
    if hot is None:
        return _ratio(
            jc, -jnp.sum(j), "currents: the power is zero, so the COP J_cold/(-P) is undefined"
        )
    return _ratio(
        jc,
        j[_index(hot, n, "hot")],
        "currents: the hot bath's current is zero, so the COP J_cold/J_hot is undefined",
    )


def carnot_cop(betas: ArrayLike, cold: int, room: int, hot: int | None = None) -> Array:
    """Carnot bound of :func:`cooling_cop`: ``(β_room − β_hot)/(β_cold − β_room)`` for an
    absorption refrigerator, ``β_room/(β_cold − β_room)`` for a work-driven one.

    Args:
        betas: inverse temperatures ``(B,)``.
        cold: index of the bath being cooled.
        room: index of the bath receiving the heat.
        hot: index of the driving bath, or ``None`` for work driving.

    Returns:
        The bound.

    Raises:
        ValueError: an index out of range, non-positive or non-finite ``betas``,
            ``β_cold = β_room``.
        TypeError: complex ``betas``.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> float(jaxqep.thermal.carnot_cop(jnp.array([2.0, 1.0]), cold=0, room=1))
        1.0
    """
    b = _vector(betas, "betas")
    b = val.check(b, jnp.any(b <= 0), "betas: inverse temperatures must be positive")
    n = b.shape[0]
    bc, br = b[_index(cold, n, "cold")], b[_index(room, n, "room")]
    msg = "betas: the cold and room baths have the same temperature: the Carnot COP is infinite"
    if hot is None:
        return _ratio(br, bc - br, msg)
    return _ratio(br - b[_index(hot, n, "hot")], bc - br, msg)
