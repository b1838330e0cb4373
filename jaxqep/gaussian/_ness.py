"""Stationary covariance ``C_ij = <a_i† a_j>`` of a Gaussian network (seed 000, App. B/D)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .._errors import through_proxy
from .._solution import ILL_CONDITIONED_MESSAGE, RESULTS, ill_conditioned
from .._validate import check
from ._lyapunov import (
    RESIDUAL_TOL,
    Method,
    condition_estimate,
    implicit_solve,
    lazy_fallback,
    relative_residual,
)
from ._model import GaussianNetwork

__all__ = ["ness_covariance", "stability_matrix", "solve_ness"]


def stability_matrix(
    H: Array, gammas: Array, sc_rates: Array | None = None, *, hermitian: bool = False
) -> Array:
    """``A = i Hᵀ - (G + Γ)/2`` of ``dC/dt = A C + C A^† + Diag(γ n + Γ ñ)``.

    A common multiple of the identity in ``H`` drops out of the commutator, so it is
    removed here: the sign iteration converges in ``~log2(|Im λ|/|Re λ|)`` steps and the
    eigen-solver loses digits in proportion to ``|λ|/|Re λ|``, both of which would suffer
    from a large uniform ``ω`` (e.g. ``ω = 1`` with rates ``1e-6``).

    ``hermitian=True`` asserts that ``H`` is exactly Hermitian (a validated network's
    is): then ``Hᵀ = H̄``, and no transpose is formed (on CPU a transpose of an ``L × L``
    matrix costs as much as a dozen elementwise passes).
    """
    L = H.shape[0]
    shift = jnp.sum(jnp.real(jnp.diagonal(H))) / L  # (jnp.trace masks all of H)
    K = H - shift * jnp.eye(L, dtype=H.dtype)
    K = jnp.conj(K) if hermitian else K.T
    damp = gammas if sc_rates is None else gammas + sc_rates
    return 1j * K - 0.5 * jnp.diag(damp).astype(K.dtype)


def _reaches_physical_bath(H: Array, gammas: Array, sc_rates: Array) -> Array:
    """True iff every site with Γ_k > 0 is connected (through H_kl ≠ 0) to a site with γ > 0.

    Otherwise a component carries only self-consistent reservoirs, which conserve its
    population: the identity on that component is stationary and the NESS is not unique.
    Connected components by min-label propagation with pointer jumping (each round
    O(L²), O(log L) rounds even on a chain), then one segment reduction.
    """
    L = H.shape[0]
    adj = (jnp.abs(H) > 0) | jnp.eye(L, dtype=bool)
    big = jnp.asarray(L, jnp.int32)

    def cond(st):
        _, changed, it = st
        return changed & (it < 4 * L)

    def body(st):
        labels, _, it = st
        new = jnp.minimum(labels, jnp.min(jnp.where(adj, labels[None, :], big), axis=1))
        # Pointer jumping: label ← label of label, until it stops changing.
        new = jax.lax.fori_loop(0, max(1, int(L).bit_length()), lambda _, x: x[x], new)
        return new, jnp.any(new != labels), it + 1

    labels, _, _ = jax.lax.while_loop(
        cond, body, (jnp.arange(L, dtype=jnp.int32), jnp.asarray(True), 0)
    )
    has_bath = jax.ops.segment_max((gammas > 0).astype(jnp.int32), labels, num_segments=L)
    return jnp.all((has_bath[labels] > 0) | (sc_rates <= 0))


def _no_isolated_probes(net, H: Array, gammas: Array, sc_rates: Array) -> Array:
    """:func:`_reaches_physical_bath`, or only ``γ > 0`` on the network's ``bath_sites``
    (one bath site per connected component, found at construction) where it has them;
    the full test runs only where that fails (also under ``vmap``)."""
    full = partial(_reaches_physical_bath, jax.lax.stop_gradient(H), gammas, sc_rates)
    sites = getattr(net, "bath_sites", None)
    if sites is None:
        return full()
    quick = jnp.all(gammas[jnp.asarray(sites, jnp.int32)] > 0)
    return lazy_fallback(quick, quick, full)


_NO_NESS = (
    "no unique NESS: some mode or subspace of H is not damped (the stability matrix "
    "i Hᵀ - (gammas + sc_rates)/2 has an eigenvalue with Re >= 0, or a group of sites "
    "with self-consistent reservoirs is not connected to any site with gammas > 0)"
)


def _with_steps(route: Callable) -> Callable:
    """Normalise a route to ``(X, (ok, steps))``."""

    def wrapped(A, g, B):
        out = route(A, g, B)
        if isinstance(out[1], tuple):
            return out
        return out[0], (out[1], jnp.zeros((), jnp.int32))

    return wrapped


def solve_ness(
    net,
    route: Callable,
    transpose_route: Callable | None = None,
    *,
    name: str = "NESS",
    failure=RESULTS.not_converged,
    hint: str = "",
    conditioning: bool = False,
):
    """The NESS covariance of a :class:`~jaxqep.GaussianNetwork` by ``route``.

    ``route(A, Γ, B)`` returns ``(X, ok)`` or ``(X, (ok, steps))``; derivatives are
    implicit (:func:`~jaxqep.gaussian._lyapunov.implicit_solve`). A network without NESS
    raises (``RESULTS.no_ness``); a solution whose normwise backward error exceeds
    :data:`~jaxqep.gaussian._lyapunov.RESIDUAL_TOL` raises with ``failure`` (never
    returned as a number). ``conditioning``: the entry points' ill-conditioning check
    (:func:`jaxqep._solution.ill_conditioned`) is made here too, in the same chain (the
    caller marks its result ``conditioning_checked``). Returns ``(C, residual, condition,
    steps)``, all tied to the checks.
    """
    H, gammas, occupations, sc_rates = net.validated()
    A = stability_matrix(H, gammas, sc_rates, hermitian=True)  # validated: exactly Hermitian
    B = -jnp.diag(gammas * occupations).astype(A.dtype)
    tr = None if transpose_route is None else _with_steps(transpose_route)
    X, (ok, steps) = implicit_solve(_with_steps(route), A, sc_rates, B, tr)
    if sc_rates is not None:
        ok = ok & _no_isolated_probes(net, H, gammas, sc_rates)
    C = 0.5 * (X + jnp.conj(X.T))
    # C is exactly Hermitian (½(X + X^†) rounds symmetrically): one matmul, not two.
    residual = jax.lax.stop_gradient(
        relative_residual(A, sc_rates, C, B, hermitian=True,
                          real_h=bool(getattr(net, "real_h", False)),
                          kron=getattr(net, "kron_shape", None))
    )
    condition = condition_estimate(A, sc_rates, C, B)

    def checks(t):
        # In this order (the first failing one is reported); one chain on one proxy of C
        # (each separate check on an L × L array costs a copy of it).
        t = check(t, ~ok, _NO_NESS, RESULTS.no_ness)
        t = check(
            t,
            ok & ~(residual <= RESIDUAL_TOL),
            f"{name}: the NESS covariance does not solve its equation to rounding level "
            f"(normwise backward error above {RESIDUAL_TOL:g}){hint}",
            failure,
        )
        if conditioning:
            t = check(t, ill_conditioned(condition), ILL_CONDITIONED_MESSAGE,
                      RESULTS.ill_conditioned)
        return t

    C, residual, condition = through_proxy((C, residual, condition), checks)
    return C, residual, condition, steps


def ness_covariance(
    H: ArrayLike,
    gammas: ArrayLike,
    occupations: ArrayLike,
    sc_rates: ArrayLike | None = None,
    *,
    method: Method = "auto",
) -> Array:
    """NESS covariance ``C_ij = <a_i† a_j>`` of a network with local and self-consistent baths.

    Solves ``i[Hᵀ, C] - ½{G + Γ, C} + Diag(γ n) + Diag(Γ ∘ diag C) = 0`` exactly, in
    O(L³) (see :func:`jaxqep.gaussian.solve_lyapunov`), with implicit derivatives.  The
    squeezing block ``S_ij = <a_i a_j>`` of the NESS is identically zero (the dissipators
    are phase-insensitive and H conserves excitations), so ``C`` is the whole state.

    Args:
        H: Hermitian ``(L, L)`` matrix of ``H = Σ H_kl a_k† a_l``.
        gammas: ``(L,)`` physical bath rates (0 where a site has no bath).
        occupations: ``(L,)`` bath occupations ``n_k``.
        sc_rates: optional ``(L,)`` (or scalar) rates of self-consistent reservoirs.
        method: ``"auto"``, ``"sign"`` (GPU-friendly) or ``"eig"`` (CPU).

    Returns:
        The Hermitian ``(L, L)`` covariance.  An undamped mode or subspace raises at run
        time (``eqx.error_if``) instead of returning garbage.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import chain_hamiltonian, ness_covariance
        >>> C = ness_covariance(chain_hamiltonian(2, 1.0, 0.5), jnp.array([1., 1.]),
        ...                     jnp.array([1., 1.]))
        >>> round(float(C[0, 0].real), 12)
        1.0
    """
    from .._entry import call
    from ._api import network_solver

    net = GaussianNetwork(H, gammas, occupations, sc_rates)
    return call(_covariance, net, network_solver(method))


def _covariance(net, solver):
    from .._dispatch import implementation
    from ..solvers._auto import Auto

    if isinstance(solver, Auto):
        solver = solver.select(net)
    return implementation("steady_state", net, solver)(net, solver).covariance


class _Validated:
    """Already-validated arrays in the shape of a network (for internal callers)."""

    def __init__(self, H, gammas, occupations, sc_rates):
        self._args = (H, gammas, occupations, sc_rates)

    def validated(self):
        return self._args


def _ness(H, gammas, occupations, sc_rates, method: Method = "auto"):
    """``(C, residual, condition)`` of validated arrays by a 0.1 ``method`` string."""
    from ._lyapunov import resolve_method

    C, residual, condition, _ = solve_ness(
        _Validated(H, gammas, occupations, sc_rates), resolve_method(method)
    )
    return C, residual, condition
