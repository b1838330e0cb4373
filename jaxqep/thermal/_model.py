"""The GKLS (Lindblad) master equation with jumps grouped by bath, as a problem object."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .. import _validate as val
from .._problem import AbstractProblem, StaticPattern
from .._superop import hamiltonian_superop

__all__ = ["GKLSModel"]

# Above this Hilbert-space dimension the default solver is the matrix-free Krylov one.
DENSE_MAX_D = 32


def _bath_labels(baths, k: int, n_baths: int | None) -> tuple[int, ...]:
    if isinstance(baths, (jnp.ndarray, np.ndarray)) and not val._is_concrete(baths):
        raise TypeError("baths: bath labels are static structure; pass concrete integers")
    arr = np.asarray(baths)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        if arr.size and np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"baths: expected integer bath labels, got dtype {arr.dtype}")
    if arr.shape != (k,):
        raise ValueError(f"baths: expected shape ({k},) (one label per jump), got {arr.shape}")
    b = int(arr.max()) + 1 if n_baths is None else n_baths
    if np.any(arr < 0) or np.any(arr >= b):
        raise ValueError(
            f"baths: labels must lie in 0..{b - 1} (B = {b} baths"
            f"{' from betas' if n_baths is not None else ''}), got {arr.tolist()}"
        )
    missing = sorted(set(range(b)) - set(arr.tolist()))
    if missing:
        raise ValueError(f"baths: bath(s) {missing} have no jump operator")
    return tuple(int(x) for x in arr)


def _patterns(h, ls, given) -> tuple[StaticPattern | None, StaticPattern | None]:
    d, k = h.shape[0], ls.shape[0]
    if given is not None:
        hp, jp = (np.asarray(x, bool) for x in given)
        if hp.shape != (d, d) or jp.shape != (k, d, d):
            raise ValueError(
                f"pattern: expected boolean arrays of shapes ({d}, {d}) and ({k}, {d}, {d}), "
                f"got {hp.shape} and {jp.shape}"
            )
        if val._is_concrete(h) and np.any((np.asarray(h) != 0) & ~hp):
            raise ValueError("pattern: H has non-zeros outside the given H pattern")
        if val._is_concrete(ls) and np.any((np.asarray(ls) != 0) & ~jp):
            raise ValueError("pattern: jumps have non-zeros outside the given jump pattern")
        return StaticPattern(hp), StaticPattern(jp)
    if d <= DENSE_MAX_D:
        return None, None
    hp = StaticPattern(np.asarray(h) != 0) if val._is_concrete(h) else None
    jp = StaticPattern(np.asarray(ls) != 0) if val._is_concrete(ls) else None
    return hp, jp


class GKLSModel(AbstractProblem):
    """A GKLS master equation whose jump operators are grouped by bath.

    ``L(ρ) = −i[H, ρ] + Σ_b D_b(ρ)``, ``D_b(ρ) = Σ_{k: baths[k] = b} (L_k ρ L_k† −
    ½{L_k†L_k, ρ})``, rates folded into the jumps ``L_k``. Thermal baths carry an inverse
    temperature ``betas[b]`` (ħ = k_B = 1). Heat currents are ``J_b = tr(H_ref D_b(ρ))``,
    the energy flowing from bath ``b`` into the system, with ``H_ref = reference`` if given
    and ``H`` otherwise (a rotating-frame model passes its bare Hamiltonian here).

    Validated at construction: ``ValueError``/``TypeError`` naming the argument for concrete
    input, the same message at run time under ``jit``/``vmap``. ``H``, ``jumps``, ``betas``
    and ``reference`` are leaves (``vmap`` over a stack of models, differentiate with respect
    to them); the bath labels are static.

    Args:
        H: Hermitian Hamiltonian, ``(d, d)``.
        jumps: jump operators with their rates folded in, ``(K, d, d)``.
        baths: integer bath label of each jump, ``(K,)``, values ``0 … B−1``, every bath
            with at least one jump (static: concrete integers).
        betas: inverse temperatures ``β_b > 0``, ``(B,)``; ``None`` for non-thermal baths
            (then the entropy production is undefined).
        reference: Hermitian ``(d, d)`` Hamiltonian that defines the energy of the heat
            currents; ``None`` means ``H``.
        pattern: optional static non-zero patterns ``(H_pattern (d, d), jump_pattern
            (K, d, d))`` (boolean numpy arrays containing every non-zero) for the sparse
            products of the matrix-free solver when ``H``/``jumps`` are traced; read from
            the values when they are concrete and ``d > 32``. The static field ``sectors``
            (:func:`jaxqep.thermal._sectors.detect_sectors`) is read from the same values or
            patterns: a conserved quantity with block-diagonal steady states, or ``None``.

    Raises:
        ValueError: non-Hermitian ``H``/``reference``, wrong shapes, labels out of range,
            a bath without jumps, non-positive or non-finite ``betas``, NaN/inf input.
        TypeError: non-numeric input or non-integer labels.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> sm = jnp.array([[0.0, 1.0], [0.0, 0.0]])          # |0><1|: lowers the energy
        >>> H = jnp.diag(jnp.array([0.0, 1.0]))
        >>> n = 1 / (jnp.exp(2.0) - 1)                         # beta = 2, omega = 1
        >>> jumps = jnp.stack([jnp.sqrt(n + 1) * sm, jnp.sqrt(n) * sm.T])
        >>> model = jaxqep.GKLSModel(H, jumps, [0, 0], betas=jnp.array([2.0]))
        >>> rho = jaxqep.steady_state(model).rho
        >>> gibbs = jnp.array([1, jnp.exp(-2.0)]) / (1 + jnp.exp(-2.0))
        >>> bool(jnp.allclose(rho.real.diagonal(), gibbs))
        True
    """

    H: Array
    jumps: Array
    betas: Array | None
    reference: Array | None
    baths: tuple[int, ...] = eqx.field(static=True)
    n_baths: int = eqx.field(static=True)
    h_pattern: StaticPattern | None = eqx.field(static=True)
    jump_pattern: StaticPattern | None = eqx.field(static=True)
    real: bool = eqx.field(static=True)
    sectors: object = eqx.field(static=True)  # thermal._sectors.Sectors | None

    def __init__(
        self,
        H: ArrayLike,
        jumps: ArrayLike,
        baths,
        betas: ArrayLike | None = None,
        *,
        reference: ArrayLike | None = None,
        pattern: tuple | None = None,
    ):
        h = val.hermitian(H, "H")
        d = h.shape[0]
        ls = val.as_inexact(jumps, "jumps")
        if ls.ndim == 2 and ls.shape == (d, d):
            raise ValueError(
                f"jumps: expected a stack (K, {d}, {d}) of jump operators, got one matrix "
                f"{ls.shape} (use jumps[None])"
            )
        if ls.ndim != 3 or ls.shape[1:] != (d, d) or ls.shape[0] < 1:
            raise ValueError(f"jumps: expected shape (K, {d}, {d}) with K >= 1, got {ls.shape}")
        ls = val.finite(ls, "jumps")
        k = ls.shape[0]
        if betas is None:
            labels = _bath_labels(baths, k, None)
            b = max(labels) + 1
            bet = None
        else:
            bet = val.as_inexact(betas, "betas")
            if jnp.iscomplexobj(bet):
                raise TypeError(f"betas: must be real, got dtype {bet.dtype}")
            if bet.ndim != 1 or bet.shape[0] < 1:
                raise ValueError(
                    f"betas: expected a vector (B,) of inverse temperatures, got {bet.shape}"
                )
            b = bet.shape[0]
            labels = _bath_labels(baths, k, b)
            bet = val.finite(bet, "betas")
            bet = val.check(
                bet,
                jnp.any(bet <= 0),
                "betas: inverse temperatures must be positive (a negative or infinite "
                "temperature is not a thermal bath)",
            )
        if reference is not None:
            reference = val.hermitian(reference, "reference", d)
        dtype = jnp.result_type(h.dtype, ls.dtype, jnp.complex64)
        self.H = h.astype(dtype)
        self.jumps = ls.astype(dtype)
        self.betas = None if bet is None else bet.astype(jnp.real(jnp.zeros((), dtype)).dtype)
        self.reference = None if reference is None else reference.astype(dtype)
        self.baths = labels
        self.n_baths = b
        self.h_pattern, self.jump_pattern = _patterns(h, ls, pattern)
        from ._sectors import detect_sectors  # block-diagonal steady states, if any

        self.sectors = detect_sectors(h, ls, *(pattern or (self.h_pattern, self.jump_pattern)))
        # Real H and jumps (by dtype): real arithmetic in the matrix-free preconditioner.
        self.real = not (jnp.iscomplexobj(h) or jnp.iscomplexobj(ls))

    # ------------------------------------------------------------------ structure
    @property
    def d(self) -> int:
        """Dimension of the Hilbert space."""
        return self.H.shape[-1]

    @property
    def n_jumps(self) -> int:
        """Number ``K`` of jump operators."""
        return self.jumps.shape[-3]

    def bath_mask(self) -> np.ndarray:
        """Static ``(B, K)`` 0/1 matrix: ``mask[b, k] = 1`` iff jump ``k`` belongs to bath ``b``."""
        m = np.zeros((self.n_baths, self.n_jumps))
        m[np.asarray(self.baths), np.arange(self.n_jumps)] = 1.0
        return m

    def energy(self) -> Array:
        """The Hamiltonian defining heat: ``reference`` or ``H``."""
        return self.H if self.reference is None else self.reference

    # ------------------------------------------------------------------ actions
    def apply_jumps(self, rho: Array) -> Array:
        """``D_k(ρ) = L_k ρ L_k† − ½{L_k†L_k, ρ}`` for every jump, ``(K, d, d)``."""
        ls = self.jumps
        rho = rho.astype(ls.dtype)
        ldag = jnp.conj(jnp.swapaxes(ls, -1, -2))
        ldl = ldag @ ls
        return ls @ rho @ ldag - 0.5 * (ldl @ rho + rho @ ldl)

    def apply_dissipators(self, rho: Array) -> Array:
        """``(D_0(ρ), …, D_{B−1}(ρ))``, shape ``(B, d, d)``."""
        mask = jnp.asarray(self.bath_mask(), self.jumps.dtype)
        return jnp.einsum("bk,kij->bij", mask, self.apply_jumps(rho))

    def apply(self, rho: Array) -> Array:
        """``L(ρ)``."""
        h = self.H
        rho = rho.astype(h.dtype)
        return -1j * (h @ rho - rho @ h) + jnp.sum(self.apply_jumps(rho), axis=0)

    # ------------------------------------------------------------------ matrices
    def jump_superoperators(self) -> Array:
        """``L_k ⊗ conj(L_k)`` (the superoperator of ``ρ ↦ L_k ρ L_k†``), ``(K, d², d²)``."""
        return jnp.einsum("kij,kab->kiajb", self.jumps, jnp.conj(self.jumps)).reshape(
            self.n_jumps, self.d**2, self.d**2
        )

    def jump_dissipators(self) -> Array:
        """The superoperators of the single-jump dissipators ``D_k``, ``(K, d², d²)``."""
        ls = self.jumps
        d = self.d
        eye = jnp.eye(d, dtype=ls.dtype)
        ldl = jnp.conj(jnp.swapaxes(ls, -1, -2)) @ ls
        anti = jnp.einsum("kij,ab->kiajb", ldl, eye) + jnp.einsum("ij,kba->kiajb", eye, ldl)
        return self.jump_superoperators() - 0.5 * anti.reshape(-1, d * d, d * d)

    def dissipators(self) -> Array:
        """The bath dissipators ``D_b`` as matrices, ``(B, d², d²)``."""
        mask = jnp.asarray(self.bath_mask(), self.jumps.dtype)
        return jnp.einsum("bk,kij->bij", mask, self.jump_dissipators())

    def superoperators(self, lambdas: ArrayLike | None = None) -> Array:
        """Parts ``L_b = −i[λ_b H, ·] + D_b`` (``Σ λ_b = 1``; default ``λ_b = 1/B``) as
        matrices ``(B, d², d²)``; they sum to the Lindbladian."""
        b = self.n_baths
        lam = jnp.full((b,), 1.0 / b) if lambdas is None else jnp.asarray(lambdas)
        ham = hamiltonian_superop(self.H)
        return lam.astype(ham.dtype)[:, None, None] * ham[None] + self.dissipators()

    def lindbladian(self) -> Array:
        """The Lindbladian as a ``(d², d²)`` matrix (row-major vectorisation)."""
        return hamiltonian_superop(self.H) + jnp.sum(self.jump_dissipators(), axis=0)

    def default_solver(self):
        """:class:`~jaxqep.solvers.DenseLU` up to ``d = 32``, the matrix-free
        :class:`~jaxqep.solvers.GKLSKrylov` above."""
        from ..solvers import DenseLU, GKLSKrylov

        return DenseLU() if self.d <= DENSE_MAX_D else GKLSKrylov()
