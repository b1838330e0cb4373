"""The network model: a quadratic Hamiltonian, local thermal baths, self-consistent baths."""

from __future__ import annotations

from typing import cast

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .._problem import AbstractProblem
from .._validate import check
from ._kronecker import detect_kronecker as detect_kronecker

__all__ = [
    "GaussianNetwork",
    "bose_einstein",
    "validate_inputs",
    "detect_structure",
    "detect_kronecker",
]

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
    raw_h = H
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

    H = _hermitian_hamiltonian(H, raw_h)
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
    return H, gammas, occupations, sc_rates


_NOT_HERMITIAN = "H: must be Hermitian (H == H^†), got max|H - H^†| above tolerance"
_NOT_FINITE = "H: contains NaN or inf"


def _hermitian_hamiltonian(H: Array, raw) -> Array:
    """The Hermitian part of a checked ``H``. A concrete ``raw`` (also inside a ``jit``
    trace, where ``H`` is a closure constant) is checked and symmetrised in NumPy, once,
    and enters the computation as a constant: no ``L × L`` passes (two of them
    transposes) in every call of a jitted function."""
    h = _concrete(raw)
    if h is not None and h.shape == tuple(H.shape) and np.issubdtype(h.dtype, np.number):
        h = h.astype(H.dtype)
        if not np.all(np.isfinite(h)):
            raise ValueError(_NOT_FINITE)
        hh = np.conj(h.T)
        if not np.max(np.abs(h - hh)) <= _HERM_RTOL * (1.0 + np.max(np.abs(h))):
            raise ValueError(_NOT_HERMITIAN)
        return jnp.asarray(0.5 * (h + hh))
    # Value checks: kept as data dependencies of the returned arrays (eqx.error_if).
    asym = jnp.max(jnp.abs(H - jnp.conj(H.T)))
    H = check(H, ~(asym <= _HERM_RTOL * (1.0 + jnp.max(jnp.abs(H)))), _NOT_HERMITIAN)
    H = check(H, ~jnp.all(jnp.isfinite(H)), _NOT_FINITE)
    return 0.5 * (H + jnp.conj(H.T))


def _concrete(x) -> np.ndarray | None:
    if x is None or isinstance(x, (str, bytes)):
        return None
    if isinstance(x, jax.core.Tracer):  # pyright: ignore[reportAttributeAccessIssue]
        return None
    try:
        return np.asarray(x)
    except Exception:  # pragma: no cover - exotic array types
        return None


def detect_structure(H, gammas, sc_rates) -> str:
    """Static structure of a network, read once from concrete input.

    ``"tridiagonal_chain"``: self-consistent reservoirs on a chain whose NESS is exactly
    tridiagonal (``H`` tridiagonal with a uniform diagonal and a uniform hopping modulus,
    physical baths on the two end sites only, every site damped where the rates are
    concrete); ``"general"``: any other concrete network; ``"unknown"``: ``H`` or the
    rates were traced at construction (then the structure is tested at run time).
    """
    h, g = _concrete(H), _concrete(gammas)
    if h is None or g is None:
        return "unknown"
    return _chain_or_general(h, g, _concrete(sc_rates), sc_rates is not None)


def _chain_or_general(h, g, s, has_sc: bool) -> str:
    L = h.shape[0]
    if not has_sc or L < 2:
        return "general"
    off = np.abs(np.triu(h, 2)).max() if L > 2 else 0.0
    diag = np.real(np.diagonal(h))
    hop = np.abs(np.diagonal(h, 1))
    scale = max(float(np.abs(h).max()), 1e-300)
    uniform = (
        off == 0
        and np.ptp(diag) <= 1e-12 * scale
        and np.ptp(hop) <= 1e-12 * scale
        and np.all(hop > 0)
    )
    ends_only = np.all(g[1:-1] == 0) if L > 2 else True
    damped = True if s is None else bool(np.all(np.broadcast_to(s, (L,)) + g > 0))
    return "tridiagonal_chain" if (uniform and ends_only and damped) else "general"


