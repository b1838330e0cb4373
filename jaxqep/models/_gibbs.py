"""Gibbs (thermal) reset states, the detailed-balance case of seed 004 (Lemma 3.3, eq. 5.4)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from .. import _validate as val
from .._hermitian import expm_h

__all__ = ["gibbs_state", "gibbs_states"]


def gibbs_state(H: ArrayLike, beta: ArrayLike) -> Array:
    """Thermal state ``e^{-βH} / tr(e^{-βH})`` (seed 004, eq. 5.4).

    Computed as ``e^{-β(H - e_min)}`` normalised (no overflow at large ``β``), with the
    Daleckii-Krein derivative of :func:`jaxqep.linalg.expm_h`, so gradients in ``H`` and
    ``β`` are finite at degenerate spectra. ``[H, τ] = 0``, so a reset model with this
    ``τ`` and Hamiltonian ``H`` satisfies detailed balance (Lemma 3.3).

    Args:
        H: Hermitian Hamiltonian ``(d, d)``.
        beta: inverse temperature (real, ``>= 0``).

    Returns:
        The Gibbs state ``(d, d)``.

    Raises:
        ValueError / EquinoxRuntimeError: ``H`` not Hermitian; ``beta`` not a real scalar
            or negative.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> tau = jaxqep.models.gibbs_state(jnp.diag(jnp.array([0.0, 1.0])), jnp.log(9.0))
        >>> [round(float(x), 12) for x in jnp.diagonal(tau).real]   # = diag(0.9, 0.1)
        [0.9, 0.1]
    """
    h = val.hermitian(H, "H")
    beta = val.real_scalar(beta, "beta")
    beta = val.check(beta, beta < 0, "beta: must be non-negative")
    dtype = jnp.result_type(h.dtype, beta.dtype, jnp.complex64)
    h = h.astype(dtype)
    e_min = jax.lax.stop_gradient(jnp.min(jnp.linalg.eigvalsh(h)))
    x = expm_h(-beta.astype(dtype) * (h - e_min * jnp.eye(h.shape[0], dtype=dtype)))
    return x / jnp.trace(x)


def gibbs_states(H: ArrayLike, betas: ArrayLike) -> Array:
    """Stack of Gibbs states ``τ_j = e^{-β_j H}/Z_j``, the ``taus`` of a thermal reset model.

    Args:
        H: Hermitian Hamiltonian ``(d, d)``.
        betas: inverse temperatures ``(J,)`` (real, ``>= 0``).

    Returns:
        ``(J, d, d)``.

    Raises:
        ValueError: ``betas`` is not one-dimensional, or as :func:`gibbs_state`.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jaxqep.models.single_qubit_hamiltonian(1.0, 0.7)
        >>> jaxqep.models.gibbs_states(H, jnp.array([0.5, 2.0])).shape
        (2, 2, 2)
    """
    b = val.as_inexact(betas, "betas")
    if b.ndim != 1:
        raise ValueError(f"betas: expected shape (J,), got {b.shape}")
    return jnp.stack([gibbs_state(H, b[j]) for j in range(b.shape[0])])
