"""Time evolution of reset models and entropy production along trajectories (Sec. 5.1)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
from jaxtyping import Array, ArrayLike

from .. import _validate as val
from ._api import entropy_production
from ._reset import _validate_qrm, reset_steady_state
from ._results import EntropyProduction

__all__ = ["evolve", "entropy_production_trajectory"]


def evolve(
    H: ArrayLike, taus: ArrayLike, gammas: ArrayLike, rho0: ArrayLike, ts: ArrayLike
) -> Array:
    """Exact solution (3.7) of the reset model ``dρ/dt = -i[H, ρ] + Σ γ_j(τ_j tr ρ - ρ)``.

    ``ρ(t) = e^{-Γt} U_t (ρ0 - tr(ρ0) ρ⁺) U_t^† + tr(ρ0) ρ⁺`` with ``U_t = e^{-iHt}``;
    no ODE solver is needed and the result is exact at any ``t``.

    Args:
        H: Hamiltonian ``(d, d)``.
        taus: reset states ``(J, d, d)``.
        gammas: rates ``(J,)``.
        rho0: initial density matrix ``(d, d)``.
        ts: times, shape ``(T,)``.

    Returns:
        States ``ρ(t)``, shape ``(T, d, d)``.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jaxqep.models.single_qubit_hamiltonian(1.0, 0.0)
        >>> tau = jaxqep.models.diagonal_reset_state(0.9)[None]
        >>> rho = jaxqep.qrm.evolve(H, tau, jnp.array([1.0]), jnp.eye(2) / 2, jnp.array([50.0]))
        >>> round(float(rho[0, 0, 0].real), 6)
        0.9
    """
    h, taus, gammas = _validate_qrm(H, taus, gammas)
    d = h.shape[0]
    rho0 = val.density_matrix(rho0, "rho0", d)
    ts = val.finite(val.as_inexact(ts, "ts"), "ts")
    if ts.ndim != 1:
        raise ValueError(f"ts: expected shape (T,), got {ts.shape}")
    dtype = jnp.result_type(h.dtype, taus.dtype, rho0.dtype, jnp.complex64)
    h = h.astype(dtype)
    rate = jnp.sum(gammas)
    t_mix = jnp.einsum("j,jab->ab", gammas.astype(dtype), taus.astype(dtype)) / rate
    rho_inf = reset_steady_state(h, t_mix, rate)
    x0 = rho0.astype(dtype) - jnp.trace(rho0) * rho_inf

    def at(t):
        u = jsl.expm(-1j * t * h)
        return jnp.exp(-rate * t) * (u @ x0 @ jnp.conj(u.T)) + jnp.trace(rho0) * rho_inf

    return jax.vmap(at)(ts.astype(jnp.real(jnp.zeros((), dtype)).dtype))


def entropy_production_trajectory(
    H: ArrayLike,
    taus: ArrayLike,
    gammas: ArrayLike,
    rho0: ArrayLike,
    ts: ArrayLike,
    lambdas: ArrayLike | None = None,
) -> EntropyProduction:
    """``σ(ρ(t)) = Σ_j σ_j(ρ(t))`` along the exact trajectory (eqs. 5.8-5.9 for ``J = 1``).

    Returns an :class:`EntropyProduction` whose fields carry a leading time axis. With one
    reservoir, ``total`` is ``σ_L(ρ(t)) = -d/dt S(ρ(t)|ρ⁺)``. The states must be faithful
    at the requested times (a pure ``ρ0`` at ``t = 0`` has infinite entropy production).
    """
    states = evolve(H, taus, gammas, rho0, ts)
    return jax.vmap(lambda r: entropy_production(H, taus, gammas, lambdas, rho=r))(states)
