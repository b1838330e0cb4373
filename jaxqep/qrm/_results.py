"""Result containers of the reset-model entry points (pytrees: jit/vmap/grad friendly)."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._solution import RESULTS, Stats, make_stats


class EntropyProduction(eqx.Module):
    """Spohn entropy production of a decomposition ``L = Σ_j L_j`` (seed 004, eqs. 2.10-2.13).

    Attributes:
        total: ``σ = Σ_j σ_j``.
        parts: ``σ_j(ρ) = tr(L_j(ρ)(ln ρ_j - ln ρ)) ≥ 0``, shape ``(J,)``.
        fluxes: entropy flux *into* reservoir ``j``, ``φ_j(ρ) = tr(L_j(ρ) ln ρ_j)``,
            shape ``(J,)`` (eq. 2.13 and 8.26 of seed 004). The entropy balance reads
            ``dS/dt = σ - Σ_j φ_j``; at the steady state ``Σ_j φ_j = σ``.
        rho: the state at which everything is evaluated (the steady state ``ρ⁺`` of ``L``
            unless a state was given), shape ``(d, d)``.
        partial_states: the steady states ``ρ_j`` of the parts, shape ``(J, d, d)``.
        residual: largest ``‖L_k(ρ_k)‖_F`` over the steady states solved for (0 for
            closed forms up to rounding); a health indicator, see the README.
        condition: condition estimate of the solves behind the states (largest over
            them; 1-norm, Hager's estimator for LU solves, exact for the closed form of
            :func:`~jaxqep.qrm.entropy_production`). Relative errors of the states are
            about ``condition · eps``; it grows like ``1/(λ g)²`` as a part's coupling
            vanishes. ``nan`` where a route does not estimate it (matrix-free solves,
            which report ``iterations`` and their residual instead).
        iterations: iterations of an iterative solver (largest over its solves; ``0``
            for direct solves and closed forms).
        condition_indicator: a free estimate of how the condition number scales (the
            reduced route: ``(γ/(|gλ_j| spread H))²`` of its weaker part), used by the
            entry points' ill-conditioning check instead of ``condition``, whose Hager
            estimate would cost a batch ~40 % more; ``None`` elsewhere.
        result: a :class:`jaxqep.RESULTS` item (``successful`` unless the entry point ran
            with ``throw=False`` and a solve failed).
    """

    total: Array
    parts: Array
    fluxes: Array
    rho: Array
    partial_states: Array
    residual: Array
    condition: Array | None = None
    iterations: Array = eqx.field(default_factory=lambda: np.zeros((), np.int32))
    condition_indicator: Array | None = None
    result: RESULTS = eqx.field(default_factory=lambda: RESULTS.successful)

    @property
    def stats(self) -> Stats:
        """:class:`jaxqep.Stats` (``residual``, ``condition``, ``iterations``)."""
        return make_stats(self.residual, self.condition, jnp.asarray(self.iterations))
