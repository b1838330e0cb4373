"""The network model: a quadratic Hamiltonian, local thermal baths, self-consistent baths."""

from __future__ import annotations

from typing import cast

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .._validate import check

__all__ = ["GaussianNetwork", "bose_einstein", "validate_inputs"]

# Relative tolerance of the Hermiticity check on H (round-off of user-built matrices).
_HERM_RTOL = 1e-10


def bose_einstein(omega: ArrayLike, temperature: ArrayLike) -> Array:
    """Bose-Einstein occupation ``n = 1/(exp(ω/T) - 1)`` (ħ = k_B = 1).

    ``T = 0`` gives ``n = 0``.  Written with ``expm1`` so high temperatures keep all digits.

    Example:
        >>> from jaxqep.gaussian import bose_einstein
        >>> round(float(bose_einstein(1.0, 1.0)), 6)
        0.581977
    """
    omega = jnp.asarray(omega, dtype=float)
    temperature = jnp.asarray(temperature, dtype=float)
    omega = cast(Array, check(omega, jnp.any(omega <= 0), "omega: frequencies must be > 0"))
    temperature = cast(
        Array, check(temperature, jnp.any(temperature < 0), "temperature: must be >= 0")
    )
    t_safe = jnp.where(temperature > 0, temperature, 1.0)
    return jnp.where(temperature > 0, 1.0 / jnp.expm1(omega / t_safe), 0.0)


def _as_float_vector(x, name: str, L: int) -> Array:
    if isinstance(x, (str, bytes)) or (
        hasattr(x, "dtype") and not np.issubdtype(np.dtype(x.dtype), np.number)
    ):
        raise TypeError(f"{name}: expected a real array, got {type(x).__name__}")
    arr = jnp.asarray(x)
    if jnp.issubdtype(arr.dtype, jnp.complexfloating):
        raise TypeError(f"{name}: expected real values, got dtype {arr.dtype}")
    if jnp.issubdtype(arr.dtype, jnp.bool_):
        raise TypeError(f"{name}: expected real values, got dtype bool")
    arr = arr.astype(jnp.result_type(float))
    if arr.ndim == 0:
        raise ValueError(f"{name}: expected shape ({L},), got a scalar")
    if arr.shape != (L,):
        raise ValueError(
            f"{name}: expected shape ({L},) to match H of shape ({L}, {L}), got {arr.shape}"
        )
    return arr


def validate_inputs(
    H, gammas, occupations, sc_rates=None
) -> tuple[Array, Array, Array, Array | None]:
    """Shape/type checks (at trace time) and value checks (``eqx.error_if``, inside jit).

    Returns the validated ``(H, gammas, occupations, sc_rates)`` with ``H`` replaced by
    its Hermitian part (so that tangents are projected consistently) and ``sc_rates``
    ``None`` or shape ``(L,)`` (a scalar is broadcast).
    """
    if isinstance(H, (str, bytes)):
        raise TypeError("H: expected a square matrix, got a string")
    H = jnp.asarray(H)
    if not jnp.issubdtype(H.dtype, jnp.number) or jnp.issubdtype(H.dtype, jnp.bool_):
        raise TypeError(f"H: expected a numeric matrix, got dtype {H.dtype}")
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] == 0:
        raise ValueError(f"H: expected a square (L, L) matrix with L >= 1, got shape {H.shape}")
    L = H.shape[0]
    H = H.astype(jnp.result_type(H.dtype, complex))
    gammas = _as_float_vector(gammas, "gammas", L)
    occupations = _as_float_vector(occupations, "occupations", L)
    if sc_rates is not None:
        s = jnp.asarray(sc_rates)
        if s.ndim == 0:
            sc_rates = jnp.broadcast_to(_as_float_vector(s[None], "sc_rates", 1), (L,))
        else:
            sc_rates = _as_float_vector(s, "sc_rates", L)

    # Value checks: kept as data dependencies of the returned arrays (eqx.error_if).
    Hh = jnp.conj(H.T)
    asym = jnp.max(jnp.abs(H - Hh))
    H = check(
        H,
        ~(asym <= _HERM_RTOL * (1.0 + jnp.max(jnp.abs(H)))),
        "H: must be Hermitian (H == H^†), got max|H - H^†| above tolerance",
    )
    H = check(H, ~jnp.all(jnp.isfinite(H)), "H: contains NaN or inf")
    gammas = check(gammas, ~jnp.all(gammas >= 0), "gammas: bath rates must be >= 0 (and finite)")
    occupations = check(
        occupations,
        ~jnp.all(occupations >= 0),
        "occupations: bath occupations must be >= 0 (and finite)",
    )
    if sc_rates is not None:
        sc_rates = check(
            sc_rates,
            ~jnp.all(sc_rates >= 0),
            "sc_rates: self-consistent reservoir rates must be >= 0 (and finite)",
        )
    H = 0.5 * (H + jnp.conj(H.T))
    return H, gammas, occupations, sc_rates


