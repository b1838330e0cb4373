"""Thermal master equations: global (Davies) and local jumps, and the standard models.

Why one module of ~600 lines: it is a catalogue of model builders (one short function each)
sharing the jump and Bohr-frequency helpers; no builder depends on another's internals.

Rates obey detailed balance (KMS): a jump that lowers the system's energy by ``ω > 0``
has rate ``J(ω)(n_β(ω) + 1)``, the reverse jump ``J(ω) n_β(ω)``, with the Bose factor
``n_β(ω) = 1/(e^{βω} − 1)`` and ``J`` the spectral density of the bath.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, overload

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .. import _validate as val
from ._bohr import bohr_components, single_linkage
from ._model import GKLSModel

__all__ = [
    "bose",
    "local_jumps",
    "davies_jumps",
    "resonant_level",
    "qubit_two_baths",
    "xx_pair",
    "three_level_maser",
    "absorption_refrigerator",
    "xxz_chain",
    "site_operator",
]

SIGMA_MINUS = np.array([[0.0, 1.0], [0.0, 0.0]])  # |0><1|: |1> is the excited state
SIGMA_Z = np.diag([-1.0, 1.0])
SIGMA_X = np.array([[0.0, 1.0], [1.0, 0.0]])


def bose(omega: ArrayLike, beta: ArrayLike) -> Array:
    """Bose occupation ``n_β(ω) = 1/(e^{βω} − 1)`` (``ω > 0``).

    Args:
        omega: frequency ``ω > 0``.
        beta: inverse temperature ``β > 0``.

    Returns:
        The occupation.

    Raises:
        ValueError: a non-positive ``omega`` or ``beta`` (``n_β(ω)`` is infinite or
            negative there).

    Example:
        >>> import jaxqep
        >>> round(float(jaxqep.thermal.bose(1.0, 1.0)), 6)
        0.581977
    """
    return _bose(_positive(omega, "omega"), _positive(beta, "beta"))


def _bose(omega, beta) -> Array:
    return 1.0 / jnp.expm1(jnp.asarray(beta) * jnp.asarray(omega))


def _positive(x, name: str, strict: bool = True) -> Array:
    return val.positive(x, name, strict=strict)


def site_operator(op: ArrayLike, site: int, n_sites: int, local_dim: int = 2) -> Array:
    """``I ⊗ … ⊗ op ⊗ … ⊗ I`` with ``op`` on ``site`` of ``n_sites`` (site 0 leftmost).

    Args:
        op: ``(local_dim, local_dim)`` operator.
        site: its position.
        n_sites: number of sites.
        local_dim: dimension of each site.

    Returns:
        The ``(local_dimⁿ, local_dimⁿ)`` matrix.

    Example:
        >>> import numpy as np, jaxqep
        >>> jaxqep.thermal.site_operator(np.eye(2), 1, 3).shape
        (8, 8)
    """
    op = jnp.asarray(op)
    left = jnp.eye(local_dim**site, dtype=op.dtype)
    right = jnp.eye(local_dim ** (n_sites - site - 1), dtype=op.dtype)
    return jnp.kron(jnp.kron(left, op), right)


def local_jumps(lower: ArrayLike, omega: ArrayLike, gamma: ArrayLike, beta: ArrayLike) -> Array:
    """Local thermal jumps ``(√(γ(n+1)) a, √(γ n) a†)`` for a lowering operator ``a`` of
    frequency ``ω`` coupled to a bath at ``β`` (``n = n_β(ω)``).

    Args:
        lower: the lowering operator ``a``, ``(d, d)``.
        omega: its frequency ``ω > 0``.
        gamma: the rate ``γ ≥ 0``.
        beta: inverse temperature ``β > 0``.

    Returns:
        ``(2, d, d)``.

    Raises:
        ValueError: a negative rate, non-positive ``ω`` or ``β``.

    Example:
        >>> import numpy as np, jaxqep
        >>> jaxqep.thermal.local_jumps(np.array([[0, 1], [0, 0]]), 1.0, 0.1, 2.0).shape
        (2, 2, 2)
    """
    a = val.as_inexact(lower, "lower")
    omega = _positive(omega, "omega")
    gamma = _positive(gamma, "gamma", strict=False)
    beta = _positive(beta, "beta")
    n = _bose(omega, beta)
    return jnp.stack([jnp.sqrt(gamma * (n + 1)) * a, jnp.sqrt(gamma * n) * jnp.conj(a.T)])


@overload
def davies_jumps(
    H: ArrayLike,
    coupling: ArrayLike,
    beta: ArrayLike,
    gamma: ArrayLike = ...,
    spectral_density: Callable[[Array], Array] | None = ...,
    zero_rate: float | ArrayLike = ...,
    tol: float = ...,
    return_frequencies: Literal[False] = ...,
) -> Array: ...


@overload
def davies_jumps(
    H: ArrayLike,
    coupling: ArrayLike,
    beta: ArrayLike,
    gamma: ArrayLike = ...,
    spectral_density: Callable[[Array], Array] | None = ...,
    zero_rate: float | ArrayLike = ...,
    tol: float = ...,
    *,
    return_frequencies: Literal[True],
) -> tuple[Array, Array]: ...


def davies_jumps(
    H: ArrayLike,
    coupling: ArrayLike,
    beta: ArrayLike,
    gamma: ArrayLike = 1.0,
    spectral_density: Callable[[Array], Array] | None = None,
    zero_rate: float | ArrayLike = 0.0,
    tol: float = 1e-9,
    return_frequencies: bool = False,
) -> Array | tuple[Array, Array]:
    """Global (Davies, secular) jumps of a coupling operator ``A``: its Bohr-frequency
    components ``A(ω) = Σ_{ē_J − ē_I = ω} P_I A P_J`` with KMS rates,
    ``γ J(ω)(n_β(ω)+1)`` for ``ω > 0`` and ``γ J(|ω|) n_β(|ω|)`` for ``ω < 0``; ``ω = 0``
    (pure dephasing) with rate ``zero_rate``.

    Grouping (``tol``, absolute): eigenvalues of ``H`` closer than ``tol`` (single linkage
    on the sorted spectrum) form one level, with projector ``P_I`` and mean energy
    ``ē_I``; Bohr frequencies ``ē_J − ē_I`` closer than ``tol`` (single linkage again) form
    one component. The number of jumps must be static while the grouping depends on
    ``H``'s values (traced under ``vmap``/``grad``): so each eigen-pair ``p = (m, n)``
    carries the jump ``√(γ(ω_p)/|G_p|) A(ω_p)``, ``G_p`` its group; the ``|G_p|`` copies
    sum to exactly the Davies term ``γ̄ D[A(ω)]`` (``γ̄`` the mean rate over the group,
    ``γ(ω)`` when its frequencies coincide). ``K = d² − d`` jumps (``d²`` with a dephasing
    rate), some of them zero; the same model for concrete and traced ``H``.

    Derivatives: the jumps depend on ``H`` through the projectors ``P_I`` and the
    frequencies ``ē_J − ē_I`` only, which are smooth wherever the grouping does not change,
    also at degenerate spectra (a resonant pair, a degenerate doublet); the derivative rule
    is that of the projectors (:mod:`jaxqep.thermal._bohr`), never of the eigenvectors, so
    first derivatives with respect to ``H`` and ``coupling`` are finite there. Where the
    grouping changes (a level crossing through ``tol``) the Davies generator itself jumps.
    Derivatives with respect to a rate at exactly zero (``gamma = 0``) do not exist
    (the jumps are ``∝ √γ``). Second derivatives in ``H`` go through ``eigh``: exact
    where the levels are more than ``tol`` apart, NaN (an error in the solves) at a
    degeneracy.

    Args:
        H: Hermitian system Hamiltonian ``(d, d)``.
        coupling: Hermitian system part ``A`` of the coupling ``(d, d)``.
        beta: inverse temperature ``β > 0``.
        gamma: overall rate ``γ ≥ 0``.
        spectral_density: ``J(ω)`` for ``ω > 0`` (default flat, ``J = 1``).
        zero_rate: rate of the ``ω = 0`` components (≥ 0; a Python 0 leaves the
            diagonal pairs out).
        tol: absolute tolerance for equal levels and equal Bohr frequencies (static).
        return_frequencies: also return the Bohr frequency of each jump.

    Returns:
        ``(K, d, d)`` jumps; with ``return_frequencies=True`` the pair ``(jumps, omegas)``,
        ``omegas[k]`` the energy that jump ``k`` releases into the bath (``ω > 0``:
        emission, ``ω < 0``: absorption, ``0``: dephasing); ``omegas`` of the jumps of one
        bath are the counting weights of the energy it receives.

    Raises:
        ValueError: non-Hermitian input, negative rates, non-positive ``β``, a negative
            ``tol``, a ``spectral_density`` that is negative, not finite or of the wrong
            shape at the Bohr frequencies.
        TypeError: a non-bool ``return_frequencies``.

    Example:
        >>> import numpy as np, jaxqep
        >>> H = np.diag([0.0, 1.0, 3.0])
        >>> A = np.ones((3, 3))
        >>> jaxqep.thermal.davies_jumps(H, A, beta=1.0).shape   # the pairs m != n
        (6, 3, 3)
        >>> _, w = jaxqep.thermal.davies_jumps(H, A, 1.0, return_frequencies=True)
        >>> [float(x) for x in w]
        [1.0, 3.0, -1.0, 2.0, -3.0, -2.0]
    """
    h = val.hermitian(H, "H")
    a = val.hermitian(coupling, "coupling", h.shape[0])
    beta = _positive(beta, "beta")
    gamma = _positive(gamma, "gamma", strict=False)
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0:
        raise ValueError(f"tol: must be a non-negative Python float, got {tol!r}")
    if not isinstance(return_frequencies, bool):
        raise TypeError("return_frequencies: must be a Python bool")
    dtype = jnp.result_type(h.dtype, a.dtype, jnp.complex64)
    if spectral_density is None:

        def spectral_density(w):
            return jnp.ones_like(w)

    zero_static = isinstance(zero_rate, (int, float)) and float(zero_rate) == 0.0
    zr = jnp.zeros(()) if zero_static else _positive(zero_rate, "zero_rate", strict=False)
    comps, w = bohr_components(h.astype(dtype), a.astype(dtype), tol, not zero_static)
    # The grouping (static within a neighbourhood): from the values, not differentiated.
    ws = jax.lax.stop_gradient(w)
    group = single_linkage(ws, tol)
    size = jnp.sum(group[:, None] == group[None, :], axis=1)
    is_zero = jnp.abs(ws) <= tol  # exactly the pairs inside one level (ω = 0)
    aw = jnp.abs(w)
    w_safe = jnp.where(is_zero, 1.0, aw)
    n_b = _bose(w_safe, beta)
    spec = jnp.asarray(spectral_density(w_safe))
    if spec.shape != w_safe.shape or jnp.iscomplexobj(spec):
        raise ValueError(
            f"spectral_density: must map a real array of frequencies to a real array of "
            f"the same shape {w_safe.shape}, got {spec.dtype}{spec.shape}"
        )
    spec = val.check(
        spec,
        ~jnp.all(jnp.isfinite(spec) & (spec >= 0)),
        "spectral_density: must return finite non-negative values J(ω) >= 0 at the Bohr "
        "frequencies",
    )
    # √γ apart from the ω-dependent factor: at γ = 0 the derivative in H stays finite.
    factor = spec * jnp.where(ws > 0, n_b + 1, n_b) / size
    amp = jnp.sqrt(gamma) * jnp.sqrt(jnp.where(is_zero, 1.0, factor))
    amp = jnp.where(is_zero, 0.0 if zero_static else jnp.sqrt(zr / size), amp)
    jumps = amp.astype(dtype)[:, None, None] * comps
    return (jumps, w) if return_frequencies else jumps


def _two(x, name: str) -> tuple:
    try:
        out = tuple(x)
    except TypeError:
        raise TypeError(f"{name}: expected a pair of values") from None
    if len(out) != 2:
        raise ValueError(f"{name}: expected two entries (one per bath), got {len(out)}")
    return out


def resonant_level(gamma_in: ArrayLike, gamma_out: ArrayLike, energy: ArrayLike = 0.0):
    """A single resonant level between two leads: jumps ``√Γ_in |1⟩⟨0|`` (bath 0, filling)
    and ``√Γ_out |0⟩⟨1|`` (bath 1, emptying); ``H = ε|1⟩⟨1|``; no temperatures.

    Args:
        gamma_in: filling rate ``Γ_L > 0``.
        gamma_out: emptying rate ``Γ_R > 0``.
        energy: level energy ``ε``.

    Returns:
        :class:`~jaxqep.GKLSModel` (count jump 1 with weight 1 for the current into the
        right lead).

    Raises:
        ValueError: a non-positive rate.

    Example:
        >>> import jaxqep
        >>> jaxqep.thermal.resonant_level(0.7, 0.3).n_jumps
        2
    """
    gl = _positive(gamma_in, "gamma_in")
    gr = _positive(gamma_out, "gamma_out")
    eps = val.real_scalar(energy, "energy")
    up = jnp.asarray(SIGMA_MINUS.T, jnp.complex128)
    h = eps * jnp.diag(jnp.array([0.0, 1.0]))
    jumps = jnp.stack([jnp.sqrt(gl) * up, jnp.sqrt(gr) * up.T])
    return GKLSModel(h, jumps, (0, 1))


def qubit_two_baths(omega: ArrayLike, gammas: Sequence, betas: Sequence) -> GKLSModel:
    """A qubit ``H = ω|1⟩⟨1|`` between two thermal baths (local = global here).

    Args:
        omega: level splitting ``ω > 0``.
        gammas: rates ``(γ_0, γ_1)``.
        betas: inverse temperatures ``(β_0, β_1)``.

    Returns:
        :class:`~jaxqep.GKLSModel` with jumps ``(σ⁻, σ⁺)`` per bath, labels ``(0, 0, 1, 1)``.

    Raises:
        ValueError: negative rates, non-positive ``ω`` or ``β``.

    Example:
        >>> import jaxqep
        >>> m = jaxqep.thermal.qubit_two_baths(1.0, (0.1, 0.1), (1.0, 1.0))
        >>> round(float(jaxqep.entropy_production(m).total), 12)
        0.0
    """
    g0, g1 = _two(gammas, "gammas")
    b0, b1 = _two(betas, "betas")
    omega = _positive(omega, "omega")
    sm = jnp.asarray(SIGMA_MINUS)
    jumps = jnp.concatenate([local_jumps(sm, omega, g0, b0), local_jumps(sm, omega, g1, b1)])
    h = omega * jnp.diag(jnp.array([0.0, 1.0]))
    return GKLSModel(h, jumps, (0, 0, 1, 1), jnp.stack([jnp.asarray(b0), jnp.asarray(b1)]))


def _pair_hamiltonian(omega1, omega2, g, delta) -> Array:
    sm = jnp.asarray(SIGMA_MINUS)
    sp = sm.T
    n = sp @ sm
    eye = jnp.eye(2)
    sz = jnp.asarray(SIGMA_Z)
    return (
        omega1 * jnp.kron(n, eye)
        + omega2 * jnp.kron(eye, n)
        + 2 * g * (jnp.kron(sp, sm) + jnp.kron(sm, sp))
        + delta * jnp.kron(sz, sz)
    )


def xx_pair(
    omega1: ArrayLike,
    omega2: ArrayLike,
    g: ArrayLike,
    gammas: Sequence,
    betas: Sequence,
    delta: ArrayLike = 0.0,
    kind: str = "local",
) -> GKLSModel:
    """Two qubits with an XX (XXZ for ``delta ≠ 0``) coupling, each at its own bath.

    ``H = ω₁ n₁ + ω₂ n₂ + g(σˣσˣ + σʸσʸ) + Δ σᶻσᶻ`` (``n = |1⟩⟨1|``). ``kind="local"``:
    jumps ``σ⁻_i, σ⁺_i`` at the bare frequency ``ω_i`` (the textbook local equation, which
    can violate the second law); ``kind="global"``: Davies jumps of ``σˣ_i`` with a flat
    spectral density (consistent).

    Args:
        omega1: frequency of qubit 1 (bath 0).
        omega2: frequency of qubit 2 (bath 1).
        g: coupling.
        gammas: rates ``(γ_0, γ_1)``.
        betas: inverse temperatures ``(β_0, β_1)``.
        delta: ZZ anisotropy ``Δ``.
        kind: ``"local"`` or ``"global"``.

    Returns:
        :class:`~jaxqep.GKLSModel`.

    Raises:
        ValueError: a bad ``kind``, negative rates, non-positive frequencies or ``β``.

    Example:
        >>> import jaxqep
        >>> m = jaxqep.thermal.xx_pair(1.0, 1.0, 0.05, (0.01, 0.01), (0.5, 1.0))
        >>> m.n_jumps, m.n_baths
        (4, 2)
    """
    if kind not in ("local", "global"):
        raise ValueError(f"kind: must be 'local' or 'global', got {kind!r}")
    g0, g1 = _two(gammas, "gammas")
    b0, b1 = _two(betas, "betas")
    omega1 = _positive(omega1, "omega1")
    omega2 = _positive(omega2, "omega2")
    h = _pair_hamiltonian(omega1, omega2, jnp.asarray(g), jnp.asarray(delta))
    eye = jnp.eye(2)
    sm = jnp.asarray(SIGMA_MINUS)
    if kind == "local":
        j0 = local_jumps(jnp.kron(sm, eye), omega1, g0, b0)
        j1 = local_jumps(jnp.kron(eye, sm), omega2, g1, b1)
    else:
        sx = jnp.asarray(SIGMA_X)
        j0 = davies_jumps(h, jnp.kron(sx, eye), b0, g0)
        j1 = davies_jumps(h, jnp.kron(eye, sx), b1, g1)
    labels = (0,) * j0.shape[0] + (1,) * j1.shape[0]
    return GKLSModel(h, jnp.concatenate([j0, j1]), labels, jnp.stack([b0, b1]).astype(float))


def three_level_maser(
    omega_c: ArrayLike,
    omega_h: ArrayLike,
    drive: ArrayLike,
    gammas: Sequence,
    betas: Sequence,
    detuning: ArrayLike = 0.0,
) -> GKLSModel:
    """The Scovil–Schulz-DuBois three-level maser in the frame rotating with the drive.

    Levels ``|0⟩, |1⟩, |2⟩`` with bare energies ``H₀ = diag(0, ω_c, ω_h)``; the hot bath
    (0) drives ``0 ↔ 2``, the cold bath (1) ``0 ↔ 1`` (local jumps at the bare
    frequencies); a classical field of strength ``ε`` drives ``1 ↔ 2`` at frequency
    ``ω_h − ω_c − Δ``. In the rotating frame ``H = Δ|2⟩⟨2| + ε(|1⟩⟨2| + |2⟩⟨1|)``; the heat
    is measured with ``H₀`` (the model's ``reference``), so ``P = J_h + J_c`` is the power
    delivered to the field and, when it is positive, ``η = P/J_h = 1 − ω_c/ω_h``.

    Args:
        omega_c: cold transition frequency ``ω_c > 0``.
        omega_h: hot transition frequency ``ω_h > ω_c``.
        drive: field strength ``ε``.
        gammas: rates ``(γ_h, γ_c)``.
        betas: inverse temperatures ``(β_h, β_c)``.
        detuning: ``Δ``.

    Returns:
        :class:`~jaxqep.GKLSModel` (bath 0 hot, bath 1 cold).

    Raises:
        ValueError: negative rates, non-positive frequencies or ``β``, ``ω_h ≤ ω_c``.

    Example:
        >>> import jaxqep
        >>> m = jaxqep.thermal.three_level_maser(1.0, 3.0, 0.1, (0.05, 0.05), (0.2, 2.0))
        >>> bool(jaxqep.entropy_production(m).power > 0)
        True
    """
    gh, gc = _two(gammas, "gammas")
    bh, bc = _two(betas, "betas")
    omega_c = _positive(omega_c, "omega_c")
    omega_h = _positive(omega_h, "omega_h")
    omega_h = val.check(omega_h, omega_h <= omega_c, "omega_h: must exceed omega_c")
    e = np.eye(3)

    def ket_bra(i, j):
        return jnp.asarray(np.outer(e[i], e[j]))

    h = detuning * ket_bra(2, 2) + drive * (ket_bra(1, 2) + ket_bra(2, 1))
    h0 = jnp.diag(jnp.stack([jnp.zeros(()), omega_c, omega_h]))
    jh = local_jumps(ket_bra(0, 2), omega_h, gh, bh)
    jc = local_jumps(ket_bra(0, 1), omega_c, gc, bc)
    return GKLSModel(
        h,
        jnp.concatenate([jh, jc]),
        (0, 0, 1, 1),
        jnp.stack([bh, bc]).astype(float),
        reference=h0,
    )


def absorption_refrigerator(
    omega_c: ArrayLike,
    omega_h: ArrayLike,
    g: ArrayLike,
    gammas: Sequence,
    betas: Sequence,
    kind: str = "global",
) -> GKLSModel:
    """The three-qubit absorption refrigerator (Linden–Popescu–Skrzypczyk).

    Qubits ``(c, h, r)`` with frequencies ``ω_c``, ``ω_h``, ``ω_r = ω_c + ω_h``, the
    resonant three-body coupling ``g(|1_c 1_h 0_r⟩⟨0_c 0_h 1_r| + h.c.)``; baths 0 (cold),
    1 (hot, the driving heat), 2 (room), each on its qubit. ``kind="global"``: Davies jumps
    of ``σˣ`` of each qubit with flat spectral densities; ``kind="local"``: ``σ±`` at the
    bare frequencies. The cooling COP is ``J_c/J_h`` (:func:`cooling_cop`).

    Args:
        omega_c: cold qubit frequency.
        omega_h: hot qubit frequency.
        g: three-body coupling.
        gammas: rates ``(γ_c, γ_h, γ_r)``.
        betas: inverse temperatures ``(β_c, β_h, β_r)``.
        kind: ``"global"`` or ``"local"``.

    Returns:
        :class:`~jaxqep.GKLSModel` (``d = 8``).

    Raises:
        ValueError: bad ``kind``, rates, frequencies or ``β``.

    Example:
        >>> import jaxqep
        >>> m = jaxqep.thermal.absorption_refrigerator(1.0, 2.0, 0.05, (0.01,) * 3,
        ...                                            (1.0, 0.1, 0.5))
        >>> bool(jaxqep.heat_currents(m)[0] > 0)   # heat is drawn from the cold bath
        True
    """
    if kind not in ("local", "global"):
        raise ValueError(f"kind: must be 'local' or 'global', got {kind!r}")
    gs = tuple(gammas)
    bs = tuple(betas)
    if len(gs) != 3 or len(bs) != 3:
        raise ValueError("gammas, betas: expected three entries (cold, hot, room)")
    omega_c = _positive(omega_c, "omega_c")
    omega_h = _positive(omega_h, "omega_h")
    omega_r = omega_c + omega_h
    sm = jnp.asarray(SIGMA_MINUS)
    n = sm.T @ sm
    ops = [lambda o, i=i: site_operator(o, i, 3) for i in range(3)]
    h0 = omega_c * ops[0](n) + omega_h * ops[1](n) + omega_r * ops[2](n)
    e = np.eye(8)
    up = np.outer(e[0b110], e[0b001])  # |1_c 1_h 0_r><0_c 0_h 1_r|
    h = h0 + g * jnp.asarray(up + up.T)
    jumps = []
    labels: list[int] = []
    for i, w in enumerate((omega_c, omega_h, omega_r)):
        if kind == "local":
            jb = local_jumps(ops[i](sm), w, gs[i], bs[i])
        else:
            jb = davies_jumps(h, ops[i](jnp.asarray(SIGMA_X)), bs[i], gs[i])
        jumps.append(jb)
        labels += [i] * jb.shape[0]
    betas_arr = jnp.stack([jnp.asarray(b, float) for b in bs])
    return GKLSModel(h, jnp.concatenate(jumps), tuple(labels), betas_arr)


def xxz_chain(
    n_sites: int,
    coupling: ArrayLike = 1.0,
    delta: ArrayLike = 1.0,
    field: ArrayLike = 1.0,
    gammas: Sequence = (0.1, 0.1),
    betas: Sequence = (0.5, 1.0),
) -> GKLSModel:
    """An N-site XXZ chain with local thermal baths on its end sites.

    ``H = h Σ_i n_i + J Σ_i (σˣ_iσˣ_{i+1} + σʸ_iσʸ_{i+1} + Δ σᶻ_iσᶻ_{i+1})``; bath 0 on
    site 0 and bath 1 on site ``N−1``, local jumps ``σ⁻, σ⁺`` at frequency ``h``.

    Args:
        n_sites: number of spins ``N ≥ 2`` (static).
        coupling: exchange ``J``.
        delta: anisotropy ``Δ``.
        field: on-site frequency ``h > 0``.
        gammas: rates ``(γ_0, γ_1)``.
        betas: inverse temperatures ``(β_0, β_1)``.

    Returns:
        :class:`~jaxqep.GKLSModel` with ``d = 2ᴺ``, four jumps.

    Raises:
        ValueError: ``n_sites < 2``, negative rates, non-positive ``h`` or ``β``.

    Example:
        >>> import jaxqep
        >>> m = jaxqep.thermal.xxz_chain(3, 1.0, 0.5, 1.0, (0.1, 0.1), (0.5, 1.0))
        >>> m.d, m.n_jumps
        (8, 4)
    """
    if not isinstance(n_sites, int) or n_sites < 2:
        raise ValueError(f"n_sites: must be a Python int >= 2, got {n_sites!r}")
    g0, g1 = _two(gammas, "gammas")
    b0, b1 = _two(betas, "betas")
    field = _positive(field, "field")
    sm = jnp.asarray(SIGMA_MINUS)
    sp = sm.T
    sz = jnp.asarray(SIGMA_Z)
    nn = sp @ sm
    d = 2**n_sites
    h = jnp.zeros((d, d))
    for i in range(n_sites):
        h = h + field * site_operator(nn, i, n_sites)
    for i in range(n_sites - 1):
        left = jnp.eye(2**i)
        right = jnp.eye(2 ** (n_sites - i - 2))
        bond = 2 * (jnp.kron(sp, sm) + jnp.kron(sm, sp)) + delta * jnp.kron(sz, sz)
        h = h + coupling * jnp.kron(jnp.kron(left, bond), right)
    j0 = local_jumps(site_operator(sm, 0, n_sites), field, g0, b0)
    j1 = local_jumps(site_operator(sm, n_sites - 1, n_sites), field, g1, b1)
    jumps = jnp.concatenate([j0, j1])
    # Static sparsity (independent of the traced values): nearest-neighbour flips + diagonal.
    idx = np.arange(d)
    hp = np.eye(d, dtype=bool)
    for i in range(n_sites - 1):
        flip = idx ^ (0b11 << (n_sites - i - 2))
        bits = ((idx >> (n_sites - i - 2)) & 1) != ((idx >> (n_sites - i - 1)) & 1)
        hp[idx[bits], flip[bits]] = True
    jp = np.zeros((4, d, d), bool)
    for k, site in enumerate((0, 0, n_sites - 1, n_sites - 1)):
        # local_jumps gives (lowering, raising) per site: σ⁻ takes a set bit (spin up,
        # basis state |0⟩ of the site) to a cleared one, σ⁺ the reverse. One direction
        # per jump keeps the magnetisation sectors visible under jit (thermal._sectors).
        bit = 1 << (n_sites - site - 1)
        src = idx[(idx & bit) != 0] if k % 2 == 0 else idx[(idx & bit) == 0]
        jp[k, src ^ bit, src] = True
    return GKLSModel(h, jumps, (0, 0, 1, 1), jnp.stack([b0, b1]).astype(float), pattern=(hp, jp))
