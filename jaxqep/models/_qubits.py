"""Model builders of seed 004: the single qubit (Sec. 5) and spin chains (Sec. 8)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

__all__ = [
    "single_qubit_hamiltonian",
    "diagonal_reset_state",
    "three_qubit_chain",
    "reset_chain_hamiltonian",
]

# NumPy constants: creating JAX arrays at import would start JAX's backend, after which
# XLA flags and jax.distributed.initialize can no longer take effect.
_N = np.array([[0.0, 0.0], [0.0, 1.0]])  # |1><1|
_SM = np.array([[0.0, 1.0], [0.0, 0.0]])  # |0><1|
_SP = _SM.T  # |1><0|


def single_qubit_hamiltonian(eps: ArrayLike, delta: ArrayLike) -> Array:
    """``H = ε(1 + σ_z)/2 + δσ_x/2`` in the basis ``{|0>, |1>}`` as printed in eq. (5.1):
    ``[[0, δ/2], [δ/2, ε]]``.

    Example:
        >>> import jaxqep
        >>> jaxqep.models.single_qubit_hamiltonian(1.0, 0.7)[0, 1]
        Array(0.35, dtype=float64)
    """
    eps = jnp.asarray(eps, dtype=jnp.result_type(float))
    delta = jnp.asarray(delta, dtype=jnp.result_type(float))
    return jnp.array([[0.0 * eps, delta / 2], [delta / 2, eps]])


def diagonal_reset_state(t: ArrayLike) -> Array:
    """``τ = diag(t, 1 - t)`` (eqs. 5.2, 8.4)."""
    t = jnp.asarray(t, dtype=jnp.result_type(float))
    return jnp.diag(jnp.stack([t, 1.0 - t]))


def _site_op(op: np.ndarray, k: int, n: int) -> Array:
    mats: list[np.ndarray] = [np.eye(2)] * n
    mats[k] = op
    return jnp.asarray(reduce(np.kron, mats))


def reset_chain_hamiltonian(
    energies: ArrayLike, couplings: ArrayLike, U: ArrayLike | Sequence = 0.0
) -> Array:
    """N-site chain ``Σ_k e_k n_k + Σ_k J_k (|01><10| + |10><01|)_{k,k+1} + Σ_k U_k n_k n_{k+1}``.

    Basis: the tensor product of the site bases ``{|0>, |1>}``, site 0 most significant
    (for ``N = 3`` this is the order of eq. 8.8 with sites ``A, C, B``).

    Args:
        energies: on-site energies ``e_k``, shape ``(N,)``.
        couplings: flip-flop couplings ``J_k`` between sites ``k, k+1``, shape ``(N-1,)``.
        U: density-density couplings, scalar or shape ``(N-1,)``.

    Returns:
        The ``2^N x 2^N`` real symmetric Hamiltonian.
    """
    e = jnp.asarray(energies, dtype=jnp.result_type(float))
    j = jnp.asarray(couplings, dtype=jnp.result_type(float))
    n = e.shape[0]
    if e.ndim != 1 or n < 2:
        raise ValueError(f"energies: expected shape (N,) with N >= 2, got {e.shape}")
    if j.shape != (n - 1,):
        raise ValueError(f"couplings: expected shape ({n - 1},), got {j.shape}")
    u = jnp.broadcast_to(jnp.asarray(U, dtype=jnp.result_type(float)), (n - 1,))
    dim = 2**n
    h = jnp.zeros((dim, dim))
    nums = [_site_op(_N, k, n) for k in range(n)]
    for k in range(n):
        h = h + e[k] * nums[k]
    for k in range(n - 1):
        hop = _site_op(_SM, k, n) @ _site_op(_SP, k + 1, n)  # |01><10| on (k, k+1)
        h = h + j[k] * (hop + hop.T) + u[k] * nums[k] @ nums[k + 1]
    return h


def three_qubit_chain(
    eA: ArrayLike,
    eB: ArrayLike,
    eC: ArrayLike,
    U: ArrayLike,
    J_alpha: ArrayLike,
    J_beta: ArrayLike,
) -> Array:
    """The 8x8 Hamiltonian ``H = H_0 + H_I`` of eqs. (8.1)-(8.3), basis order of eq. (8.8).

    Qubits are ordered ``A ⊗ C ⊗ B``; ``J_alpha`` couples A-C, ``J_beta`` couples C-B, and
    ``U`` is the density-density interaction on both bonds.

    Example:
        >>> import jaxqep
        >>> H = jaxqep.models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
        >>> H.shape
        (8, 8)
    """
    energies = jnp.stack([jnp.asarray(eA), jnp.asarray(eC), jnp.asarray(eB)]).astype(
        jnp.result_type(float)
    )
    couplings = jnp.stack([jnp.asarray(J_alpha), jnp.asarray(J_beta)]).astype(
        jnp.result_type(float)
    )
    return reset_chain_hamiltonian(energies, couplings, jnp.stack([jnp.asarray(U)] * 2))
