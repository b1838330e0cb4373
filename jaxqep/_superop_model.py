"""A Lindbladian (or a decomposition ``L = Σ_j L_j``) given as superoperator matrices."""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from . import _validate as val
from ._problem import AbstractProblem

__all__ = ["SuperoperatorModel"]


class SuperoperatorModel(AbstractProblem):
    """A Lindbladian given as a matrix, or a decomposition into parts given as matrices.

    Row-major vectorisation (``vec(X) = X.reshape(-1)``; build matrices with
    :mod:`jaxqep.superop`). The steady state is that of ``L = Σ_j L_j``; the Spohn entropy
    production needs every part to have a unique, faithful steady state.

    Args:
        lindbladians: one ``(d², d²)`` matrix, a stack ``(J, d², d²)``, or a sequence of
            ``(d², d²)`` matrices.
        name: label of the operator in error messages.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> tau = jnp.diag(jnp.array([0.8, 0.2]))
        >>> L = jaxqep.superop.reset_dissipator(tau)
        >>> jaxqep.steady_state(jaxqep.SuperoperatorModel(L)).rho.real.diagonal()
        Array([0.8, 0.2], dtype=float64)
    """

    parts: Array
    single: bool = eqx.field(static=True)
    name: str = eqx.field(static=True)

    def __init__(self, lindbladians: ArrayLike | Sequence[ArrayLike], name: str = "L"):
        if isinstance(lindbladians, (list, tuple)):
            ls = jnp.stack(
                [val.as_inexact(x, f"lindbladians[{j}]") for j, x in enumerate(lindbladians)]
            )
            single = False
        else:
            ls = val.as_inexact(lindbladians, name)  # pyright: ignore[reportArgumentType]
            single = ls.ndim == 2
            if single:
                ls = ls[None]
        if ls.ndim != 3 or ls.shape[-1] != ls.shape[-2]:
            if single or ls.ndim == 2:
                raise ValueError(f"{name} must be a square (d², d²) matrix, got shape {ls.shape}")
            raise ValueError(f"lindbladians: expected shape (J, d², d²), got {ls.shape}")
        n = ls.shape[-1]
        d = int(round(n**0.5))
        if d * d != n:
            if single:
                raise ValueError(f"{name} has size {n}, which is not d² for an integer d")
            raise ValueError(f"lindbladians: size {n} is not d² for an integer d")
        with val.deferred_checks() as checks:
            self.parts = val.finite(
                ls.astype(jnp.result_type(ls.dtype, jnp.complex64)),
                name if single else "lindbladians",
            )
        self._store_checks(checks)
        self.single = single
        self.name = name

    @property
    def d(self) -> int:
        """Dimension of the Hilbert space."""
        return int(round(self.parts.shape[-1] ** 0.5))

    def matrix(self) -> Array:
        """``L = Σ_j L_j``."""
        return jnp.sum(self.parts, axis=0)

    def superoperators(self) -> Array:
        """The parts, ``(J, d², d²)``."""
        return self.parts

    def apply_parts(self, rho: Array) -> Array:
        """``(L_1(ρ), ..., L_J(ρ))``, ``(J, d, d)``."""
        d = self.d
        x = rho.astype(self.parts.dtype).reshape(-1)
        return jnp.einsum("kab,b->ka", self.parts, x).reshape(-1, d, d)

    def default_solver(self):
        from .solvers import DenseLU

        return DenseLU()
