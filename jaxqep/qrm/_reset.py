"""Quantum reset models on a single space (seed 004, Secs. 3-5).

``L(ρ) = -i[H, ρ] + Σ_j γ_j (τ_j tr ρ - ρ) = -i[H, ρ] + Γ (T tr ρ - ρ)`` with
``Γ = Σ γ_j`` and ``T = Σ γ_j τ_j / Γ``. Its steady state is the closed form (3.8)/(3.9)

    ρ⁺ = (i[H/Γ, ·] + 1)^{-1}(T),   ρ⁺_mn = T_mn / (1 + i(e_m - e_n)/Γ)

in the eigenbasis of ``H``: one ``eigh``, O(d³), no ``d² x d²`` solve.

Derivative rule. Differentiating ``ρ + i[K, ρ] = T`` (``K = H/Γ``) gives
``dρ = ρ_K(dT - i[dK, ρ])``: the tangent is the same closed-form map applied to a new
right-hand side. It is attached as the JVP rule of an eigenbasis-multiplier primitive
(:func:`jaxqep._hermitian.commutator_resolvent`) so that no derivative of ``eigh`` is
ever taken, at any order (JAX's would be NaN when ``H`` has a degenerate spectrum).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import _validate as val
from .._hermitian import commutator_resolvent
from ._results import EntropyProduction
from ._spohn import spohn_parts

__all__ = [
    "reset_steady_state",
    "qrm_lindbladian_action",
    "closed_form_entropy_production",
    "validate_lambdas",
]


def _resolvent_map(k: Array, t: Array) -> Array:
    """``(i[K, ·] + 1)^{-1}(T)``, differentiable to any order (finite at degenerate ``K``).

    The eigenbasis multiplier of :func:`jaxqep._hermitian.commutator_resolvent` carries
    the rule ``dρ = ρ_K(dT - i[dK, ρ])``, itself expressed by the same map, so
    ``jax.hessian`` and higher derivatives never differentiate ``eigh``.
    """
    return commutator_resolvent(k, t)


def reset_steady_state(h: ArrayLike, t: ArrayLike, rate: ArrayLike) -> Array:
    """Closed-form steady state of ``-i[H, ·] + Γ (T tr(·) - ·)`` (seed 004, eq. 3.8).

    Args:
        h: Hermitian ``(d, d)`` Hamiltonian.
        t: reset state ``T`` (a density matrix).
        rate: total rate ``Γ > 0``.

    Returns:
        ``ρ⁺ = Γ (i[H, ·] + Γ)^{-1}(T)``.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jnp.array([[0.0, 0.35], [0.35, 1.0]])
        >>> rho = jaxqep.qrm.reset_steady_state(H, jnp.diag(jnp.array([0.9, 0.1])), 1.0)
        >>> round(float(jnp.trace(rho).real), 12)
        1.0
    """
    h = jnp.asarray(h)
    k = h / rate
    k = k.astype(jnp.result_type(k.dtype, jnp.complex64))
    rho = _resolvent_map(k, jnp.asarray(t).astype(k.dtype))
    return 0.5 * (rho + jnp.conj(rho.T))


def qrm_lindbladian_action(h: Array, taus: Array, gammas: Array, rho: Array) -> Array:
    """``L(ρ) = -i[H, ρ] + Σ_j γ_j (τ_j tr ρ - ρ)``."""
    tr = jnp.trace(rho)
    diss = jnp.einsum("j,jab->ab", gammas.astype(rho.dtype), taus * tr - rho[None])
    return -1j * (h @ rho - rho @ h) + diss


def _validate_qrm(h, taus, gammas):
    taus = val.density_stack(taus, "taus")
    nres, d, _ = taus.shape
    h = val.hermitian(h, "H", d)
    gammas = val.as_inexact(gammas, "gammas")
    if gammas.shape != (nres,):
        raise ValueError(f"gammas: expected shape ({nres},) to match taus, got {gammas.shape}")
    gammas = val.positive(gammas, "gammas")
    return h, taus, gammas


def validate_lambdas(lambdas, gammas: Array, nres: int) -> Array:
    """``λ`` (real, shape ``(J,)``, summing to 1); ``None`` means ``λ_j = γ_j / Γ``."""
    if lambdas is None:
        return gammas / jnp.sum(gammas)
    lam = val.as_inexact(lambdas, "lambdas")
    if jnp.iscomplexobj(lam):
        raise TypeError(f"lambdas: must be real, got dtype {lam.dtype}")
    if lam.shape != (nres,):
        raise ValueError(f"lambdas: expected shape ({nres},), got {lam.shape}")
    lam = val.finite(lam, "lambdas")
    return val.check(lam, jnp.abs(jnp.sum(lam) - 1.0) > 1e-10, "lambdas: must sum to 1")


def closed_form_entropy_production(
    h: Array, taus: Array, gammas: Array, lam: Array, rho: Array | None = None
) -> EntropyProduction:
    """Spohn entropy production of an affinely split reset model from the closed forms.

    Takes validated arrays (``jaxqep.ResetModel`` validates); ``rho``: a validated state
    at which to evaluate ``σ_j(ρ)`` instead of the steady state.
    """
    nres, d, _ = taus.shape
    dtype = jnp.result_type(h.dtype, taus.dtype, gammas.dtype, jnp.complex64)
    h = h.astype(dtype)
    taus = taus.astype(dtype)
    total_rate = jnp.sum(gammas)
    t_mix = jnp.einsum("j,jab->ab", gammas.astype(dtype), taus) / total_rate
    partial = jax.vmap(lambda lj, gj, tj: reset_steady_state(lj * h, tj, gj))(lam, gammas, taus)
    if rho is None:
        state = reset_steady_state(h, t_mix, total_rate)
        state = val.faithful(state, "steady state ρ⁺")
    else:
        state = val.faithful(rho.astype(dtype), "rho")
    partial = jnp.stack(
        [val.faithful(partial[j], f"steady state of part {j}") for j in range(nres)]
    )
    tr = jnp.trace(state)

    def action(lj, gj, tj):
        return -1j * lj * (h @ state - state @ h) + gj * (tj * tr - state)

    actions = jax.vmap(action)(lam.astype(dtype), gammas.astype(dtype), taus)
    parts, fluxes = spohn_parts(actions, state, partial)

    def part_residual(lj, gj, tj, pj):
        return jnp.linalg.norm(-1j * lj * (h @ pj - pj @ h) + gj * (tj - pj))

    res_parts = jax.vmap(part_residual)(lam.astype(dtype), gammas.astype(dtype), taus, partial)
    res_total = (
        jnp.linalg.norm(qrm_lindbladian_action(h, taus, gammas, state)) if rho is None else 0.0
    )
    residual = jnp.maximum(jnp.max(res_parts), res_total)
    # No solve: in H's eigenbasis the closed form divides T_mn by 1 + i c (e_m - e_n)/γ,
    # so the map T -> ρ is conditioned by max |1 + i c Δ/γ| (its smallest modulus is 1).
    w = jax.lax.stop_gradient(jnp.linalg.eigvalsh(h))
    ratios = jnp.concatenate([jnp.abs(lam) / gammas, (1.0 / total_rate)[None]])
    condition = jnp.sqrt(1.0 + (jax.lax.stop_gradient(jnp.max(ratios)) * (w[-1] - w[0])) ** 2)
    return EntropyProduction(
        total=jnp.sum(parts),
        parts=parts,
        fluxes=fluxes,
        rho=state,
        partial_states=partial,
        residual=residual,
        condition=condition,
    )
