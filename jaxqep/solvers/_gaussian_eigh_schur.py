"""Self-consistent reservoirs on large networks whose damping is uniform except on a few
sites (lattices with a Büttiker probe on every site and a few physical baths): GMRES on
``diag X`` and the bath rows of the NESS only (why: see :func:`eigh_schur_solve`)."""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array

from .._krylov import GMRES
from .._solution import RESULTS
from ..gaussian._lyapunov import (
    RESIDUAL_TOL,
    _kron_product,
    _probe_residual,
    coherent_part,
    lazy_fallback,
)
from ..gaussian._model import damping_deviation
from ._gaussian_bases import DenseBasis, KroneckerBasis, kronecker_factors
from ._gaussian_common import register_gaussian
from ._gaussian_krylov import (
    EighKrylov,
    _route as _krylov_route,
)

__all__ = ["EighSchur", "eigh_schur_solve", "schur_routes", "SCHUR_MIN_SIZE", "SCHUR_MAX_SITES"]

# Smallest network for which Auto prefers EighSchur to DirectLyapunov (with
# self-consistent reservoirs), measured on random networks with probes on every site.
SCHUR_MIN_SIZE = 48
# Most sites whose damping may differ from the common one (the unknowns are L(1 + 2 sites)).
SCHUR_MAX_SITES = 8


def damping_split(A: Array, sites: int) -> tuple[Array, Array, Array, Array]:
    """``d = d̄ + Σ_{k ∈ idx} δ_k e_k`` for the damping ``d = -diag(A + A^†)``.

    ``d̄`` is the median damping and ``idx`` the ``sites`` sites (static count) where
    ``|d - d̄|`` is largest. Returns ``(dbar, idx, delta, exact)``; ``exact`` is False
    when the damping deviates from ``d̄`` on more sites than that (beyond rounding).
    """
    n = A.shape[0]
    m = min(int(sites), n)
    rdt = jnp.real(A).dtype
    d = -2.0 * jnp.real(jnp.diagonal(A))
    dbar, dev, tol = damping_deviation(d)
    idx = jnp.argsort(-jnp.abs(dev))[:m]
    rest = jnp.max(jnp.abs(dev).at[idx].set(0.0)) if m < n else jnp.zeros((), rdt)
    exact = (rest <= tol) & (dbar > 0)
    return dbar, idx, dev[idx], exact


def _kron_products(A: Array, Kx: Array, Ky: Array):
    """``(Y ↦ A Y, Y ↦ A^† Y)`` for ``A = iK + Diag(a)`` with ``K = K_x ⊗ 1 + 1 ⊗ K_y``
    Hermitian, by mode products (the probe residual's products on a lattice)."""
    K0 = (jnp.diagonal(Kx)[:, None] + jnp.diagonal(Ky)[None, :]).reshape(-1)
    a = jnp.diagonal(A) - 1j * K0.astype(A.dtype)  # the diagonal of A - iK
    return (lambda Y: 1j * _kron_product(Kx, Ky, Y) + a[:, None] * Y,
            lambda Y: -1j * _kron_product(Kx, Ky, Y) + jnp.conj(a)[:, None] * Y)


