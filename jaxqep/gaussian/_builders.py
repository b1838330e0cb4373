"""Builders for the models of seed 000: the chain (27), 2D lattices, closed forms (29)-(31)."""

from __future__ import annotations

import operator

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

__all__ = [
    "chain_hamiltonian",
    "lattice_hamiltonian",
    "chain_baths",
    "chain_closed_form",
]


def _static_size(x, name: str, minimum: int = 1) -> int:
    try:
        v = operator.index(x)
    except TypeError:
        raise TypeError(
            f"{name}: must be a Python int (it fixes array shapes), got {type(x).__name__}"
        ) from None
    if v < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {v}")
    return v


def chain_hamiltonian(L: int, omega: ArrayLike, lam: ArrayLike) -> Array:
    """The L×L matrix of eq. (27): ``H = ω Σ a_k†a_k + iλ Σ (a_k† a_{k+1} - a_{k+1}† a_k)``.

    ``H_kk = ω``, ``H_{k,k+1} = iλ``, ``H_{k+1,k} = -iλ``.  ``L`` is static; ``omega`` and
    ``lam`` may be traced (jit/vmap/grad).

    Example:
        >>> from jaxqep.gaussian import chain_hamiltonian
        >>> chain_hamiltonian(2, 1.0, 0.5)
        Array([[1.+0.j , 0.+0.5j],
               [0.-0.5j, 1.+0.j ]], dtype=complex128)
    """
    L = _static_size(L, "L")
    omega = jnp.asarray(omega, dtype=float)
    lam = jnp.asarray(lam, dtype=float)
    if omega.ndim or lam.ndim:
        raise ValueError("omega, lam: expected scalars (use vmap for batches)")
    up = jnp.eye(L, k=1)
    return (omega * jnp.eye(L) + 1j * lam * (up - up.T)).astype(complex)


def lattice_hamiltonian(
    Lx: int, Ly: int, omega: ArrayLike, lam: ArrayLike, periodic: bool = False
) -> Array:
    """Nearest-neighbour square lattice, ``H = ω Σ a†a + λ Σ_<kl> (a_k† a_l + h.c.)``.

    Site ``(x, y)`` has index ``k = x·Ly + y``.  ``periodic`` closes both directions
    (needs ``Lx, Ly >= 3`` to avoid double bonds).

    Example:
        >>> from jaxqep.gaussian import lattice_hamiltonian
        >>> lattice_hamiltonian(2, 3, 1.0, 0.1).shape
        (6, 6)
    """
    Lx = _static_size(Lx, "Lx")
    Ly = _static_size(Ly, "Ly")
    if periodic and (Lx < 3 or Ly < 3):
        raise ValueError("periodic lattices need Lx >= 3 and Ly >= 3")
    omega = jnp.asarray(omega, dtype=float)
    lam = jnp.asarray(lam, dtype=float)

    def ring(n):
        a = jnp.eye(n, k=1)
        if periodic:
            a = a.at[n - 1, 0].set(1.0)
        return a + a.T

    adj = jnp.kron(ring(Lx), jnp.eye(Ly)) + jnp.kron(jnp.eye(Lx), ring(Ly))
    return (omega * jnp.eye(Lx * Ly) + lam * adj).astype(complex)


def chain_baths(L: int, gamma: ArrayLike, n1: ArrayLike, nL: ArrayLike) -> tuple[Array, Array]:
    """``(gammas, occupations)`` of Sec. IV: baths ``(γ, n_1)`` on site 1 and ``(γ, n_L)``
    on site L, none in between."""
    L = _static_size(L, "L", 2)
    e1 = jnp.zeros(L).at[0].set(1.0)
    eL = jnp.zeros(L).at[-1].set(1.0)
    gammas = jnp.asarray(gamma, dtype=float) * (e1 + eL)
    occ = jnp.asarray(n1, dtype=float) * e1 + jnp.asarray(nL, dtype=float) * eL
    return gammas, occ


def chain_closed_form(
    L: int, lam: ArrayLike, gamma: ArrayLike, Gamma: ArrayLike, n1: ArrayLike, nL: ArrayLike
) -> dict[str, Array]:
    """Closed forms (29a), (29b), (30), (31) of the chain with self-consistent reservoirs.

    Returns a dict with ``occupations`` (29a, shape (L,)), ``coherence``
    ``<a_k† a_{k+1}>`` (29b), ``current`` j (30) and ``pi_ness`` (31), and
    ``covariance`` (the tridiagonal NESS, eq. D4), which makes Fig. 3 cheap at large L.
    """
    L = _static_size(L, "L", 2)
    lam, gamma, Gamma, n1, nL = (jnp.asarray(v, dtype=float) for v in (lam, gamma, Gamma, n1, nL))
    den = 4 * lam**2 + gamma**2 + gamma * Gamma * (L - 1)
    k = jnp.arange(1, L + 1)
    edge = (k == 1).astype(float) - (k == L).astype(float)
    occ = (n1 + nL) / 2 + (n1 - nL) / 2 * (Gamma * gamma * (L - 2 * k + 1) + gamma**2 * edge) / den
    x = gamma * lam * (nL - n1) / den
    j = 2 * lam**2 * gamma * (nL - n1) / den
    pi = j * (1 / (n1 + 0.5) - 1 / (nL + 0.5))
    up = jnp.eye(L, k=1)
    C = jnp.diag(occ) + x * (up + up.T)
    return {
        "occupations": occ,
        "coherence": x,
        "current": j,
        "pi_ness": pi,
        "covariance": C.astype(complex),
    }