class GaussianNetwork(eqx.Module):
    """A network of L bosonic modes, ``H = Σ_kl H_kl a_k† a_l``, with local baths.

    Each mode ``k`` may couple to a physical bath of rate ``γ_k`` and occupation ``n_k``
    (dissipator (4) of seed 000) and to a self-consistent reservoir of rate ``Γ_k``
    whose occupation is fixed at the NESS by zero net energy exchange (``ñ_k = C_kk``).

    Attributes:
        hamiltonian: Hermitian ``(L, L)`` matrix (any connectivity, complex allowed).
        gammas: ``(L,)`` physical bath rates ``γ_k >= 0`` (0: no bath on that site).
        occupations: ``(L,)`` bath occupations ``n_k >= 0``.
        sc_rates: ``(L,)`` self-consistent rates ``Γ_k >= 0``, or ``None``.

    Shapes are checked at construction (``ValueError``/``TypeError``); values
    (Hermiticity, signs) are checked inside jit by ``eqx.error_if`` in ``validated()``,
    which :func:`jaxqep.gaussian.entropy_production` and friends call.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import GaussianNetwork, chain_hamiltonian
        >>> net = GaussianNetwork(chain_hamiltonian(3, 1.0, 0.1), jnp.array([1., 0, 1]),
        ...                       jnp.array([1., 0, 2]))
        >>> net.size
        3
    """

    hamiltonian: Array
    gammas: Array
    occupations: Array
    sc_rates: Array | None = None

    def __check_init__(self):
        # Static checks only; value checks need to stay inside the traced computation.
        if isinstance(self.hamiltonian, jax.ShapeDtypeStruct):
            return
        h = jnp.shape(self.hamiltonian)
        if len(h) != 2 or h[0] != h[1]:
            raise ValueError(f"hamiltonian: expected a square (L, L) matrix, got shape {h}")
        L = h[0]
        for name in ("gammas", "occupations"):
            s = jnp.shape(getattr(self, name))
            if s != (L,):
                raise ValueError(f"{name}: expected shape ({L},) to match H, got {s}")
        if self.sc_rates is not None and jnp.shape(self.sc_rates) not in ((L,), ()):
            raise ValueError(
                f"sc_rates: expected shape ({L},) or a scalar, got {jnp.shape(self.sc_rates)}"
            )

    @property
    def size(self) -> int:
        return jnp.shape(self.hamiltonian)[0]

    @classmethod
    def from_temperatures(
        cls, hamiltonian, gammas, omegas, temperatures, sc_rates=None
    ) -> GaussianNetwork:
        """Build a network whose occupations are ``n_k = 1/(exp(ω_k/T_k) - 1)``."""
        return cls(hamiltonian, gammas, bose_einstein(omegas, temperatures), sc_rates)

    def validated(self):
        """``(H, gammas, occupations, sc_rates)`` after all checks (see validate_inputs)."""
        return validate_inputs(self.hamiltonian, self.gammas, self.occupations, self.sc_rates)
