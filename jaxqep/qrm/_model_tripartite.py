"""The tripartite reset model A-C-B as a problem object."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .. import _validate as val
from .._problem import AbstractProblem, StaticPattern
from .._superop import apply_reset_A, apply_reset_B
from ._tripartite import tripartite_lindbladians, validate_coupling, validate_tripartite

__all__ = ["TripartiteResetModel", "AUTO_MAX_REDUCED"]

# Largest d for which Auto uses the reduced direct solve (its LU has (n_C n_B)² +
# (n_A n_C)² unknowns); above it the matrix-free Krylov route is used.
AUTO_MAX_REDUCED = 32


def _concrete_pattern(h) -> StaticPattern | None:
    try:
        a = np.asarray(h)
    except Exception:  # a tracer: no static structure
        return None
    return StaticPattern(a != 0)


class TripartiteResetModel(AbstractProblem):
    """A tripartite reset model ``H_A ⊗ H_C ⊗ H_B`` (seed 004, Secs. 6-8).

    ``L_g = L^A_{λg} + L^B_{(1-λ)g}`` with ``L^A = -igλ[H, ·] + γ_A(τ_A ⊗ tr_A(·) - ·)``
    and ``L^B = -ig(1-λ)[H, ·] + γ_B(tr_B(·) ⊗ τ_B - ·)``; parts are ordered ``(A, B)``.

    Validated at construction; ``dims`` is static. When ``H`` is concrete at construction
    and ``d > 32`` its non-zero pattern is kept as static structure (sparse products and
    conserved sectors of the matrix-free solver, also under ``jit``).

    Args:
        H: Hermitian coupling Hamiltonian, ``(d, d)`` with ``d = n_A n_C n_B``.
        tau_A: reset state on ``H_A``, ``(n_A, n_A)``.
        tau_B: reset state on ``H_B``, ``(n_B, n_B)``.
        gamma_A: reset rate of A (real, > 0).
        gamma_B: reset rate of B (real, > 0).
        dims: ``(n_A, n_C, n_B)``, Python ints, ``n_A, n_B >= 2``.
        g: coupling constant (real, non-zero).
        lam: splitting ``λ`` (real, not 0 or 1).

    Example:
        >>> import jaxqep
        >>> H = jaxqep.models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
        >>> tA = jaxqep.models.diagonal_reset_state(0.95)
        >>> tB = jaxqep.models.diagonal_reset_state(0.6)
        >>> model = jaxqep.TripartiteResetModel(H, tA, tB, 0.7, 0.6, (2, 2, 2), g=0.1, lam=0.3)
        >>> ep = jaxqep.entropy_production(model)
        >>> bool(ep.total > 0), ep.parts.shape
        (True, (2,))
    """

    H: Array
    tau_A: Array
    tau_B: Array
    gamma_A: Array
    gamma_B: Array
    g: Array
    lam: Array
    dims: tuple[int, int, int] = eqx.field(static=True)
    pattern: StaticPattern | None = eqx.field(static=True, default=None)

    def __init__(
        self,
        H: ArrayLike,
        tau_A: ArrayLike,
        tau_B: ArrayLike,
        gamma_A: ArrayLike,
        gamma_B: ArrayLike,
        dims: Sequence[int],
        g: ArrayLike,
        lam: ArrayLike,
    ):
        with val.deferred_checks() as checks:
            h, tau_a, tau_b, gamma_a, gamma_b, dims3 = validate_tripartite(
                H, tau_A, tau_B, gamma_A, gamma_B, dims
            )
            g_arr, lam_arr = validate_coupling(g, lam)
        self._store_checks(checks)
        if jnp.finfo(jnp.real(h).dtype).bits < 64:
            warnings.warn(
                "tripartite_entropy_production in float32: σ ~ g² is a small difference of "
                "O(g) terms, the relative error measured on the three-qubit chain (reduced "
                "route) is ~6e-5 at g = 1, ~1e-3 at g = 0.1, ~1e-2 at g = 0.03 and ~0.15 at "
                "g = 0.01 (benchmarks/precision_float32.py). Use float64 (the default).",
                RuntimeWarning,
                stacklevel=3,
            )
        self.H = h
        self.tau_A = tau_a
        self.tau_B = tau_b
        self.gamma_A = jnp.asarray(gamma_a)
        self.gamma_B = jnp.asarray(gamma_b)
        self.g = jnp.asarray(g_arr)
        self.lam = jnp.asarray(lam_arr)
        self.dims = tuple(int(x) for x in dims3)  # type: ignore[assignment]
        self.pattern = _concrete_pattern(h) if h.shape[-1] > AUTO_MAX_REDUCED else None

    @property
    def d(self) -> int:
        """Dimension ``n_A n_C n_B``."""
        return self.H.shape[-1]

    def args(self) -> tuple:
        """``(H, tau_A, tau_B, gamma_A, gamma_B, dims, g, lam)`` as the legacy functions
        take them."""
        return (
            self.H,
            self.tau_A,
            self.tau_B,
            self.gamma_A,
            self.gamma_B,
            self.dims,
            self.g,
            self.lam,
        )

    def apply_parts(self, rho: Array) -> Array:
        """``(L^A(ρ), L^B(ρ))``, shape ``(2, d, d)``."""
        dtype = jnp.result_type(rho.dtype, self.H.dtype, self.tau_A.dtype, jnp.complex64)
        x = rho.astype(dtype)
        h = self.H.astype(dtype)
        comm = -1j * (h @ x - x @ h)
        a = self.g * self.lam * comm + self.gamma_A * apply_reset_A(
            x, self.tau_A.astype(dtype), self.dims
        )
        b = self.g * (1.0 - self.lam) * comm + self.gamma_B * apply_reset_B(
            x, self.tau_B.astype(dtype), self.dims
        )
        return jnp.stack([a, b])

    def apply(self, rho: Array) -> Array:
        """``L_g(ρ)``."""
        return jnp.sum(self.apply_parts(rho), axis=0)

    def superoperators(self) -> Array:
        """``(L^A, L^B)`` as ``(2, d², d²)`` matrices."""
        return tripartite_lindbladians(*self.args())

    def default_solver(self):
        from ..solvers import MatrixFree, Reduced

        return Reduced() if self.d <= AUTO_MAX_REDUCED else MatrixFree()
