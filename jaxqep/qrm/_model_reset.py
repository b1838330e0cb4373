"""The single-space reset model as a problem object."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import _validate as val
from .._problem import AbstractProblem
from .._superop import hamiltonian_superop, reset_dissipator
from ._reset import _validate_qrm, validate_lambdas

__all__ = ["ResetModel"]


class ResetModel(AbstractProblem):
    """A quantum reset model on one space with an affinely split Hamiltonian (seed 004,
    Secs. 3-4): ``L = Σ_j L_j``, ``L_j = -i[λ_j H, ·] + γ_j (τ_j tr(·) - ·)``, ``Σ λ_j = 1``.

    Validated at construction (``ValueError``/``TypeError`` naming the field for concrete
    input; the same message at run time under ``jit``/``vmap``). Its array fields are
    leaves: ``vmap`` over a stack of models, differentiate with respect to any of them.

    Args:
        H: Hermitian Hamiltonian, ``(d, d)``.
        taus: reset states ``τ_j`` (density matrices), ``(J, d, d)``.
        gammas: rates ``γ_j > 0`` (real), ``(J,)``.
        lambdas: affine coefficients ``λ_j`` (real, summing to 1), ``(J,)``; ``None``
            means ``λ_j = γ_j / Γ`` (case i of Proposition 4.3).

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jaxqep.models.single_qubit_hamiltonian(eps=1.0, delta=0.7)
        >>> taus = jnp.stack([jaxqep.models.diagonal_reset_state(0.9)] * 3)
        >>> model = jaxqep.ResetModel(H, taus, jnp.array([1.0, 0.5, 1 / 3]),
        ...                           lambdas=jnp.array([0.5, 0.3, 0.2]))
        >>> ep = jaxqep.entropy_production(model)
        >>> bool(ep.total > 0), ep.parts.shape
        (True, (3,))
    """

    H: Array
    taus: Array
    gammas: Array
    lambdas: Array

    def __init__(
        self,
        H: ArrayLike,
        taus: ArrayLike,
        gammas: ArrayLike,
        lambdas: ArrayLike | None = None,
    ):
        with val.deferred_checks() as checks:
            h, tau_s, gam = _validate_qrm(H, taus, gammas)
            lam = validate_lambdas(lambdas, gam, tau_s.shape[0])
        self._store_checks(checks)
        dtype = jnp.result_type(h.dtype, tau_s.dtype, gam.dtype, jnp.complex64)
        self.H = h.astype(dtype)
        self.taus = tau_s.astype(dtype)
        self.gammas = gam
        self.lambdas = jnp.asarray(lam, gam.dtype)

    @property
    def d(self) -> int:
        """Dimension of the Hilbert space."""
        return self.H.shape[-1]

    @property
    def n_parts(self) -> int:
        """Number ``J`` of reservoirs (parts of the decomposition)."""
        return self.taus.shape[-3]

    def apply_parts(self, rho: Array) -> Array:
        """``(L_1(ρ), ..., L_J(ρ))``, shape ``(J, d, d)``."""
        h = self.H
        rho = rho.astype(h.dtype)
        comm = -1j * (h @ rho - rho @ h)
        tr = jnp.trace(rho)
        lam = self.lambdas.astype(h.dtype)[:, None, None]
        gam = self.gammas.astype(h.dtype)[:, None, None]
        return lam * comm[None] + gam * (self.taus * tr - rho[None])

    def apply(self, rho: Array) -> Array:
        """``L(ρ) = Σ_j L_j(ρ)``."""
        return jnp.sum(self.apply_parts(rho), axis=0)

    def superoperators(self) -> Array:
        """The parts ``L_j`` as ``(J, d², d²)`` matrices (row-major vectorisation)."""
        ham = hamiltonian_superop(self.H)
        return jax.vmap(lambda lj, gj, tj: lj * ham + reset_dissipator(tj, gj))(
            self.lambdas.astype(ham.dtype), self.gammas, self.taus
        )

    def default_solver(self):
        from ..solvers import ClosedForm

        return ClosedForm()