def eigh_schur_solve(
    A: Array,
    g: Array | None,
    B: Array,
    *,
    sites: int = 8,
    real_u: bool = False,
    rtol: float = 1e-13,
    restart: int = 40,
    max_steps: int = 400,
    kron: tuple[int, int] | None = None,
    factors: tuple[Array, Array, Array] | None = None,
) -> tuple[Array, Array, Array]:
    """(*) exactly, by GMRES on ``diag X`` and the rows of ``X`` at the bath sites.

    Why this method (issue 14; measured on the 2-core development machine, see
    ``benchmarks/bench_gaussian.py``): with ``A = iK - D/2`` (``K`` Hermitian, ``D =
    diag d``) and ``K = U Ω U^†`` (one Hermitian ``eigh``, real for real ``H``), split the
    damping as ``d = d̄ + δ`` with ``d̄`` the median damping (the probe rate shared by
    most sites) and ``δ`` supported on at most ``sites`` sites ``b`` (the physical baths).
    With ``𝓖 = (i[K, ·] - d̄)⁻¹`` (elementwise ``1/(i(ω_i - ω_j) - d̄)`` in the
    eigenbasis), (*) reads

        X = 𝓖(B + ½{Diag δ, X} - Diag(Γ ∘ diag X)),

    whose right-hand side depends on ``X`` only through ``c = diag X`` and the rows
    ``R = X[b, :]`` (``X[:, b] = R^†`` for Hermitian ``X``). GMRES (the package's) runs on
    these ``L + |b| L`` unknowns; every step is ``U^† Diag(q) U`` (one real matmul for
    real ``U``), an elementwise product, and ``diag(U N U^†)`` for the Hermitian result
    ``N`` (one more: the antisymmetric imaginary part of ``N`` has no diagonal), plus
    ``O(|b| L²)`` for the bath rows; the full ``X`` is formed once at the end. Two real
    matmuls per step instead of the eight of :func:`~jaxqep.gaussian._lyapunov.
    eigh_krylov_solve` (same iteration count: the reduced operator is the full one
    restricted to the range of its non-identity part); no non-Hermitian
    eigendecomposition, no outer Büttiker loop, lowers on every backend. Complex ``H``:
    the same with complex ``U`` (two complex matmuls per step). A non-Hermitian ``B``
    (cotangents) is split into two Hermitian solves, the second only where needed.

    Right preconditioner (``O(|b| L²)`` per step): the bath-row block's dominant part,
    ``R_b ↦ ½δ_b ((R_b U) ∘ h_b) U^†`` with ``h_b,j = Σ_i |U_bi|² 𝓖_ij``, is inverted
    exactly (``R_b ↦ ((R_b U) / (1 - ½δ_b h_b)) U^†``; ``Re(1 - ½δ_b h_b) >= ½`` since
    ``δ_b >= -d̄``). Where the baths are strong compared with the probes (``δ/d̄ = 10`` at
    the Fig. 3 rates) that block has eigenvalues of modulus up to 2.4 and GMRES needed 48
    steps on a 16 × 16 lattice; preconditioned, 26 (16 instead of 18 at ``δ/d̄ = 2``).

    ``kron = (l_x, l_y)``: ``K = K_x ⊗ 1 + 1 ⊗ K_y`` (checked at run time; rectangular
    lattices), ``U = U_x ⊗ U_y`` from two small ``eigh`` and every product by mode
    products, ``O(L² (l_x + l_y))`` instead of ``O(L³)``
    (:class:`~jaxqep.solvers._gaussian_bases.KroneckerBasis`).

    ``factors``: ``(K_x, K_y, exact)`` of ``kron`` where the caller has them
    (:func:`~jaxqep.gaussian._lyapunov.coherent_part`,
    :func:`~jaxqep.gaussian._kronecker.kronecker_factors`).

    Returns ``(X, ok, steps)``; ``ok`` is False if the damping deviates from ``d̄`` on
    more than ``sites`` sites, ``d̄ <= 0``, ``K`` is not the Kronecker sum ``kron``, or
    GMRES did not converge (callers fall back).
    """
    n = A.shape[0]
    rdt = jnp.real(A).dtype
    dbar, idx, delta, exact = damping_split(A, sites)
    dbar_safe = jnp.where(dbar > 0, dbar, 1.0)
    basis: Any  # DenseBasis | KroneckerBasis (the same operations on their own types)
    if kron is None:
        basis = DenseBasis.of(coherent_part(A, real_u), real_u)
    else:
        if factors is None:
            factors = kronecker_factors(coherent_part(A, real_u), *kron)
        Kx, Ky, exact_k = factors
        exact = exact & exact_k
        basis = KroneckerBasis.of(Kx, Ky, real_u)
    # Matrices in the eigenbasis are kept in the basis's layout (no transposes per step).
    Pinv = basis.pinv(dbar_safe)
    bath = basis.bath(idx)
    gg = jnp.zeros(n, rdt) if g is None else g.astype(rdt)
    # The bath-row preconditioner: 1 / (1 - ½δ_b h_b), h_b = |U_b|² 𝓖.
    h = basis.rows(basis.bath_abs2(bath), Pinv)
    scale_r = 1.0 / (1.0 - 0.5 * delta[:, None] * h)

    # The bath rows are unknowns in the eigenbasis, R̃ = X[b, :] U (the same norm), so a
    # step needs no products with U for them.
    def source(c, Rt):
        # U^† (½{Diag δ, X} - Diag(Γ ∘ c)) U, X Hermitian with diag c and rows R̃ U^†.
        return basis.diag_to(-gg * c) + basis.outer(bath, 0.5 * delta[:, None] * Rt)

    def outputs(N):
        # diag(U N U^†) and the rows U_b N, for Hermitian N.
        return basis.outputs(bath, N)

    def precondition(z):
        c, Rr, Ri = z
        return c, (Rr + 1j * Ri) * scale_r

    def op(y):
        c, Rt = precondition(y)
        dg, rows = outputs(Pinv * source(c, Rt))
        return (c - dg, jnp.real(Rt - rows), jnp.imag(Rt - rows))

    # B = Bh + i Ba with Bh, Ba Hermitian (X = Xh + i Xa): diag Bh = Re diag B and diag Ba
    # = Im diag B exactly. The NESS's own B is diagonal: one pass over B tells, and the
    # off-diagonal parts (cotangents) are formed and transformed only where they exist.
    dgB = jnp.diagonal(B)
    diagonal = jnp.all(B == jnp.diag(dgB))

    def off_part(k):
        Bk = jnp.where(k == 0, 0.5 * (B + jnp.conj(B.T)), (B - jnp.conj(B.T)) / 2j)
        return jnp.where(jnp.eye(n, dtype=bool), 0.0, Bk).astype(A.dtype)

    def solve_hermitian(k):
        # U^† Bk U: the diagonal part by diag_to, the rest by the full transform.
        Y0 = basis.diag_to(jnp.where(k == 0, jnp.real(dgB), jnp.imag(dgB))).astype(A.dtype)
        Y = lazy_fallback(diagonal, Y0, lambda: Y0 + basis.to(off_part(k)))
        N0 = Pinv * Y
        dg0, rows0 = outputs(N0)
        # Where the damping is not of the required form the result is discarded (ok is
        # False): a zero right-hand side ends GMRES at once.
        rhs = jax.tree_util.tree_map(lambda x: jnp.where(exact, x, 0.0),
                                     (dg0, jnp.real(rows0), jnp.imag(rows0)))
        struct = jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), rhs)
        sol = lx.linear_solve(
            lx.FunctionLinearOperator(op, struct),
            rhs,
            GMRES(rtol=rtol, atol=0.0, restart=restart, max_steps=max_steps,
                  stagnation_cycles=3),
            throw=False,
        )
        c, Rt = precondition(sol.value)
        X = basis.from_(N0 + Pinv * source(c, Rt))
        steps = jnp.asarray(sol.stats["num_steps"], jnp.int32)
        return X, sol.result == lx.RESULTS.successful, steps

    # One traced solve in a loop of at most two passes (the second only where Ba != 0:
    # adjoint solves), so the GMRES is compiled once.
    passes = jnp.where(diagonal & jnp.all(jnp.imag(dgB) == 0), 1, 2)

    def body(st):
        k, X, ok, steps = st
        Xk, okk, sk = solve_hermitian(k)
        X = jnp.where(k == 0, Xk, X + 1j * Xk)
        return k + 1, X, ok & okk, steps + sk

    init = (jnp.asarray(0), jnp.zeros((n, n), A.dtype), jnp.asarray(True),
            jnp.zeros((), jnp.int32))
    _, X, ok, steps = jax.lax.while_loop(lambda st: st[0] < passes, body, init)
    ok = ok & exact & jnp.all(jnp.isfinite(X))
    return X, ok, steps


