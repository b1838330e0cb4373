"""Spohn entropy production of a sum of Lindbladians, for any decomposition."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import _validate as val
from .._hermitian import logm_h
from .._steady import _check_state, solve_bordered
from .._superop import unvec
from ._results import EntropyProduction

__all__ = ["spohn_entropy_production", "spohn_parts"]


def spohn_parts(lindblad_actions: Array, rho: Array, partial_states: Array) -> tuple[Array, Array]:
    """``σ_j`` and ``φ_j`` from the actions ``L_j(ρ)`` and the partial steady states.

    Args:
        lindblad_actions: ``L_j(ρ)`` for each part, stacked ``(J, d, d)``.
        rho: the state (faithful).
        partial_states: ``ρ_j`` (faithful), ``(J, d, d)``.

    Returns:
        ``(parts, fluxes)`` with ``parts_j = tr(L_j(ρ)(ln ρ_j - ln ρ))`` and
        ``fluxes_j = tr(L_j(ρ) ln ρ_j)``.
    """
    log_rho = logm_h(rho)
    log_parts = jax.vmap(logm_h)(partial_states)
    actions = jnp.asarray(lindblad_actions)
    # tr(A B) = Σ A_ij B_ji
    fluxes = jnp.real(jnp.einsum("jab,jba->j", actions, log_parts))
    self_term = jnp.real(jnp.einsum("jab,ba->j", actions, log_rho))
    parts = val.check(
        fluxes - self_term,
        ~(jnp.all(jnp.isfinite(fluxes)) & jnp.all(jnp.isfinite(self_term))),
        "entropy production is not finite (a state is singular or the solve broke down)",
    )
    return parts, fluxes


def spohn_entropy_production(
    lindbladians: ArrayLike | Sequence[ArrayLike], rho: ArrayLike | None = None
) -> EntropyProduction:
    """Entropy production of ``L = Σ_j L_j`` for Lindbladians given as matrices.

    Every ``L_j`` must have a unique, faithful steady state ``ρ_j``; so must ``L`` when
    ``rho`` is not given. All steady states are obtained by one batched, implicitly
    differentiated dense solve.

    Args:
        lindbladians: stack ``(J, d², d²)`` (or a sequence) of Lindbladian matrices in
            row-major vectorisation (build them with :mod:`jaxqep.superop`).
        rho: the state at which to evaluate ``σ_j(ρ)`` (eq. 2.10); defaults to the steady
            state of ``L``.

    Returns:
        :class:`EntropyProduction`.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> from jaxqep import superop
        >>> H = jnp.array([[0.0, 0.35], [0.35, 1.0]])
        >>> taus = [jnp.diag(jnp.array([0.9, 0.1])), jnp.diag(jnp.array([0.3, 0.7]))]
        >>> Ls = [superop.hamiltonian_superop(0.5 * H) + superop.reset_dissipator(t) for t in taus]
        >>> ep = jaxqep.qrm.spohn_entropy_production(jnp.stack(Ls))
        >>> bool(ep.total > 0)
        True
    """
    if isinstance(lindbladians, (list, tuple)):
        ls = jnp.stack(
            [val.as_inexact(x, f"lindbladians[{j}]") for j, x in enumerate(lindbladians)]
        )
    else:
        ls = val.as_inexact(lindbladians, "lindbladians")  # pyright: ignore[reportArgumentType]
    if ls.ndim != 3 or ls.shape[-1] != ls.shape[-2]:
        raise ValueError(f"lindbladians: expected shape (J, d², d²), got {ls.shape}")
    n = ls.shape[-1]
    d = int(round(n**0.5))
    if d * d != n:
        raise ValueError(f"lindbladians: size {n} is not d² for an integer d")
    ls = val.finite(ls.astype(jnp.result_type(ls.dtype, jnp.complex64)), "lindbladians")
    total_l = jnp.sum(ls, axis=0)
    if rho is None:
        # One batched solve for L and every L_j (one LU call: see CONVENTIONS, known traps).
        systems = jnp.concatenate([total_l[None], ls], axis=0)
        xs = jax.vmap(solve_bordered)(systems)
        states = unvec(xs, d)
        state = _check_state(states[0], "L (sum of the parts)")
        partial = jnp.stack(
            [_check_state(states[j + 1], f"lindbladians[{j}]") for j in range(ls.shape[0])]
        )
        residual = jnp.max(jnp.linalg.norm(jnp.einsum("kab,kb->ka", systems, xs), axis=-1))
    else:
        state = val.density_matrix(rho, "rho", d)
        xs = jax.vmap(solve_bordered)(ls)
        partial = jnp.stack(
            [_check_state(s, f"lindbladians[{j}]") for j, s in enumerate(unvec(xs, d))]
        )
        residual = jnp.max(jnp.linalg.norm(jnp.einsum("kab,kb->ka", ls, xs), axis=-1))
    state = 0.5 * (state + jnp.conj(state.T))
    partial = 0.5 * (partial + jnp.conj(jnp.swapaxes(partial, -1, -2)))
    state = val.faithful(state, "steady state of L" if rho is None else "rho")
    partial = jnp.stack(
        [val.faithful(partial[j], f"steady state of part {j}") for j in range(ls.shape[0])]
    )
    actions = unvec(jnp.einsum("kab,b->ka", ls, state.reshape(-1)), d)
    parts, fluxes = spohn_parts(actions, state, partial)
    return EntropyProduction(
        total=jnp.sum(parts),
        parts=parts,
        fluxes=fluxes,
        rho=state,
        partial_states=partial,
        residual=residual,
    )
