"""Tripartite reset models A-C-B (seed 004, Secs. 6-8): validation, the dense and reduced
routes on validated arrays, and the Spohn parts from the three steady states.

``L_g = L^A_{λg} + L^B_{(1-λ)g}`` with ``L^A = -igλ[H, ·] + D_A`` and
``L^B = -ig(1-λ)[H, ·] + D_B``, ``D_A(ρ) = γ_A(τ_A ⊗ tr_A ρ - ρ)``,
``D_B(ρ) = γ_B(tr_B ρ ⊗ τ_B - ρ)``. The three steady states ``ρ⁺_g, ρ^A, ρ^B`` come
from *one* batched, implicitly differentiated LU solve of the bordered systems.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jaxtyping import Array

from .. import _validate as val
from .._hermitian import hermitian_part
from .._steady import _check_state, solve_bordered
from .._superop import (
    apply_reset_A,
    apply_reset_B,
    hamiltonian_superop,
    tripartite_reset_A,
    tripartite_reset_B,
    unvec,
)
from ._reduced import tripartite_reduced_eig
from ._results import EntropyProduction
from ._spohn import spohn_parts_stacked, unique_state_checks

__all__ = [
    "dense_tripartite_entropy_production",
    "reduced_tripartite_entropy_production",
    "tripartite_lindbladians",
    "validate_tripartite",
    "validate_coupling",
    "tripartite_result",
]

_FAITHFUL_NAMES = ("steady state ρ⁺_g", "steady state ρ^A", "steady state ρ^B")


def validate_tripartite(H, tau_A, tau_B, gamma_A, gamma_B, dims):
    h = val.hermitian(H, "H")
    d = h.shape[0]
    dims = val.dims3(dims, d)
    na, nc, nb = dims
    tau_a = val.density_matrix(tau_A, "tau_A", na)
    tau_b = val.density_matrix(tau_B, "tau_B", nb)
    if na < 2 or nb < 2:
        raise ValueError(
            f"dims: n_A and n_B must be at least 2, got {dims} (a reset on a one-dimensional "
            "factor is the identity map, so the partial steady states would not be unique)"
        )
    gamma_a = val.positive(val.real_scalar(gamma_A, "gamma_A"), "gamma_A")
    gamma_b = val.positive(val.real_scalar(gamma_B, "gamma_B"), "gamma_B")
    return h, tau_a, tau_b, gamma_a, gamma_b, dims


def validate_coupling(g, lam):
    g = val.nonzero_scalar(g, "g")
    lam = val.real_scalar(lam, "lam")
    lam = val.check(
        lam,
        (jnp.abs(lam) < 1e-12) | (jnp.abs(lam - 1.0) < 1e-12),
        "lam: must not be 0 or 1 (one partial Lindbladian would act on one end only "
        "and its steady state would not be unique, seed 004 Sec. 7)",
    )
    return g, lam


def tripartite_lindbladians(
    h: Array,
    tau_a: Array,
    tau_b: Array,
    gamma_a: Array,
    gamma_b: Array,
    dims: Sequence[int],
    g: Array,
    lam: Array,
) -> Array:
    """Stack ``(L^A_{λg}, L^B_{(1-λ)g})`` as ``(2, d², d²)`` matrices (no validation)."""
    dtype = jnp.result_type(h.dtype, tau_a.dtype, tau_b.dtype, jnp.complex64)
    ham = hamiltonian_superop(h.astype(dtype))
    la = g * lam * ham + tripartite_reset_A(tau_a.astype(dtype), dims, gamma_a)
    lb = g * (1.0 - lam) * ham + tripartite_reset_B(tau_b.astype(dtype), dims, gamma_b)
    return jnp.stack([la, lb])


def dense_tripartite_entropy_production(h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam):
    """Dense route: the three bordered ``d² x d²`` systems in one batched LU (validated
    arrays; used by :class:`jaxqep.solvers.DenseLU`)."""
    d = h.shape[0]
    names = ("L_g (total)", "L^A (part A)", "L^B (part B)")
    parts_l = tripartite_lindbladians(h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam)
    systems = jnp.concatenate([jnp.sum(parts_l, axis=0)[None], parts_l], axis=0)
    # One batched LU for the three systems (see CONVENTIONS, known traps).
    xs, kappas = jax.vmap(lambda m: solve_bordered(m, condition=True))(systems)
    states = unvec(xs, d)
    states = jnp.stack([_check_state(states[k], names[k]) for k in range(3)])
    return tripartite_result(
        h,
        tau_a,
        tau_b,
        gamma_a,
        gamma_b,
        dims,
        g,
        lam,
        states[0],
        states[1:],
        condition=jnp.max(kappas),
    )


def _weak_coupling_condition(h, gamma_a, gamma_b, g, lam) -> Array:
    """``(γ/(|g λ_j| spread(H)))²`` for the weaker part: how the conditioning of the
    tripartite steady-state problem grows at weak coupling (each part's kernel becomes
    the whole ``τ ⊗ B(H_C ⊗ H_B)`` space as its coupling vanishes, seed 004 Sec. 7;
    Hager's estimate in ``condition`` follows it within a factor ~50 from g = 1e-8 to
    1e-2 on the three-qubit chain). Free, unlike Hager's estimator on a batch."""
    w = jax.lax.stop_gradient(jnp.linalg.eigvalsh(h))
    spread = jnp.maximum(w[-1] - w[0], jnp.finfo(w.dtype).tiny)
    c = jax.lax.stop_gradient(
        jnp.minimum(
            jnp.abs(g * lam) * spread / gamma_a, jnp.abs(g * (1.0 - lam)) * spread / gamma_b
        )
    )
    return jnp.maximum(1.0, 1.0 / c**2)


