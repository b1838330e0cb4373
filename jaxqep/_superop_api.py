"""``steady_state_from_superop`` of 0.1, a thin wrapper over :func:`jaxqep.steady_state`."""

from __future__ import annotations

from jaxtyping import ArrayLike

from . import _validate as val
from ._entry import run
from ._solution import SteadyStateSolution
from ._superop_model import SuperoperatorModel
from .solvers import DenseLU

__all__ = ["steady_state_from_superop", "SteadyState"]

SteadyState = SteadyStateSolution


def steady_state_from_superop(lmat: ArrayLike, *, name: str = "L") -> SteadyStateSolution:
    """Unique steady state of a Lindbladian given as a ``(d², d²)`` matrix.

    Same as ``jaxqep.steady_state(jaxqep.SuperoperatorModel(lmat), jaxqep.solvers.DenseLU())``.

    Args:
        lmat: the Lindbladian in row-major vectorisation.
        name: label used in error messages.

    Returns:
        :class:`jaxqep.SteadyStateSolution` with ``rho`` (Hermitised), ``residual``
        ``‖L ρ‖`` and ``condition`` (also in ``stats``).

    Raises:
        ValueError: if ``lmat`` is not square of size ``d²``, or (eagerly) if the steady
            state is not unique; under ``jit`` the latter is an
            ``equinox.EquinoxRuntimeError`` with the same message.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> tau = jnp.diag(jnp.array([0.8, 0.2]))
        >>> L = jaxqep.superop.reset_dissipator(tau)
        >>> jaxqep.steady_state_from_superop(L).rho.real.diagonal()
        Array([0.8, 0.2], dtype=float64)
    """
    arr = val.as_inexact(lmat, name)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square (d², d²) matrix, got shape {arr.shape}")
    return run("steady_state", SuperoperatorModel(arr, name=name), DenseLU(), True)