class EighSchur(EighKrylov):
    """:class:`EighKrylov`'s fast path: GMRES on ``diag C`` and the bath rows of the NESS.

    For :class:`jaxqep.GaussianNetwork` with self-consistent reservoirs whose damping
    ``γ_k + Γ_k`` is the same on all sites but at most ``sites`` of them (a Büttiker probe
    on every site and a few physical baths: lattices, random networks). One Hermitian
    ``eigh`` (real for real ``H``), then two real matmuls per Krylov step (:class:`EighKrylov`
    needs eight) and ``O(sites L²)``; exact, no outer loop, every backend. Where the
    damping is not of that form, GMRES does not converge, or the residual (on two probe
    vectors) is not at rounding level, the solve continues as :class:`EighKrylov` (with its
    own fallback to :class:`DirectLyapunov` when ``fallback=True``); the full residual is
    verified in any case. Implicitly differentiated (the adjoint equation by the same
    method). The default of :class:`Auto` with self-consistent reservoirs from ``L = 48`` on.

    Args:
        rtol: GMRES tolerance on the reduced system (and on :class:`EighKrylov`'s).
        restart: Krylov dimension between restarts.
        max_steps: iteration cap.
        fallback: let the :class:`EighKrylov` continuation fall back to
            :class:`DirectLyapunov` where its GMRES fails.
        sites: how many sites may carry a damping different from the common one (static;
            the unknowns are ``L (1 + 2 sites)`` real numbers). ``None`` (default): the
            number the network found at construction (``damping_sites``, at most
            ``SCHUR_MAX_SITES``), or ``SCHUR_MAX_SITES`` where its rates were traced.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jaxqep.gaussian.lattice_hamiltonian(4, 4, 1.0, 0.5)
        >>> g = jnp.zeros(16).at[0].set(0.1).at[-1].set(0.1)
        >>> n = jnp.zeros(16).at[0].set(1.0).at[-1].set(2.0)
        >>> net = jaxqep.GaussianNetwork(H, g, n, 0.05 * jnp.ones(16))
        >>> a = jaxqep.entropy_production(net, jaxqep.solvers.EighSchur(fallback=False))
        >>> b = jaxqep.entropy_production(net, jaxqep.solvers.DirectLyapunov())
        >>> bool(abs(a.total / b.total - 1) < 1e-9), int(a.iterations) > 0
        (True, True)
    """

    sites: int | None = None

    def __check_init__(self):
        if self.sites is not None and int(self.sites) < 1:
            raise ValueError(f"EighSchur: sites must be >= 1, got {self.sites!r}")