def reduced_tripartite_entropy_production(h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam):
    """Reduced route (validated arrays; used by :class:`jaxqep.solvers.Reduced`).

    States and actions in the eigenbasis of H, where the Spohn traces (unitarily
    invariant) are evaluated directly; the rotation back to the original basis is only
    computed if ρ or the partial states are used.
    """
    names = ("L_g (total)", "L^A (part A)", "L^B (part B)")
    red = tripartite_reduced_eig(h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam)
    states = unique_state_checks(red.states, names)
    parts, fluxes = spohn_parts_stacked(red.actions, states, _FAITHFUL_NAMES)
    u = red.u
    rotated = hermitian_part(u @ states @ jnp.conj(u.T))
    return EntropyProduction(
        total=jnp.sum(parts),
        parts=parts,
        fluxes=fluxes,
        rho=rotated[0],
        partial_states=rotated[1:],
        residual=red.residual,
        condition=red.condition,
        condition_indicator=_weak_coupling_condition(h, gamma_a, gamma_b, g, lam),
    )


def tripartite_result(
    h: Array,
    tau_a: Array,
    tau_b: Array,
    gamma_a: Array,
    gamma_b: Array,
    dims: Sequence[int],
    g: Array,
    lam: Array,
    rho: Array,
    partial: Array,
    residual: Array | None = None,
    condition: Array | None = None,
) -> EntropyProduction:
    """Spohn parts and fluxes from the steady states ``ρ⁺_g`` and ``(ρ^A, ρ^B)``.

    Shared by every solver route. ``residual`` defaults to the largest
    ``‖L_k(ρ_k)‖_F`` recomputed here from the states; ``condition`` (of the solves that
    produced them) to ``nan`` (not estimated, e.g. by the matrix-free route).
    """
    rho = hermitian_part(rho)
    partial = hermitian_part(partial)
    dtype = rho.dtype
    hc = h.astype(dtype)
    tau_a = tau_a.astype(dtype)
    tau_b = tau_b.astype(dtype)

    def actions(x):
        comm = -1j * (hc @ x - x @ hc)
        act_a = g * lam * comm + gamma_a * apply_reset_A(x, tau_a, dims)
        act_b = g * (1.0 - lam) * comm + gamma_b * apply_reset_B(x, tau_b, dims)
        return act_a, act_b

    act_a, act_b = actions(rho)
    if residual is None:
        residual = jnp.max(
            jnp.stack(
                [
                    jnp.linalg.norm(act_a + act_b),
                    jnp.linalg.norm(actions(partial[0])[0]),
                    jnp.linalg.norm(actions(partial[1])[1]),
                ]
            )
        )
    # One eigh for the three logarithms and the faithfulness checks.
    parts, fluxes = spohn_parts_stacked(
        jnp.stack([act_a, act_b]), jnp.concatenate([rho[None], partial], axis=0), _FAITHFUL_NAMES
    )
    return EntropyProduction(
        total=jnp.sum(parts),
        parts=parts,
        fluxes=fluxes,
        rho=rho,
        partial_states=partial,
        residual=residual,
        condition=jnp.asarray(jnp.nan) if condition is None else condition,
    )
