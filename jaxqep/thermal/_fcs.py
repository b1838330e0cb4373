"""Full counting statistics of jump currents: cumulants from the tilted generator.

Convention (``CONVENTIONS.md``): ``L_s = L + Σ_k (e^{ν_k s} − 1) 𝒥_k`` with
``𝒥_k = L_k ⊗ conj(L_k)`` (the superoperator of ``ρ ↦ L_k ρ L_k†``), ``θ(s)`` its
eigenvalue of largest real part, ``c_n = dⁿθ/dsⁿ`` at ``s = 0``.

Method: Rayleigh-Schrödinger perturbation of the zero eigenvalue, exact to every order
(no finite differences, no time evolution). With ``L^(m) = dᵐL_s/dsᵐ|₀ = Σ_k ν_kᵐ 𝒥_k``,
the left eigenvector ``tᵀ = vec(I)ᵀ`` of ``L`` (trace preservation) and the right
eigenvector ``r(s) = Σ r_n sⁿ/n!`` normalised by ``tᵀ r(s) = 1`` (so ``r_0 = ρ`` and
``tᵀ r_n = 0`` for ``n ≥ 1``), order ``n`` of ``(L_s − θ(s)) r(s) = 0`` gives

    θ_n = Σ_{m=1}^{n} C(n,m) tᵀ L^(m) r_{n−m},
    L r_n = −Σ_{m=1}^{n} C(n,m) L^(m) r_{n−m} + Σ_{m=1}^{n} C(n,m) θ_m r_{n−m}.

The right-hand side has zero trace, so ``r_n`` solves the bordered system
``(L + u tᵀ) r_n = rhs`` (``u = vec(I)/d``): the same matrix as the steady state, so one
LU factorisation serves ρ and every order (the bordered inverse acts as the Drazin
inverse on trace-free vectors). The solves go through ``lineax`` with the factorisation
passed as ``state``: derivatives with respect to every model parameter are implicit
(adjoint solves with the same factors), never through the factorisation.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, ArrayLike

from .. import _validate as val
from .._condition import lu_condition
from .._entry import call
from .._errors import collect_results
from .._solution import RESULTS, make_stats
from .._steady import check_state
from ._model import GKLSModel
from ._results import CurrentStatistics
from ._thermo import _check_model, currents_at

__all__ = ["current_cumulants", "current_statistics", "tilted_generator"]


def _weights(model: GKLSModel, weights: ArrayLike) -> Array:
    w = val.as_inexact(weights, "weights")
    if jnp.iscomplexobj(w):
        raise TypeError(f"weights: must be real, got dtype {w.dtype}")
    if w.shape != (model.n_jumps,):
        raise ValueError(
            f"weights: expected one counting weight per jump, shape ({model.n_jumps},), got "
            f"{w.shape}"
        )
    return val.finite(w, "weights")


def _order(order) -> int:
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"order: must be a Python int >= 1, got {order!r}")
    return order


def tilted_generator(model: GKLSModel, weights: ArrayLike, s: ArrayLike) -> Array:
    """The tilted generator ``L_s = L + Σ_k (e^{ν_k s} − 1) L_k ⊗ conj(L_k)``, ``(d², d²)``.

    Args:
        model: a :class:`~jaxqep.GKLSModel`.
        weights: counting weights ``ν`` (real), ``(K,)``.
        s: counting field (real scalar).

    Returns:
        The dense matrix (row-major vectorisation).

    Raises:
        ValueError: ``weights`` of the wrong shape.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> m = jaxqep.thermal.resonant_level(0.7, 0.3)
        >>> Ls = jaxqep.thermal.tilted_generator(m, jnp.array([0.0, 1.0]), 0.0)
        >>> bool(jnp.allclose(Ls, m.lindbladian()))
        True
    """
    model = _check_model(model)
    w = _weights(model, weights)
    f = jnp.expm1(w * jnp.asarray(s)).astype(model.H.dtype)
    return model.lindbladian() + jnp.einsum("k,kij->ij", f, model.jump_superoperators())


# Largest estimated rounding error of the TUR ratio (relative to max(|ratio|, 1)) that is
# still reported as a number: the same 1e-3 as the ill-conditioning check of the solves.
TUR_ERROR_THRESHOLD = 1e-3

_TUR_MSG = (
    "tur: the TUR ratio c2*sigma/c1^2 is 0/0 at (or too close to) equilibrium: the counted "
    "current c1 and the entropy production sigma vanish to rounding (estimated error of the "
    "ratio above 1e-3). Its limit there depends on how equilibrium is approached (linear "
    "response with one affinity and the current conjugate to it gives 2); use "
    "current_cumulants for the cumulants alone, or throw=False (tur = nan, result = "
    "RESULTS.nonfinite)"
)


def _statistics(model: GKLSModel, weights: Array, order: int, check_tur: bool = True):
    d = model.d
    lmat = model.lindbladian()
    dtype = lmat.dtype
    t = jnp.eye(d, dtype=dtype).reshape(-1)
    u = t / d
    op = lx.MatrixLinearOperator(lmat + jnp.outer(u, t))
    solver = lx.LU()
    state = solver.init(jax.lax.stop_gradient(op), {})

    def solve(b):
        return lx.linear_solve(op, b, solver, state=state, throw=False).value

    x0 = solve(u)
    kappa = lu_condition(op.matrix, state[0])
    rho = check_state(x0.reshape(d, d), "L")
    rho = 0.5 * (rho + jnp.conj(rho.T))
    r = [rho.reshape(-1)]
    jsup = model.jump_superoperators()
    w = weights.astype(dtype)
    n_orders = max(order, 2)  # the Fano factor and the TUR ratio need c_2
    # L^(m) = Σ_k ν_k^m 𝒥_k, applied as matrix-vector products.
    lder = [None] + [jnp.einsum("k,kij->ij", w**m, jsup) for m in range(1, n_orders + 1)]
    theta = [jnp.zeros((), dtype)]
    for n in range(1, n_orders + 1):
        acts = [lder[m] @ r[n - m] for m in range(1, n + 1)]
        th = sum(math.comb(n, m) * (t @ acts[m - 1]) for m in range(1, n + 1))
        theta.append(th)
        if n == n_orders:
            break
        rhs = -sum(math.comb(n, m) * acts[m - 1] for m in range(1, n + 1))
        rhs = rhs + sum(math.comb(n, m) * theta[m] * r[n - m] for m in range(1, n + 1))
        r.append(solve(rhs))
    cum = jnp.real(jnp.stack(theta[1:]))
    residual = jnp.linalg.norm(lmat @ r[0])
    c1, c2 = cum[0], cum[1]
    # Rounding scales (relative error of ρ ~ κ eps): c_1 = Σ_k ν_k tr(L_k ρ L_k†) is a
    # cancelling sum of terms of size |ν_k| a_k, a_k = tr(L_k ρ L_k†); each J_b cancels
    # terms of size ~2‖H_ref‖ a_k, and σ = −Σ β_b J_b.
    sg = jax.lax.stop_gradient
    rho_s = sg(rho)
    ls = sg(model.jumps)
    act = jnp.real(jnp.sum((ls @ rho_s) * jnp.conj(ls), axis=(-2, -1)))
    eps = jnp.finfo(cum.dtype).eps
    unit = eps * jnp.maximum(sg(jnp.real(kappa)), 1.0)
    dc1 = unit * jnp.sum(jnp.abs(sg(weights)) * act)
    c1_zero = jnp.abs(c1) <= dc1
    c1_safe = jnp.where(c1_zero, 1.0, c1)
    fano = jnp.where(c1_zero, jnp.inf, c2 / jnp.abs(c1_safe))
    if model.betas is None:
        sigma = jnp.asarray(jnp.nan, cum.dtype)
        tur = jnp.asarray(jnp.nan, cum.dtype)
    else:
        sigma = -jnp.sum(model.betas * currents_at(model, rho))
        hnorm = jnp.max(jnp.sum(jnp.abs(sg(model.energy())), axis=-1))
        mask = jnp.asarray(model.bath_mask(), act.dtype)
        dsigma = unit * 2 * hnorm * jnp.sum(sg(model.betas) * (mask @ act))
        ratio = c2 * sigma / c1_safe**2
        dratio = jnp.abs(c2) * dsigma / c1_safe**2 + 2 * jnp.abs(ratio) * dc1 / jnp.abs(c1_safe)
        bad = c1_zero | (sg(dratio) > TUR_ERROR_THRESHOLD * jnp.maximum(sg(jnp.abs(ratio)), 1.0))
        tur = jnp.where(bad, jnp.nan, ratio)
        if check_tur:
            tur = val.check(tur, bad, _TUR_MSG, RESULTS.nonfinite)
    return CurrentStatistics(
        cumulants=cum[:order],
        fano=fano,
        tur=tur,
        sigma=sigma,
        rho=rho,
        result=RESULTS.successful,
        stats=make_stats(residual, kappa),
    )


def _run_statistics(model, weights, order, throw, check_tur=True):
    with collect_results(enabled=not throw) as col:
        out = _statistics(model, weights, order, check_tur)
    if col is not None:
        out = eqx.tree_at(lambda o: o.result, out, col.result())
    return out


def current_statistics(
    model: GKLSModel, weights: ArrayLike, order: int = 2, *, throw: bool = True
) -> CurrentStatistics:
    """Cumulants, Fano factor and TUR ratio of the current that counts jump ``k`` with
    weight ``ν_k`` (e.g. ``ν_k = ±ω`` for the heat current into one bath).

    Args:
        model: a :class:`~jaxqep.GKLSModel` (dense: one LU of the ``d² × d²`` bordered
            generator, reused for every order).
        weights: counting weights ``ν`` (real), ``(K,)``.
        order: number of cumulants (static Python int ≥ 1; ``fano``/``tur`` need 2).
        throw: raise on a failed solve (default) or return the failure as ``result``.

    Returns:
        :class:`CurrentStatistics` (``cumulants``, ``fano``, ``tur``, ``sigma``, ``rho``,
        ``result``, ``stats``).

    Raises:
        ValueError: ``weights`` of the wrong length, a bad ``order``; with ``throw=True`` a
            steady state that is not unique.
        TypeError: ``model`` not a :class:`~jaxqep.GKLSModel`, complex weights.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> m = jaxqep.thermal.resonant_level(0.7, 0.3)
        >>> st = jaxqep.thermal.current_statistics(m, jnp.array([0.0, 1.0]), order=3)
        >>> [round(float(c), 6) for c in st.cumulants]
        [0.21, 0.1218, 0.056532]
    """
    model = _check_model(model)
    w = _weights(model, weights)
    order = _order(order)
    if not isinstance(throw, bool):
        raise TypeError(f"throw: must be a Python bool, got {type(throw).__name__}")
    return call(_run_statistics, model, w, order, throw)


def current_cumulants(
    model: GKLSModel, weights: ArrayLike, order: int = 3, *, throw: bool = True
) -> Array:
    """The first ``order`` cumulants ``c_n = dⁿθ/dsⁿ|₀`` of a counted jump current.

    ``θ(s)`` is the leading eigenvalue of ``L_s = L + Σ_k (e^{ν_k s} − 1) L_k · L_k†``;
    the derivatives are exact (perturbation of the zero eigenvalue with the bordered
    inverse, one factorisation), differentiable with respect to every model parameter.

    Args:
        model: a :class:`~jaxqep.GKLSModel`.
        weights: counting weights ``ν`` (real), ``(K,)``.
        order: number of cumulants (static Python int ≥ 1).
        throw: raise on a failed solve (default) or return NaN-free values of whatever
            state came back (see :func:`current_statistics` for the ``result`` code).

    Returns:
        ``(order,)`` real array ``c_1 … c_order``.

    Raises:
        ValueError: ``weights`` of the wrong length, a bad ``order``, a non-unique steady
            state.
        TypeError: ``model`` not a :class:`~jaxqep.GKLSModel`.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> m = jaxqep.thermal.resonant_level(0.7, 0.3)
        >>> c = jaxqep.current_cumulants(m, jnp.array([0.0, 1.0]), order=2)
        >>> round(float(c[1] / c[0]), 12)   # Fano factor (ΓL² + ΓR²)/(ΓL + ΓR)²
        0.58
    """
    model = _check_model(model)
    w = _weights(model, weights)
    order = _order(order)
    if not isinstance(throw, bool):
        raise TypeError(f"throw: must be a Python bool, got {type(throw).__name__}")
    # No TUR check: the cumulants are well defined at equilibrium too.
    return call(_run_statistics, model, w, order, throw, False).cumulants