def bath_representatives(h: np.ndarray, g) -> tuple[int, ...] | None:
    """One site with ``g_k > 0`` per connected component of the concrete ``h`` (through
    ``h_kl ≠ 0``; ``O(L²)`` once), or ``None`` if some component has none."""
    from scipy.sparse.csgraph import connected_components

    L = h.shape[0]
    count, labels = connected_components(np.abs(h) > 0, directed=False)
    g = np.broadcast_to(np.real(np.asarray(g)), (L,))
    best = np.full(count, -1)
    for k in np.flatnonzero(g > 0)[::-1]:  # the first bath site of each component
        best[labels[k]] = k
    if np.any(best < 0):
        return None
    return tuple(int(k) for k in best)


def damping_deviation(d, xp=jnp):
    """``(d̄, d - d̄, tol)``: the median of the dampings ``d = γ + Γ``, the deviations from
    it, and the rounding tolerance at or below which a deviation counts as none. ``xp``:
    ``jax.numpy`` (the Schur solvers' split) or ``numpy`` (``damping_sites``)."""
    dbar = xp.median(d)
    return dbar, d - dbar, 8 * xp.finfo(d.dtype).eps * xp.max(xp.abs(d))


class GaussianNetwork(AbstractProblem):
    """A network of L bosonic modes, ``H = Σ_kl H_kl a_k† a_l``, with local baths.

    Each mode ``k`` may couple to a physical bath of rate ``γ_k`` and occupation ``n_k``
    (dissipator (4) of seed 000) and to a self-consistent reservoir of rate ``Γ_k``
    whose occupation is fixed at the NESS by zero net energy exchange (``ñ_k = C_kk``).

    Validated at construction: shapes and dtypes raise ``ValueError``/``TypeError``;
    values (Hermiticity, signs, finiteness) raise ``ValueError`` eagerly and the same
    message under ``jit``/``vmap``. The array fields are the pytree leaves (``vmap`` over
    them, differentiate with respect to them). Static structure is read once from
    concrete input (``structure``, see :func:`detect_structure`; ``real_h``), so that
    :class:`jaxqep.solvers.Auto` chooses statically: a ``vmap`` over the probe rates of
    one chain (built inside the vmapped function from a concrete ``H``) runs the O(L²)
    :class:`jaxqep.solvers.Tridiagonal` route only.

    Args:
        H: Hermitian ``(L, L)`` matrix (any connectivity, complex allowed).
        gammas: ``(L,)`` physical bath rates ``γ_k >= 0`` (0: no bath on that site).
        occupations: ``(L,)`` bath occupations ``n_k >= 0``.
        sc_rates: ``(L,)`` or scalar self-consistent rates ``Γ_k >= 0``, or ``None``.

    Attributes:
        hamiltonian: the Hermitian part of ``H`` (complex).
        gammas: ``(L,)`` physical bath rates.
        occupations: ``(L,)`` bath occupations.
        sc_rates: ``(L,)`` self-consistent rates or ``None``.
        structure: ``"tridiagonal_chain"``, ``"general"`` or ``"unknown"`` (static).
        damping_sites: with self-consistent reservoirs and concrete ``gammas``, the
            number of sites whose damping ``γ_k + Γ_k`` differs from the median one (the
            physical baths of a lattice with a probe on every site; where the probe rates
            were traced, the number of sites with ``γ_k > 0``), else ``None`` (static; a
            size hint for :class:`jaxqep.solvers.EighSchur`, which verifies it).
        bath_sites: with self-consistent reservoirs, where ``H`` and ``gammas`` were
            concrete and every site is connected (through ``H_kl ≠ 0``) to a site with
            ``γ_k > 0``: one such site per connected component, else ``None`` (static).
            At run time ``γ > 0`` on these sites is all there is to test (the full
            connectivity test runs only where it fails, e.g. a rate set to 0 later).
        kron_shape: ``(l_x, l_y)`` where ``H`` was concrete and a Kronecker sum
            ``H_x ⊗ 1 + 1 ⊗ H_y`` (a rectangular lattice; see :func:`detect_kronecker`)
            and the network has self-consistent reservoirs, else ``None`` (static).
        real_h: ``H`` was concrete and real at construction (static).

    Raises:
        ValueError: shapes, non-Hermitian ``H``, negative or non-finite rates or
            occupations.
        TypeError: non-numeric ``H``, complex rates or occupations.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> from jaxqep.gaussian import chain_hamiltonian
        >>> net = jaxqep.GaussianNetwork(chain_hamiltonian(3, 1.0, 0.1),
        ...                              jnp.array([1., 0, 1]), jnp.array([1., 0, 2]))
        >>> net.size, net.structure
        (3, 'general')
        >>> round(float(jaxqep.entropy_production(net).total), 10) > 0
        True
    """

    hamiltonian: Array
    gammas: Array
    occupations: Array
    sc_rates: Array | None = None
    structure: str = eqx.field(static=True, default="unknown")
    real_h: bool = eqx.field(static=True, default=False)
    kron_shape: tuple[int, int] | None = eqx.field(static=True, default=None)
    damping_sites: int | None = eqx.field(static=True, default=None)
    bath_sites: tuple[int, ...] | None = eqx.field(static=True, default=None)

    def __init__(self, H, gammas, occupations, sc_rates=None):
        # Structure from the raw input: inside a jit trace every operation on a concrete
        # array is staged (a tracer), so it must be read before validation.
        raw = (H, gammas, sc_rates)
        H, gammas, occupations, sc_rates = validate_inputs(H, gammas, occupations, sc_rates)
        self.hamiltonian = H
        self.gammas = gammas
        self.occupations = occupations
        self.sc_rates = sc_rates
        h = _concrete(raw[0])
        if h is not None and h.shape == tuple(H.shape) and np.issubdtype(h.dtype, np.number):
            h = 0.5 * (h + np.conj(h.T))
            self.structure = detect_structure(h, raw[1], raw[2])
            self.real_h = bool(np.all(np.imag(h) == 0))
            self.kron_shape = (
                detect_kronecker(h)
                if sc_rates is not None and self.structure == "general"
                else None
            )
        else:
            self.structure = "unknown"
            self.real_h = False
        g, s = _concrete(raw[1]), _concrete(raw[2])
        if sc_rates is not None and g is not None and h is not None and h.shape == tuple(
            H.shape
        ):
            self.bath_sites = bath_representatives(h, g)
        if sc_rates is not None and g is not None:
            if s is not None:
                d = np.broadcast_to(np.real(g) + np.real(s), (H.shape[0],)).astype(float)
                _, dev, tol = damping_deviation(d, xp=np)
                self.damping_sites = int(np.sum(np.abs(dev) > tol))
            else:  # traced probe rates: a uniform profile deviates at the baths only
                self.damping_sites = int(np.sum(np.broadcast_to(g, (H.shape[0],)) != 0))

    @property
    def H(self) -> Array:
        """The Hamiltonian matrix (``hamiltonian``)."""
        return self.hamiltonian

    @property
    def size(self) -> int:
        """Number of modes ``L``."""
        return jnp.shape(self.hamiltonian)[0]

    @classmethod
    def from_temperatures(
        cls, hamiltonian, gammas, omegas, temperatures, sc_rates=None
    ) -> GaussianNetwork:
        """Build a network whose occupations are ``n_k = 1/(exp(ω_k/T_k) - 1)``."""
        return cls(hamiltonian, gammas, bose_einstein(omegas, temperatures), sc_rates)

    def validated(self):
        """``(H, gammas, occupations, sc_rates)`` (validated at construction)."""
        return self.hamiltonian, self.gammas, self.occupations, self.sc_rates

    def default_solver(self):
        """The statically chosen solver (see :class:`jaxqep.solvers.Auto`)."""
        from ..solvers._gaussian_direct import DirectLyapunov
        from ..solvers._gaussian_krylov import KRYLOV_MIN_SIZE
        from ..solvers._gaussian_tridiagonal import Tridiagonal

        if self.sc_rates is None:
            return DirectLyapunov()
        if self.structure == "tridiagonal_chain":
            return Tridiagonal()
        if self.structure == "unknown":
            return Tridiagonal(fallback=True)
        if self.size >= KRYLOV_MIN_SIZE and self.kron_shape is not None:
            # A rectangular lattice: EighSchur in the Kronecker eigenbasis U_x ⊗ U_y.
            from ..solvers._gaussian_kron_schur import KroneckerSchur

            return KroneckerSchur(shape=self.kron_shape)
        if self.size >= KRYLOV_MIN_SIZE:
            # EighSchur: EighKrylov's fast path (2 instead of 8 real matmuls per step where
            # the damping is uniform but on a few sites), continuing as EighKrylov elsewhere.
            from ..solvers._gaussian_eigh_schur import EighSchur

            return EighSchur()
        return DirectLyapunov()
