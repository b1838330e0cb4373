"""N-site reset chains (seed 004, Sec. 8 generalised): resets on the first and last site."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from ._qubits import diagonal_reset_state, reset_chain_hamiltonian

__all__ = ["ResetChain", "reset_chain"]


class ResetChain(eqx.Module):
    """A boundary-driven reset chain as a tripartite model ``A - C - B``.

    Site 0 is ``A``, site ``N-1`` is ``B`` and the ``N-2`` inner sites form ``C``, so
    ``dims = (2, 2**(N-2), 2)``.

    Attributes:
        H: the chain Hamiltonian ``(2^N, 2^N)`` (see
            :func:`~jaxqep.models.reset_chain_hamiltonian`).
        tau_A, tau_B: reset states of the end sites.
        gamma_A, gamma_B: reset rates.
        dims: ``(2, 2**(N-2), 2)`` (static).
    """

    H: Array
    tau_A: Array
    tau_B: Array
    gamma_A: Array
    gamma_B: Array
    dims: tuple[int, int, int] = eqx.field(static=True)

    @property
    def n_sites(self) -> int:
        return self.dims[1].bit_length() + 1

    def tripartite_args(self) -> tuple:
        """``(H, tau_A, tau_B, gamma_A, gamma_B, dims)``, the leading arguments of
        :func:`jaxqep.qrm.tripartite_entropy_production`."""
        return (self.H, self.tau_A, self.tau_B, self.gamma_A, self.gamma_B, self.dims)


def reset_chain(
    n_sites: int,
    *,
    energies: ArrayLike | None = None,
    couplings: ArrayLike | None = None,
    U: ArrayLike = 0.1,
    t_A: ArrayLike = 0.95,
    t_B: ArrayLike = 0.6,
    gamma_A: ArrayLike = 0.7,
    gamma_B: ArrayLike = 0.6,
) -> ResetChain:
    """N-qubit chain with XX (flip-flop) couplings, density-density ``U`` and resets
    ``τ = diag(t, 1-t)`` on its end sites.

    Defaults extend the three-qubit chain of seed 004, Sec. 8: ``e_A = 0.08``,
    ``e_B = 0.1``, every inner site ``e_C = 0.05``; ``J = 0.05`` on the bond A-C and
    ``J = 0.1`` on every other bond; ``U = 0.1``; ``γ_A = 0.7``, ``γ_B = 0.6``,
    ``t_A = 0.95``, ``t_B = 0.6``. For ``n_sites = 3`` this is exactly the Sec. 8 model.

    Args:
        n_sites: number of sites ``N >= 3`` (static).
        energies: on-site energies ``(N,)`` (default above).
        couplings: flip-flop couplings ``(N-1,)`` (default above).
        U: density-density coupling, scalar or ``(N-1,)``.
        t_A: ground-state population of the reset state of the first site.
        t_B: ground-state population of the reset state of the last site.
        gamma_A: reset rate of the first site.
        gamma_B: reset rate of the last site.

    Returns:
        :class:`ResetChain`.

    Example:
        >>> import jaxqep
        >>> m = jaxqep.models.reset_chain(6)
        >>> m.dims, m.H.shape
        ((2, 16, 2), (64, 64))
    """
    n = int(n_sites)
    if n < 3:
        raise ValueError(f"n_sites: a chain A - C - B needs at least 3 sites, got {n}")
    if energies is None:
        energies = jnp.array([0.08] + [0.05] * (n - 2) + [0.1])
    if couplings is None:
        couplings = jnp.array([0.05] + [0.1] * (n - 2))
    h = reset_chain_hamiltonian(energies, couplings, U)
    if h.shape[0] != 2**n:
        raise ValueError(f"energies: expected {n} sites, got a {h.shape[0]}-dim Hamiltonian")
    return ResetChain(
        H=h,
        tau_A=diagonal_reset_state(t_A),
        tau_B=diagonal_reset_state(t_B),
        gamma_A=jnp.asarray(gamma_A, dtype=jnp.result_type(float)),
        gamma_B=jnp.asarray(gamma_B, dtype=jnp.result_type(float)),
        dims=(2, 2 ** (n - 2), 2),
    )
