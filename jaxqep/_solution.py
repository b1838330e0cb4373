"""Outcome codes and result types shared by every entry point.

Every entry point (:func:`jaxqep.steady_state`, :func:`jaxqep.entropy_production`, ...)
returns an ``eqx.Module`` whose ``result`` is a :class:`RESULTS` item and whose ``stats``
is a :class:`Stats`. With ``throw=True`` (the default) a failure raises instead, with a
message naming the failing part and, under ``vmap``, the first failing batch element;
with ``throw=False`` nothing raises and ``result`` says what went wrong, element by
element under ``vmap`` (sweeps record failed points this way).

Example:
    >>> import jax.numpy as jnp, jaxqep
    >>> L = jnp.zeros((4, 4))                      # every state is stationary
    >>> sol = jaxqep.steady_state(L, throw=False)
    >>> sol.result == jaxqep.RESULTS.non_unique
    Array(True, dtype=bool)
    >>> print(jaxqep.RESULTS[sol.result].split(".")[0])
    the steady state is not unique
"""

from __future__ import annotations

import equinox as eqx
import equinox.internal as eqxi
import jax
import jax.numpy as jnp
from jaxtyping import Array

__all__ = [
    "RESULTS",
    "Stats",
    "AbstractStatsResult",
    "SteadyStateSolution",
    "ILL_CONDITIONED_THRESHOLD",
    "ILL_CONDITIONED_MESSAGE",
    "ill_conditioned",
]

# κ · eps above this makes the answer meaningless (relative error ~ κ · eps).
ILL_CONDITIONED_THRESHOLD = 1e-3

ILL_CONDITIONED_MESSAGE = (
    "the solve is too ill-conditioned for its answer to mean anything: its condition "
    f"estimate times the machine epsilon exceeds {ILL_CONDITIONED_THRESHOLD:g} "
    "(stats.condition; near-singular regimes: λ -> 0 or 1, g -> 0, a nearly degenerate "
    "kernel, weakly damped modes)"
)


def ill_conditioned(condition: Array) -> Array:
    """Whether a (finite) condition estimate makes the answer meaningless."""
    cond = jax.lax.stop_gradient(jnp.real(condition))
    eps = jnp.finfo(cond.dtype).eps
    return jnp.isfinite(cond) & (cond * eps > ILL_CONDITIONED_THRESHOLD)


class RESULTS(eqxi.Enumeration):
    """Outcome of a solve (``result`` of every jaxqep result).

    ``RESULTS[code]`` is the human-readable message; compare codes with ``==``.
    """

    successful = ""
    non_unique = (
        "the steady state is not unique. The Lindbladian's kernel has dimension > 1 (a "
        "decoherence-free subspace, a conserved quantity, a part acting on one end only), "
        "or is numerically so close to it that the solve is meaningless"
    )
    not_faithful = (
        "a state whose logarithm is needed is not faithful. It has a zero eigenvalue, so "
        "the entropy production is undefined"
    )
    no_ness = (
        "the Gaussian network has no non-equilibrium steady state. A mode or subspace is "
        "undamped (not connected to any bath)"
    )
    not_converged = (
        "the iterative solve did not converge. Raise max_steps or restart, loosen the "
        "tolerances, or use a direct solver"
    )
    hypothesis_failed = (
        "a hypothesis of the perturbation theory fails. See the message raised with "
        "throw=True for the condition and the seed's equation"
    )
    ill_conditioned = (
        "the solve is too ill-conditioned for its answer to mean anything. The condition "
        "estimate times the machine epsilon exceeds 1e-3; see stats.condition"
    )
    nonfinite = "the result contains NaN or inf"


class Stats(eqx.Module):
    """Numerical health of a solve.

    Attributes:
        residual: ``‖L(ρ)‖_F`` of the steady state(s) solved for (largest over them), or
            the relative residual of the NESS equation for Gaussian networks.
        condition: condition estimate of the solve (1-norm, Hager's estimator on the LU
            factors for dense solves; exact for closed forms); the relative error of a
            state is about ``condition · eps``. ``nan`` where it is not estimated
            (matrix-free solves).
        iterations: iterations of an iterative solver (``0`` for direct solves).
    """

    residual: Array
    condition: Array
    iterations: Array


def make_stats(residual, condition=None, iterations=None) -> Stats:
    """:class:`Stats` with ``nan`` condition and ``0`` iterations by default."""
    residual = jnp.asarray(residual)
    rdt = jnp.real(residual).dtype
    cond = jnp.asarray(jnp.nan, rdt) if condition is None else jnp.asarray(condition)
    its = jnp.asarray(0, jnp.int32) if iterations is None else jnp.asarray(iterations)
    return Stats(residual=jnp.real(residual), condition=jnp.real(cond), iterations=its)


class AbstractStatsResult(eqx.Module):
    """A result carrying :class:`Stats`; ``residual`` and ``condition`` read through to it."""

    stats: eqx.AbstractVar[Stats]

    @property
    def residual(self) -> Array:
        """``stats.residual``."""
        return self.stats.residual

    @property
    def condition(self) -> Array:
        """``stats.condition``."""
        return self.stats.condition


class SteadyStateSolution(AbstractStatsResult):
    """The steady state of a problem (returned by :func:`jaxqep.steady_state`).

    Attributes:
        rho: the density matrix, shape ``(d, d)`` (Hermitian, unit trace).
        result: a :class:`RESULTS` item (``RESULTS.successful`` unless ``throw=False``
            and the solve failed).
        stats: :class:`Stats` (``residual``, ``condition``, ``iterations``).
    """

    rho: Array
    result: RESULTS
    stats: Stats
