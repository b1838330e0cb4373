"""Spohn entropy production of a sum of Lindbladians, for any decomposition."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jaxtyping import Array

from .. import _validate as val
from .._hermitian import hermitian_part, logm_eigh
from .._solution import RESULTS
from .._steady import _check_state, solve_bordered
from .._superop import unvec
from ._results import EntropyProduction

__all__ = [
    "dense_spohn_entropy_production",
    "spohn_parts",
    "spohn_parts_stacked",
    "unique_state_checks",
]


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
    states = jnp.concatenate([jnp.asarray(rho)[None], jnp.asarray(partial_states)], axis=0)
    return spohn_parts_stacked(lindblad_actions, hermitian_part(states))


def spohn_parts_stacked(
    lindblad_actions: Array, states: Array, names: Sequence[str] | None = None
) -> tuple[Array, Array]:
    """:func:`spohn_parts` with ``states = (ρ, ρ_1, ..., ρ_J)`` stacked ``(J + 1, d, d)``.

    The ``J + 1`` logarithms come from one batched ``eigh`` (:func:`logm_eigh`). With
    ``names`` (one per state) the eigenvalues of that same decomposition are checked for
    faithfulness, with the message of ``_validate.faithful``, so no separate
    ``eigvalsh`` is needed. ``states`` must be Hermitian (to rounding).

    Only unitarily invariant quantities are formed, so the states and actions may be
    given in any common orthonormal basis.
    """
    logs, w = logm_eigh(states)
    # The eigenvalues only feed checks: no derivative (a second derivative of a
    # degenerate eigenvalue does not exist, and 0 * NaN would reach σ).
    w = jax.lax.stop_gradient(w)
    tie = None
    if names is not None:
        if len(names) != states.shape[0]:
            raise ValueError(f"names: expected {states.shape[0]} names, got {len(names)}")
        scale = jnp.maximum(jnp.max(jnp.abs(w), axis=-1), 1e-300)
        bad = ~(jnp.min(w, axis=-1) > 1e-14 * scale)
        checked = [
            val.check(
                w[k, :1],
                bad[k],
                f"{name}: is not faithful (it has a zero eigenvalue), so its logarithm "
                "and the entropy production are undefined",
                RESULTS.not_faithful,
            )
            for k, name in enumerate(names)
        ]
        # The checks ride on one eigenvalue each (cheap under vmap) and are tied to the
        # results by an exact factor 1 (NaN only if a check failed, which then raises).
        tie = 1.0 + 0.0 * jnp.sum(jnp.concatenate(checked))
    actions = jnp.asarray(lindblad_actions)
    # tr(A B) = Σ A_ij B_ji
    fluxes = jnp.real(jnp.einsum("jab,jba->j", actions, logs[1:]))
    self_term = jnp.real(jnp.einsum("jab,ba->j", actions, logs[0]))
    if tie is not None:
        fluxes, self_term = fluxes * tie, self_term * tie
    parts = val.check(
        fluxes - self_term,
        ~(jnp.all(jnp.isfinite(fluxes)) & jnp.all(jnp.isfinite(self_term))),
        "entropy production is not finite (a state is singular or the solve broke down)",
        RESULTS.nonfinite,
    )
    return parts, fluxes


def unique_state_checks(states: Array, names: Sequence[str]) -> Array:
    """``_steady._check_state`` for a stack of states known to be Hermitian.

    The check (finite, Frobenius norm at most ``1 + tol``; a larger norm means a
    non-unique steady state) only needs each state's norm: it is run on the norms and
    tied to ``states`` by an exact factor 1, so under ``vmap`` it costs one reduction
    instead of several passes over every matrix. The norms are unitarily invariant, so
    ``states`` may be given in any orthonormal basis.
    """
    norms = jnp.sqrt(jnp.sum(jnp.abs(states) ** 2, axis=(-2, -1)))
    checked = [_check_state(norms[k][None, None], name) for k, name in enumerate(names)]
    tie = 1.0 + 0.0 * jnp.sum(jnp.concatenate([c.reshape(-1) for c in checked]))
    return states * tie


def dense_spohn_entropy_production(
    ls: Array, rho: Array | None = None, total_name: str = "L (sum of the parts)"
) -> EntropyProduction:
    """Spohn entropy production of the parts ``ls`` (validated ``(J, d², d²)``) from one
    batched dense LU for ``L`` and every ``L_j``; at the validated state ``rho`` if given."""
    n = ls.shape[-1]
    d = int(round(n**0.5))
    total_l = jnp.sum(ls, axis=0)
    if rho is None:
        # One batched solve for L and every L_j (one LU call: see CONVENTIONS, known traps).
        systems = jnp.concatenate([total_l[None], ls], axis=0)
        xs, kappas = jax.vmap(lambda m: solve_bordered(m, condition=True))(systems)
        states = unvec(xs, d)
        state = _check_state(states[0], total_name)
        partial = jnp.stack(
            [_check_state(states[j + 1], f"lindbladians[{j}]") for j in range(ls.shape[0])]
        )
        residual = jnp.max(jnp.linalg.norm(jnp.einsum("kab,kb->ka", systems, xs), axis=-1))
    else:
        state = rho
        xs, kappas = jax.vmap(lambda m: solve_bordered(m, condition=True))(ls)
        partial = jnp.stack(
            [_check_state(s, f"lindbladians[{j}]") for j, s in enumerate(unvec(xs, d))]
        )
        residual = jnp.max(jnp.linalg.norm(jnp.einsum("kab,kb->ka", ls, xs), axis=-1))
    state = 0.5 * (state + jnp.conj(state.T))
    partial = 0.5 * (partial + jnp.conj(jnp.swapaxes(partial, -1, -2)))
    actions = unvec(jnp.einsum("kab,b->ka", ls, state.reshape(-1)), d)
    # One eigh for the J + 1 logarithms and the faithfulness checks.
    names = ["steady state of L" if rho is None else "rho"]
    names += [f"steady state of part {j}" for j in range(ls.shape[0])]
    parts, fluxes = spohn_parts_stacked(
        actions, jnp.concatenate([state[None], partial], axis=0), names
    )
    return EntropyProduction(
        total=jnp.sum(parts),
        parts=parts,
        fluxes=fluxes,
        rho=state,
        partial_states=partial,
        residual=residual,
        condition=jnp.max(kappas),
    )
