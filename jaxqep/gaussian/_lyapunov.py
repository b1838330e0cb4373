"""Kernels for the NESS equation of a Gaussian network, with implicit derivatives.

The stationary covariance solves the *Lyapunov-type* equation

    𝓛(X) := A X + X A^† + Diag(Γ ∘ diag X) = B,                          (*)

with ``A = i Hᵀ - (G + Γ)/2`` (L×L, complex), ``Γ`` the rates of the self-consistent
reservoirs (``Γ = 0``: a plain continuous Lyapunov equation) and ``Diag(Γ ∘ diag X)`` the
source with which each self-consistent reservoir feeds back the occupation it sees.

Routes (each one is a solver object of :mod:`jaxqep.solvers`; this module holds the
numerical kernels they share):

* ``eig`` (CPU, :class:`jaxqep.solvers.Eig`): ``A = V Λ V⁻¹`` once (LAPACK ``geev`` via a
  host callback: ``jnp.linalg.eig`` has no GPU lowering and its CPU kernel is
  single-threaded), every plain solve is ``X = V [(V⁻¹ Q V^{-†}) ∘ K] V^†`` with the
  Cauchy matrix ``K_ij = 1/(λ_i + λ̄_j)`` plus one step of iterative refinement.
* ``sign`` (any backend, :class:`jaxqep.solvers.SignIteration`): the scaled Newton
  iteration for the matrix sign function of ``[[A, Q], [0, -A^†]]`` (inverses and matmuls
  only). Backward stable also where ``A`` is defective (exceptional points), where the
  eigenvector route fails.
* ``direct`` (:class:`jaxqep.solvers.DirectLyapunov`, the default for small networks):
  ``eig`` on CPU and ``sign`` elsewhere, chosen by ``jax.lax.platform_dependent`` (so the
  same jitted function lowers for any platform). On CPU the eig result is *verified*: if
  its full residual is not at rounding level (a defective or nearly defective ``A``,
  e.g. the PT dimer at its exceptional point) the sign iteration runs instead.
* Self-consistent reservoirs with the direct routes: an exact Schur complement on the
  ``L`` diagonal unknowns ``c = diag X``: ``X = 𝓟⁻¹(B - Diag(Γ ∘ c))`` with
  ``(I + M Γ) c = diag 𝓟⁻¹(B)``, ``M q = diag 𝓟⁻¹(Diag q)`` (a real L×L system solved by
  the package's GMRES, :class:`jaxqep._krylov.GMRES`; each operator application is one
  exact plain solve). No fixed-point (Büttiker) loop.
* ``eigh-Krylov`` (:class:`jaxqep.solvers.EighKrylov`): see :func:`eigh_krylov_solve`;
  its fast path ``EighSchur`` (the default for larger networks with self-consistent
  reservoirs; GMRES on ``diag X`` and the bath rows only) lives in
  :mod:`jaxqep.solvers._gaussian_eigh_schur`.
* ``tridiagonal`` (:class:`jaxqep.solvers.Tridiagonal`): chains whose NESS is tridiagonal,
  O(L²), see :func:`_tridiagonal_ansatz`.

Every route returns its solution with the flag ``ok``; the callers then check the full
residual of (*) (:func:`relative_residual`) and never return a NESS whose residual is not
at rounding level (:data:`RESIDUAL_TOL`).

Derivatives never go through the iterations: :func:`implicit_solve` wraps a route in
``jax.lax.custom_linear_solve`` with (*) as ``matvec``. Tangents solve
``𝓛(Ẋ) = Ḃ - 𝓛̇(X)`` and cotangents the transposed equation
``𝓛ᵀ(Y) = Aᵀ Y + Y Ā + Diag(Γ ∘ diag Y)`` (same form with ``A → Aᵀ``, the adjoint
Lyapunov equation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
from jaxtyping import Array

from .._hermitian import hermitian_part
from .._krylov import GMRES

Method = Literal["auto", "sign", "eig"]

__all__ = [
    "lyapunov_operator",
    "solve_lyapunov",
    "relative_residual",
    "implicit_solve",
    "direct_solve",
    "eig_solve",
    "sign_solve",
    "eigh_krylov_solve",
    "tridiagonal_solve",
    "RESIDUAL_TOL",
]

# Largest accepted normwise backward error ‖𝓛(X) - B‖ / (‖B‖ + ‖𝓛‖ ‖X‖) of a returned NESS.
RESIDUAL_TOL = 1e-11


def lyapunov_operator(A: Array, sc_rates: Array | None, X: Array) -> Array:
    """``A X + X A^† + Diag(Γ ∘ diag X)`` (the left-hand side of (*))."""
    out = A @ X + X @ jnp.conj(A.T)
    if sc_rates is not None:
        out = out + jnp.diag(sc_rates.astype(X.dtype) * jnp.diagonal(X))
    return out


def operator_norm(A: Array, sc_rates: Array | None) -> Array:
    """An upper bound of ``‖𝓛‖₂``: ``2‖A‖_F + max Γ``."""
    n = 2.0 * jnp.linalg.norm(A)
    if sc_rates is not None:
        n = n + jnp.max(jnp.abs(sc_rates))
    return n


def _kron_product(Kx: Array, Ky: Array, X: Array) -> Array:
    """``(K_x ⊗ 1 + 1 ⊗ K_y) X`` by mode products, ``O(L² (l_x + l_y))`` (real factors
    and complex ``X``: real products)."""
    lx, ly = Kx.shape[0], Ky.shape[0]
    if jnp.iscomplexobj(X) and not jnp.iscomplexobj(Kx):
        return _kron_product(Kx, Ky, jnp.real(X)) + 1j * _kron_product(Kx, Ky, jnp.imag(X))
    X3 = X.reshape(lx, ly, -1)
    # The y product batched over i with K_y broadcast: its result is in place (as an
    # einsum, XLA transposes the operand and the result).
    out = (Kx @ X3.reshape(lx, -1)).reshape(lx, ly, -1) + jnp.matmul(
        jnp.broadcast_to(Ky, (lx, ly, ly)), X3)
    return out.reshape(X.shape)


def coherent_part(A: Array, real_h: bool) -> Array:
    """``K`` of ``A = iK + R`` (``K``, ``R`` Hermitian): ``(A - A^†)/(2i)``, exactly
    Hermitian as computed (the entries of a pair come from the same two numbers and a
    product with ``-i/2`` is exact). ``real_h`` (the stability matrix of a real ``H``, or
    its transpose in adjoint solves): ``Im A``, the same matrix without a transpose."""
    return jnp.imag(A) if real_h else (A - jnp.conj(A.T)) * (-0.5j)


def _hermitian_product(A: Array, X: Array, real_h: bool, kron: tuple[int, int] | None):
    """``(A X, bound)`` for ``A = iK + R``: ``A X`` with ``R`` replaced by its diagonal
    and ``bound = ‖R - diag R‖_F ‖X‖_F`` (exactly 0 for a stability matrix), so that
    ``‖A X - (A X)_computed‖ <= bound`` up to rounding.

    ``real_h``: ``K`` is real (two real products, not one complex). ``kron = (l_x, l_y)``:
    ``K = K_x ⊗ 1 + 1 ⊗ K_y`` (a lattice): mode products instead of an ``L³`` product
    where the factors reproduce ``K`` to rounding (the deviation is added to ``bound``);
    the dense product where they do not (also under ``vmap``).
    """
    fro = jnp.linalg.norm
    if not real_h and kron is None:
        return A @ X, jnp.zeros((), jnp.real(X).dtype)
    K = coherent_part(A, real_h)
    R = jnp.real(A) if real_h else hermitian_part(A)
    d = jnp.real(jnp.diagonal(R))
    bound = fro(R - jnp.diag(jnp.diagonal(R))) * fro(X)

    def dense():
        if real_h:
            return (K @ jnp.real(X)) + 1j * (K @ jnp.imag(X))
        return K @ X

    if kron is None:
        return d[:, None] * X + 1j * dense(), bound
    from ._kronecker import kronecker_split

    Kx, Ky, exact, dev = kronecker_split(K, *kron)
    # Where the structure holds, its deviation (rounding) is bounded, not dropped.
    KX, bound = lazy_fallback(exact, (_kron_product(Kx, Ky, X), bound + dev * fro(X)),
                              lambda: (dense(), bound))
    return d[:, None] * X + 1j * KX, bound


def relative_residual(
    A: Array,
    sc_rates: Array | None,
    X: Array,
    B: Array,
    *,
    hermitian: bool = False,
    real_h: bool = False,
    kron: tuple[int, int] | None = None,
) -> Array:
    """Normwise backward error ``‖𝓛(X) - B‖_F / (‖B‖_F + ‖𝓛‖ ‖X‖_F)`` of a solution of (*).

    ``hermitian=True`` asserts that ``X`` is exactly Hermitian: then ``X A^† = (A X)^†``
    and one matmul is saved (the residual of a NESS is one product, not two).
    ``real_h=True`` asserts that ``A = iK - D/2`` with ``K`` real and ``D`` diagonal (the
    stability matrix of a real ``H``): then ``A X`` is two real matmuls, not one complex.
    ``kron = (l_x, l_y)`` (with ``hermitian``): ``K`` is a Kronecker sum (a lattice), whose
    product is ``O(L² (l_x + l_y))``; checked at run time (the dense product where it
    does not hold). Parts of ``A`` an assertion leaves out are bounded, never dropped.
    """
    fro = jnp.linalg.norm
    if hermitian:
        AX, bound = _hermitian_product(A, X, real_h, kron)
        LX = AX + jnp.conj(AX.T)
        if sc_rates is not None:
            LX = LX + jnp.diag(sc_rates.astype(X.dtype) * jnp.diagonal(X))
        res = fro(LX - B) + 2.0 * bound
    else:
        res = fro(lyapunov_operator(A, sc_rates, X) - B)
    scale = fro(B) + operator_norm(A, sc_rates) * fro(X)
    return res / jnp.where(scale > 0, scale, 1.0)


def condition_estimate(A: Array, sc_rates: Array | None, X: Array, B: Array) -> Array:
    """The condition estimate every Gaussian route reports: ``‖𝓛‖ ‖X‖_F / ‖B‖_F``.

    A lower bound of ``κ(𝓛) = ‖𝓛‖ ‖𝓛⁻¹‖`` (since ``‖𝓛⁻¹‖ >= ‖X‖/‖B‖``), computed from
    the returned solution, hence the same number for every method; it grows like
    ``‖A‖ / (smallest damping rate)`` for weakly damped networks. ``1`` when ``B = 0``.
    """
    fro = jnp.linalg.norm
    nb = fro(B)
    k = operator_norm(A, sc_rates) * fro(X) / jnp.where(nb > 0, nb, 1.0)
    return jax.lax.stop_gradient(jnp.where(nb > 0, jnp.maximum(k, 1.0), 1.0))


# --------------------------------------------------------------------------------------
# Plain factorisations: X -> A X + X A^† inverted.
# --------------------------------------------------------------------------------------


def _sign_factor(A: Array, maxiter: int = 100):
    n = A.shape[0]
    eye = jnp.eye(n, dtype=A.dtype)
    norm = jnp.linalg.norm

    # The sequence A_k does not depend on Q, but keeping all of it costs maxiter L²
    # memory; we rerun it per solve instead.
    def run(Q: Array) -> tuple[Array, Array]:
        def cond(state):
            _, _, k, err = state
            return (k < maxiter) & (err > 1e-13)

        def body(state):
            Ak, Qk, k, err_prev = state
            Ainv = jnp.linalg.inv(Ak)
            # Frobenius-norm scaling (Byers) speeds up the start; switched off close to
            # convergence where it would only perturb the quadratic phase.
            mu = jnp.sqrt(norm(Ainv) / norm(Ak))
            mu = jnp.where(err_prev < 1e-2, 1.0, mu)
            A_new = 0.5 * (mu * Ak + Ainv / mu)
            Q_new = 0.5 * (mu * Qk + (Ainv @ Qk @ jnp.conj(Ainv.T)) / mu)
            err = norm(A_new - Ak) / norm(A_new)
            err = jnp.where(jnp.isfinite(err), err, 0.0)  # stop on breakdown, flagged below
            return A_new, Q_new, k + 1, err

        # sign(Z) for A X + X A^† + Q' = 0 is [[-I, 2X], [0, I]]; we want A X + X A^† = Q.
        Af, Qf, k, _ = jax.lax.while_loop(
            cond, body, (A, -Q, jnp.asarray(0), jnp.asarray(jnp.inf, dtype=jnp.real(A).dtype))
        )
        ok = (k < maxiter) & jnp.all(jnp.isfinite(Qf)) & (norm(Af + eye) <= 1e-6 * jnp.sqrt(n))
        return 0.5 * Qf, ok

    return run


def host_eig(A: Array) -> tuple[Array, Array]:
    """Eigendecomposition of a square matrix by LAPACK ``geev`` in a host callback (CPU).

    ~5x faster than ``jnp.linalg.eig`` on the development machine; never differentiated
    (derivatives come from the adjoint Lyapunov solve of ``custom_linear_solve``).
    """
    dtype = jnp.result_type(A.dtype, jnp.complex64)
    shapes = (
        jax.ShapeDtypeStruct(A.shape[:-1], dtype),
        jax.ShapeDtypeStruct(A.shape, dtype),
    )

    def _host(a):
        w, v = np.linalg.eig(np.asarray(a))
        return w.astype(dtype), v.astype(dtype)

    return jax.pure_callback(_host, shapes, A.astype(dtype), vmap_method="sequential")


def _eig_factor(A: Array):
    lam, V = host_eig(A)
    W = jnp.linalg.inv(V)
    Vh = jnp.conj(V.T)
    Wh = jnp.conj(W.T)
    denom = lam[:, None] + jnp.conj(lam)[None, :]
    scale = jnp.max(jnp.abs(lam)) + jnp.finfo(jnp.real(lam).dtype).tiny
    # Hurwitz with a margin above round-off: a mode with Re λ ≈ 0 has no NESS.
    ok = jnp.all(jnp.real(lam) < -1e-13 * scale) & jnp.all(jnp.isfinite(lam))
    ok = ok & jnp.all(jnp.isfinite(W))
    K = 1.0 / jnp.where(ok, denom, 1.0)

    def raw(Q):
        return V @ (((W @ Q) @ Wh) * K) @ Vh

    def plain(Q):
        X = raw(Q)
        # One step of iterative refinement (3 more matmuls) for ill-conditioned V.
        R = Q - (A @ X + X @ jnp.conj(A.T))
        return X + raw(R)

    def diag_of(q):
        # diag of raw(Diag q): 2 matmuls + O(L²).
        Y = ((W * q[None, :]) @ Wh) * K
        return jnp.sum((V @ Y) * jnp.conj(V), axis=1)

    return plain, diag_of, ok


def _schur(plain, diag_of, B: Array, g: Array, rtol: float = 1e-14):
    """Exact elimination of the self-consistent feedback: a real L×L system for ``diag X``.

    Returns ``(X, converged)``.
    """
    n = B.shape[0]
    c0 = jnp.real(jnp.diagonal(plain(B)))

    def schur(c):
        return c + jnp.real(diag_of((g * c).astype(B.dtype)))

    op = lx.FunctionLinearOperator(schur, jax.ShapeDtypeStruct((n,), c0.dtype))
    sol = lx.linear_solve(
        op, c0, GMRES(rtol=rtol, atol=0.0, restart=min(n, 60), max_steps=4 * n + 60),
        throw=False,
    )
    c = sol.value
    X = plain(B - jnp.diag((g * c).astype(B.dtype)))
    return X, sol.result == lx.RESULTS.successful


def eig_solve(A: Array, g: Array | None, B: Array) -> tuple[Array, Array]:
    """(*) by the eigendecomposition of ``A`` (CPU only). Returns ``(X, ok)``."""
    plain, diag_of, ok = _eig_factor(A)
    if g is None:
        return plain(B), ok
    X, conv = _schur(plain, diag_of, B, g)
    return X, ok & conv


def sign_solve(A: Array, g: Array | None, B: Array) -> tuple[Array, Array]:
    """(*) by the Newton sign iteration (any backend). Returns ``(X, ok)``."""
    run = _sign_factor(A)
    X0, ok = run(B)
    if g is None:
        return X0, ok

    def plain(Q):
        return run(Q)[0]

    def diag_of(q):
        return jnp.diagonal(plain(jnp.diag(q)))

    X, conv = _schur(plain, diag_of, B, g)
    return X, ok & conv


def lazy_fallback(good: Array, value, fallback: Callable):
    """``value`` where ``good``, else ``fallback()``; the fallback runs only if needed.

    A ``while_loop`` rather than a ``lax.cond``: under ``vmap`` a ``cond`` with a batched
    predicate becomes a ``select`` that evaluates both branches for every element, while a
    batched ``while_loop`` runs its body only if some element needs it (and keeps the
    others' values).
    """

    def cond(st):
        return ~st[0]

    def body(st):
        # Inside a cond on the carried flag, not the body itself: XLA's loop-invariant
        # code motion hoists a fallback that reads only loop-invariant values (all of
        # them do) out of the loop, where it would run every time; it does not move code
        # out of a conditional's branches.
        return jnp.ones_like(st[0]), jax.lax.cond(st[0], lambda: st[1], fallback)

    return jax.lax.while_loop(cond, body, (good, value))[1]


def _probe_residual(
    A: Array, g: Array | None, X: Array, B: Array, products: tuple | None = None
) -> Array:
    """:func:`relative_residual` on two fixed probe vectors: ``O(L²)`` instead of the
    ``O(L³)`` of the full residual (which :func:`~jaxqep.gaussian._ness.solve_ness`
    computes once for the guarantee). Enough to see eigenvectors fail (a defective A gives
    backward errors of order 1). One pass over ``X`` (``X [V, A^† V]``). ``products``:
    ``(Y ↦ A Y, Y ↦ A^† Y)`` for thin ``Y`` where the caller has a structured form (a
    lattice: mode products); dense products by default."""
    if products is None:
        products = (lambda Y: A @ Y, lambda Y: jnp.conj(A.T) @ Y)
    times_a, times_ah = products
    n = A.shape[-1]
    k = jnp.arange(n, dtype=jnp.real(A).dtype)
    V = jnp.stack([jnp.cos(0.7 * k + 0.3), jnp.sin(1.3 * k + 0.1)], axis=1).astype(X.dtype)
    XW = X @ jnp.concatenate([V, times_ah(V)], axis=1)
    XV = XW[:, :2]
    out = times_a(XV) + XW[:, 2:] - B @ V
    if g is not None:
        out = out + (g.astype(X.dtype) * jnp.diagonal(X))[:, None] * V
    fro = jnp.linalg.norm
    scale = fro(B @ V) + operator_norm(A, g) * fro(XV)
    return fro(out) / jnp.where(scale > 0, scale, 1.0)


def _direct_cpu(A: Array, g: Array | None, B: Array) -> tuple[Array, Array]:
    # eig, verified; the sign iteration where eigenvectors fail (defective A).
    X, ok = eig_solve(A, g, B)
    # Not Hurwitz: no NESS either way, nothing to fall back to.
    good = ~ok | (_probe_residual(A, g, X, B) <= RESIDUAL_TOL)
    return lazy_fallback(good, (X, ok), lambda: sign_solve(A, g, B))


def _direct_default(A: Array, g: Array | None, B: Array) -> tuple[Array, Array]:
    return sign_solve(A, g, B)


# The two branches of the platform_dependent below (tests run both on CPU).
DIRECT_BRANCHES = {"cpu": _direct_cpu, "default": _direct_default}


def direct_solve(A: Array, g: Array | None, B: Array) -> tuple[Array, Array]:
    """(*) by ``eig`` (verified, CPU) or ``sign`` (elsewhere): ``lax.platform_dependent``."""
    if g is None:
        return jax.lax.platform_dependent(
            A, B, cpu=lambda a, b: _direct_cpu(a, None, b),
            default=lambda a, b: _direct_default(a, None, b),
        )
    return jax.lax.platform_dependent(A, g, B, cpu=_direct_cpu, default=_direct_default)


# --------------------------------------------------------------------------------------
# Krylov on the full equation, preconditioned in the eigenbasis of the Hermitian part.
# --------------------------------------------------------------------------------------


def _mm(U: Array, X: Array, real_u: bool) -> Array:
    """``U @ X`` for complex ``X``; two real products when ``U`` is real."""
    if real_u:
        Ur = jnp.real(U)
        return (Ur @ jnp.real(X)) + 1j * (Ur @ jnp.imag(X))
    return U @ X


def _mm_right(X: Array, U: Array, real_u: bool) -> Array:
    if real_u:
        Ur = jnp.real(U)
        return (jnp.real(X) @ Ur) + 1j * (jnp.imag(X) @ Ur)
    return X @ U


def eigh_krylov_solve(
    A: Array,
    g: Array | None,
    B: Array,
    *,
    real_u: bool = False,
    rtol: float = 1e-13,
    restart: int = 40,
    max_steps: int = 400,
) -> tuple[Array, Array, Array]:
    """(*) by GMRES on the full equation, right-preconditioned by a uniform-damping solve.

    Why this method (measured on the 2-core development machine, square lattices with
    Büttiker probes on every site; see ``benchmarks/bench_gaussian.py``): every direct
    route needs a non-Hermitian eigendecomposition or Schur form of ``A`` (``zgeev`` of a
    1024×1024 matrix: 19 s there, against 1.5 s for a real symmetric ``eigh``), and the
    Schur complement then costs several O(L³) plain solves per Krylov step. Here
    ``A = iK - D/2`` with ``K`` Hermitian and ``D = diag(γ + Γ) >= 0``; with
    ``K = U Ω U^†`` (one Hermitian ``eigh``, real for real ``H``), the operator with the
    damping replaced by its mean ``d̄``,

        𝓟(Y) = i[Ω, Y] - d̄ Y         (in the eigenbasis: elementwise, i(ω_i - ω_j) - d̄),

    is inverted exactly and elementwise. GMRES (the package's, on the real and imaginary
    parts) runs on ``Z ↦ Z - U^† 𝓒(U (Z ⊘ P) U^†) U``, ``𝓒(X) = ½ (S - 2d̄) ∘ X -
    Diag(Γ ∘ diag X)``, ``S_kl = d_k + d_l``: the part of (*) that 𝓟 leaves out, applied
    elementwise in the site basis. Each step costs four products with ``U`` (eight real
    ones for complex ``X``), no factorisation; 17-22 steps to 1e-12 on 8×8 and 16×16
    lattices with probes on every site (contraction of the damping spread, not of the
    bandwidth: the Hermitian part is inverted exactly). The self-consistent feedback is
    part of the operator, so no outer loop either. Lowers on every backend (eigh,
    matmuls). Non-uniform damping (probes on some sites only) costs more steps; the
    caller verifies the residual and falls back to an exact direct route.

    Returns ``(X, ok, steps)``; ``ok`` False if GMRES did not converge or ``A`` has an
    undamped direction.
    """
    n = A.shape[0]
    Ah = jnp.conj(A.T)
    K = (A - Ah) / 2j
    K = 0.5 * (K + jnp.conj(K.T))
    d = -jnp.real(jnp.diagonal(A + Ah))
    dbar = jnp.mean(d)
    dbar_safe = jnp.where(dbar > 0, dbar, 1.0)
    # For real H the eigenvectors must be real: take the real symmetric eigh (the real part
    # of a complex eigh's U is only right where LAPACK happens to return real vectors).
    w, U = jnp.linalg.eigh(jnp.real(K)) if real_u else jnp.linalg.eigh(K)
    U = U.astype(K.dtype)
    Uh = jnp.conj(U.T)
    P = 1j * (w[:, None] - w[None, :]) - dbar_safe
    S = 0.5 * (d[:, None] + d[None, :]) - dbar_safe
    gg = None if g is None else g.astype(jnp.real(B).dtype)

    def to_site(Y):
        return _mm_right(_mm(U, Y, real_u), Uh, real_u)

    def to_eig(X):
        return _mm_right(_mm(Uh, X, real_u), U, real_u)

    def correction(X):
        out = S * X
        if gg is not None:
            out = out - jnp.diag(gg * jnp.diagonal(X))
        return out

    def op(z):
        Z = z[0] + 1j * z[1]
        R = Z - to_eig(correction(to_site(Z / P)))
        return (jnp.real(R), jnp.imag(R))

    Bt = to_eig(B)
    rhs = (jnp.real(Bt), jnp.imag(Bt))
    struct = jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), rhs)
    sol = lx.linear_solve(
        lx.FunctionLinearOperator(op, struct),
        rhs,
        GMRES(rtol=rtol, atol=0.0, restart=restart, max_steps=max_steps, stagnation_cycles=3),
        throw=False,
    )
    Z = sol.value[0] + 1j * sol.value[1]
    X = to_site(Z / P)
    ok = (sol.result == lx.RESULTS.successful) & (dbar > 0) & jnp.all(jnp.isfinite(X))
    del n
    return X, ok, sol.stats["num_steps"]


# --------------------------------------------------------------------------------------
# Chains whose NESS is tridiagonal.
# --------------------------------------------------------------------------------------


def _times_tridiagonal(M: Array, lower: Array, diag: Array, upper: Array) -> Array:
    """``M @ X`` for tridiagonal ``X`` (``diag``, ``upper`` = X_{k,k+1}, ``lower`` =
    X_{k+1,k}) in O(L²)."""
    out = M * diag[None, :]
    out = out.at[:, 1:].add(M[:, :-1] * upper[None, :])
    out = out.at[:, :-1].add(M[:, 1:] * lower[None, :])
    return out


def _tridiagonal_ansatz(A: Array, g: Array, B: Array) -> tuple[Array, Array]:
    """Exact NESS of chains whose covariance is tridiagonal, in O(L²); else a failure flag.

    For ``A = iK - D/2`` (``K`` Hermitian, ``D ≥ 0`` diagonal) the ansatz
    ``X = diag(c) + β Y`` with ``Y = i(triu(K, 1) - tril(K, -1))`` solves (*) exactly when
    ``K`` is tridiagonal with a uniform diagonal, ``|K_{k,k+1}|`` is uniform across sites
    without a physical bath, ``B`` is diagonal and the physical baths sit on the two end
    sites -- the chain (27) of seed 000 with any rates γ_1, γ_L and any profile of
    self-consistent rates (its eqs. 29a/29b are the uniform case). Then
    ``c_{k+1} - c_k = β (d_k + d_{k+1})/2`` on every bond, and the diagonal equations fix
    ``c_1`` and ``β`` (two real unknowns, least squares over all entries; a bath on a
    third site over-determines them and the residual test rejects the candidate).

    Returns ``(X, ok)``; ``ok`` is True only if the full residual of (*) is at rounding
    level *and* ``D > 0`` on every site (then ``A + A^† < 0``, so ``A`` is Hurwitz and the
    plain operator invertible).
    """
    L = A.shape[0]
    Ah = jnp.conj(A.T)
    K = (A - Ah) / 2j
    d = -jnp.real(jnp.diagonal(A + Ah))
    up = jnp.diagonal(K, 1)
    y_up, y_lo = 1j * up, jnp.conj(1j * up)
    t = jnp.concatenate([jnp.zeros(1, d.dtype), jnp.cumsum(0.5 * (d[:-1] + d[1:]))])
    zeros = jnp.zeros(L - 1, A.dtype)
    one = jnp.ones(L, A.dtype)

    def residual(lower, diag, upper, with_b):
        AX = _times_tridiagonal(A, lower, diag, upper)
        R = AX + jnp.conj(AX.T) + jnp.diag(g * diag)
        return R - B if with_b else R

    r0 = -B
    r1 = residual(zeros, one, zeros, False)
    r2 = residual(y_lo, t.astype(A.dtype), y_up, False)

    def dot(x, y):
        return jnp.real(jnp.vdot(x, y))

    gram = jnp.array([[dot(r1, r1), dot(r1, r2)], [dot(r2, r1), dot(r2, r2)]])
    rhs = -jnp.array([dot(r1, r0), dot(r2, r0)])
    # A 2x2 solve written out (no LAPACK call: it would be one more batched factorisation).
    det = gram[0, 0] * gram[1, 1] - gram[0, 1] * gram[1, 0]
    safe = jnp.where(det != 0, det, 1.0)
    c1 = (rhs[0] * gram[1, 1] - gram[0, 1] * rhs[1]) / safe
    beta = (gram[0, 0] * rhs[1] - gram[1, 0] * rhs[0]) / safe
    diag = (c1 + beta * t).astype(A.dtype)
    lower, upper = beta * y_lo, beta * y_up
    R = residual(lower, diag, upper, True)
    X = jnp.diag(diag)
    X = X.at[jnp.arange(L - 1), jnp.arange(1, L)].set(upper)
    X = X.at[jnp.arange(1, L), jnp.arange(L - 1)].set(lower)
    fro = jnp.linalg.norm
    scale = fro(B) + 2.0 * fro(A) * fro(X)
    exact = fro(R) <= 1e-12 * scale
    damped = jnp.min(d) > 1e-12 * jnp.max(jnp.abs(d))
    ok = exact & damped & (det != 0) & jnp.all(jnp.isfinite(X))
    return X, ok


def tridiagonal_solve(
    A: Array, g: Array | None, B: Array, fallback: Callable | None = None
) -> tuple[Array, Array]:
    """The structured chain solve; where the ansatz fails, ``fallback`` (run only for the
    elements that need it, see :func:`lazy_fallback`) or ``ok = False``."""
    gg = jnp.zeros(A.shape[0], B.dtype) if g is None else g.astype(B.dtype)
    X, ok = _tridiagonal_ansatz(A, gg, B)
    if fallback is None:
        return X, ok
    return lazy_fallback(ok, (X, ok), lambda: fallback(A, g, B))


# --------------------------------------------------------------------------------------
# Implicit differentiation.
# --------------------------------------------------------------------------------------


def implicit_solve(
    route: Callable, A: Array, g: Array | None, B: Array, transpose_route: Callable | None = None
):
    """Solve (*) with ``route(A, g, B) -> (X, aux)``, differentiated implicitly.

    ``transpose_route`` (default ``route``) solves the transposed equation (``A → Aᵀ``)
    for cotangents; ``aux`` carries no derivative.
    """
    A_sg = jax.lax.stop_gradient(A)
    g_sg = None if g is None else jax.lax.stop_gradient(g)
    transpose_route = route if transpose_route is None else transpose_route

    def matvec(X):
        return lyapunov_operator(A, g, X)

    def solve(_, b):
        return route(A_sg, g_sg, b)

    def transpose_solve(_, b):
        return transpose_route(A_sg.T, g_sg, b)

    return jax.lax.custom_linear_solve(matvec, B, solve, transpose_solve, has_aux=True)


def _general_route(A, g, B):
    return direct_solve(A, g, B)


def _auto_route(A, g, B):
    # 0.1's "auto" on inputs without static structure: the chain ansatz first (with
    # self-consistent reservoirs), verified, else the direct route (lax.cond).
    if g is None:
        return direct_solve(A, g, B)
    return tridiagonal_solve(A, g, B, fallback=_general_route)


def resolve_method(method: str) -> Callable:
    """The route of a 0.1 ``method`` string for :func:`solve_lyapunov`."""
    if method == "auto":
        return _auto_route
    if method == "sign":
        return sign_solve
    if method == "eig":
        return eig_solve
    raise ValueError(f"method must be 'auto', 'sign' or 'eig', got {method!r}")


def solve_lyapunov(
    A: Array,
    B: Array,
    sc_rates: Array | None = None,
    method: Method = "auto",
    *,
    with_condition: bool = False,
):
    """Solve ``A X + X A^† + Diag(Γ ∘ diag X) = B`` in O(L³) with implicit derivatives.

    The NESS kernel of :mod:`jaxqep.gaussian` (see :func:`jaxqep.linalg.solve_lyapunov`
    for the general Lyapunov and Sylvester equations).

    Args:
        A: complex ``(L, L)`` stability matrix; every eigenvalue must have ``Re λ < 0``.
        B: ``(L, L)`` right-hand side (any matrix; Hermitian ``B`` gives Hermitian ``X``).
        sc_rates: optional ``(L,)`` nonnegative rates ``Γ`` of the diagonal feedback
            term (self-consistent reservoirs); ``None`` for a plain Lyapunov equation.
        method: ``"sign"`` (Newton sign iteration, any backend), ``"eig"`` (CPU
            eigendecomposition) or ``"auto"`` (the O(L²) structured solve of chains whose
            NESS is tridiagonal when it applies, else eig on CPU verified by its residual,
            sign elsewhere, chosen by ``jax.lax.platform_dependent``).
        with_condition: also return the condition estimate ``‖𝓛‖ ‖X‖/‖B‖`` (a lower
            bound of the condition number of (*), the same for every method).

    Returns:
        ``(X, stable)`` (or ``(X, stable, condition)``): the solution and a boolean flag,
        False when no unique solution was found (``A`` not Hurwitz).

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import solve_lyapunov
        >>> X, ok = solve_lyapunov(-0.5 * jnp.eye(2, dtype=complex), -jnp.eye(2, dtype=complex))
        >>> float(X[0, 0].real), bool(ok)
        (1.0, True)
    """
    route = resolve_method(method)
    A = jnp.asarray(A)
    dtype = jnp.result_type(A.dtype, jnp.asarray(B).dtype, jnp.complex64)
    A = A.astype(dtype)
    B = jnp.asarray(B).astype(dtype)
    g = None if sc_rates is None else jnp.asarray(sc_rates)
    X, ok = implicit_solve(route, A, g, B)
    ok = ok & (relative_residual(A, g, jax.lax.stop_gradient(X), B) <= RESIDUAL_TOL)
    if with_condition:
        return X, ok, condition_estimate(A, g, X, B)
    return X, ok