def resolved_sites(problem, solver) -> int:
    """The static count of non-uniformly damped sites :func:`eigh_schur_solve` takes."""
    if solver.sites is not None:
        return int(solver.sites)
    found = getattr(problem, "damping_sites", None)
    if found is None:
        return SCHUR_MAX_SITES
    return max(1, min(int(found), SCHUR_MAX_SITES))


def _route(A, g, B, *, real_u, solver, kron=None, sites=SCHUR_MAX_SITES):
    factors = None if kron is None else kronecker_factors(coherent_part(A, real_u), *kron)

    def schur():
        return eigh_schur_solve(
            A, g, B, sites=sites, real_u=real_u, rtol=solver.rtol,
            restart=solver.restart, max_steps=solver.max_steps, kron=kron, factors=factors,
        )

    # The Schur solve only where the damping has the required form (for a dense basis
    # lazily, also under vmap: its eigh is not spent on a network it does not apply to;
    # a Kronecker basis costs two small eigh, and its GMRES ends at once there), then (for
    # a Kronecker basis that does not apply) the dense basis, then EighKrylov where it did
    # not apply or did not reach rounding level.
    if kron is not None:
        X, ok, steps = schur()
    else:
        exact = damping_split(A, sites)[3]
        n = A.shape[0]
        init = (jnp.zeros((n, n), A.dtype), jnp.asarray(False), jnp.zeros((), jnp.int32))
        X, ok, steps = lazy_fallback(~exact, init, schur)
    products = None if factors is None else _kron_products(A, factors[0], factors[1])
    good = ok & (_probe_residual(A, g, X, B, products) <= RESIDUAL_TOL)

    if kron is not None:
        def dense():
            Xd, (okd, sd) = _route(A, g, B, real_u=real_u, solver=solver, sites=sites)
            return Xd, (okd, (steps + sd).astype(jnp.int32))

        return lazy_fallback(good, (X, (ok, steps)), dense)

    def krylov():
        Xk, (okk, sk) = _krylov_route(A, g, B, real_u=real_u, solver=solver)
        return Xk, (okk, (steps + sk).astype(jnp.int32))

    return lazy_fallback(good, (X, (ok, steps)), krylov)


def schur_routes(problem, solver, *, kron=None, name="EighSchur"):
    """The routes of :class:`EighSchur` (``kron``: in a Kronecker basis, for
    :class:`~jaxqep.solvers.KroneckerSchur`)."""
    r = partial(_route, real_u=problem.real_h, solver=solver, kron=kron,
                sites=resolved_sites(problem, solver))
    return dict(
        route=r,
        transpose_route=r,
        name=name,
        failure=RESULTS.not_converged,
        hint=": GMRES did not converge (raise max_steps, or use fallback=True or "
        "DirectLyapunov())",
    )


register_gaussian(EighSchur, schur_routes)
