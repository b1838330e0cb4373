"""O(L³) solvers for the NESS equation of a Gaussian network, with implicit derivatives.

The stationary covariance solves the *Lyapunov-type* equation

    𝓛(X) := A X + X A^† + Diag(Γ ∘ diag X) = B,                          (*)

with ``A = i Hᵀ - (G + Γ)/2`` (L×L, complex), ``Γ`` the rates of the self-consistent
reservoirs (``Γ = 0``: a plain continuous Lyapunov equation) and ``Diag(Γ ∘ diag X)`` the
source with which each self-consistent reservoir feeds back the occupation it sees.

Two factorisations of the plain operator ``X ↦ A X + X A^†`` are offered:

* ``"sign"`` (GPU-friendly): the scaled Newton iteration for the matrix sign function
  of ``Z = [[A, Q], [0, -A^†]]``, whose limit is ``[[-I, 2X], [0, I]]``.  In block form it
  is ``A ← (μA + A⁻¹/μ)/2``, ``Q ← (μQ + A⁻¹ Q A^{-†}/μ)/2``: one inverse and two matmuls
  per step, all of which lower on GPUs.  Convergence is quadratic after a start-up of
  about ``log2(|Im λ| / |Re λ|)`` steps, so very weakly damped modes cost extra steps
  (never more than ``maxiter``).  A mode with ``Re λ >= 0`` makes the iteration fail to
  reach ``A = -I``: this is how "no NESS" is detected.
* ``"eig"`` (CPU only: ``jnp.linalg.eig`` has no GPU lowering): ``A = V Λ V⁻¹`` once,
  then every solve is ``X = V [(V⁻¹ Q V^{-†}) ∘ K] V^†`` with the Cauchy matrix
  ``K_ij = -1/(λ_i + λ̄_j)`` (4 matmuls), followed by one step of iterative refinement
  that removes the error amplified by an ill-conditioned ``V``.

Self-consistent reservoirs (Γ ≠ 0) are handled *exactly* by a Schur complement on the
``L`` unknown diagonal entries ``c = diag X``: writing ``𝓟⁻¹`` for the plain solve,
``X = 𝓟⁻¹(B - Diag(Γ ∘ c))`` and ``c`` solves the L×L system
``(I + M Γ) c = diag 𝓟⁻¹(B)`` with ``M q = diag 𝓟⁻¹(Diag q)``.  Forming ``M`` costs
O(L⁴), so the system is solved by GMRES in c-space, each operator application being
one exact plain solve (2 matmuls with the ``"eig"`` factorisation).  Total cost:
O(L³) for the factorisation + O(n_krylov L³).  No fixed-point (Büttiker) loop.

Chains (``method="auto"``, self-consistent rates, every site damped): when ``A`` is
tridiagonal with a uniform diagonal and uniform hopping modulus, with baths on its end
sites -- the chain (27) of seed 000 with any end rates and *any* profile of
self-consistent rates -- the NESS is exactly tridiagonal and follows in O(L²) from two real unknowns
(:func:`_tridiagonal_ansatz`, the general form of eqs. 29a/29b). The candidate is accepted
only if the full residual of (*) is at rounding level; otherwise the general route runs.

Derivatives never go through the iterations: the whole solve is wrapped in
``jax.lax.custom_linear_solve`` with the operator (*) as ``matvec``.  JAX then
differentiates implicitly: tangents solve ``𝓛(Ẋ) = Ḃ - 𝓛̇(X)`` (same solver), and
cotangents solve the transposed equation ``𝓛ᵀ(Y) = Aᵀ Y + Y Ā + Diag(Γ ∘ diag Y)``,
which has the same form with ``A → Aᵀ`` (the adjoint Lyapunov equation).
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

Method = Literal["auto", "sign", "eig"]

__all__ = ["lyapunov_operator", "solve_lyapunov", "resolve_method"]


def resolve_method(method: str) -> Method:
    """``"auto"`` → ``"eig"`` on CPU (fastest there), ``"sign"`` on any other backend."""
    if method == "auto":
        return "eig" if jax.default_backend() == "cpu" else "sign"
    if method not in ("sign", "eig"):
        raise ValueError(f"method must be 'auto', 'sign' or 'eig', got {method!r}")
    return method


def lyapunov_operator(A: Array, sc_rates: Array | None, X: Array) -> Array:
    """``A X + X A^† + Diag(Γ ∘ diag X)`` (the left-hand side of (*))."""
    out = A @ X + X @ jnp.conj(A.T)
    if sc_rates is not None:
        out = out + jnp.diag(sc_rates * jnp.diagonal(X))
    return out


# --------------------------------------------------------------------------------------
# Plain factorisations. Each returns (solve(Q) -> X with A X + X A^† = Q, stable flag).
# --------------------------------------------------------------------------------------


def _sign_factor(A: Array, maxiter: int = 100):
    n = A.shape[0]
    eye = jnp.eye(n, dtype=A.dtype)
    norm = jnp.linalg.norm

    # The sequence A_k does not depend on Q, but keeping all of it costs maxiter L²
    # memory; we rerun it per solve instead (only used once per plain NESS).
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


def _eig(A: Array) -> tuple[Array, Array]:
    """Eigendecomposition of a (complex) square matrix.

    On CPU we call LAPACK's ``geev`` through NumPy in a host callback: on this class of
    machine it is ~5x faster than ``jnp.linalg.eig`` (whose CPU kernel is single-threaded)
    and the factorisation is never differentiated (derivatives come from the adjoint
    Lyapunov solve of ``custom_linear_solve``), so nothing is lost.
    """
    if jax.default_backend() != "cpu":  # pragma: no cover - no accelerator in CI
        return jnp.linalg.eig(A)
    dtype = jnp.result_type(A.dtype, jnp.complex64)
    shapes = (
        jax.ShapeDtypeStruct(A.shape[:-1], dtype),
        jax.ShapeDtypeStruct(A.shape, dtype),
    )

    def host_eig(a):
        w, v = np.linalg.eig(np.asarray(a))
        return w.astype(dtype), v.astype(dtype)

    return jax.pure_callback(host_eig, shapes, A.astype(dtype), vmap_method="sequential")


def _eig_factor(A: Array):
    lam, V = _eig(A)
    W = jnp.linalg.inv(V)
    Vh = jnp.conj(V.T)
    Wh = jnp.conj(W.T)
    denom = lam[:, None] + jnp.conj(lam)[None, :]
    scale = jnp.max(jnp.abs(lam)) + jnp.finfo(jnp.real(lam).dtype).tiny
    # Hurwitz with a margin above round-off: a mode with Re λ ≈ 0 has no NESS.
    ok = jnp.all(jnp.real(lam) < -1e-13 * scale) & jnp.all(jnp.isfinite(lam))
    K = 1.0 / jnp.where(ok, denom, 1.0)
    # Condition estimate of X -> A X + X A^†: ‖𝓛‖ <= 2‖A‖ and
    # ‖𝓛⁻¹‖ <= (‖V‖ ‖V⁻¹‖)² / min|λ_i + λ̄_j| (Frobenius norms bound the 2-norms).
    fro = jnp.linalg.norm
    cond = 2.0 * fro(A) * (fro(V) * fro(W)) ** 2 / jnp.min(jnp.abs(denom))
    cond = jnp.where(ok, cond, jnp.inf)

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

    return plain, diag_of, ok, cond


def _gmres(matvec, b: Array, tol: float, maxiter: int) -> Array:
    """Unrestarted GMRES (Arnoldi with re-orthogonalised Gram-Schmidt, Givens rotations).

    Written here rather than taken from ``jax.scipy.sparse.linalg`` because that one wraps
    itself in ``custom_linear_solve`` and would try to transpose our operator, which
    contains a ``while_loop``.  ``matvec`` is only ever evaluated, never differentiated.
    Stops when the residual estimate is below ``tol * |b|`` or after ``maxiter`` steps.
    """
    n = b.shape[0]
    m = min(n, maxiter)
    dtype = b.dtype
    beta = jnp.linalg.norm(b)
    safe_beta = jnp.where(beta > 0, beta, 1.0)
    Q = jnp.zeros((m + 1, n), dtype).at[0].set(b / safe_beta)
    R = jnp.zeros((m + 1, m), dtype)
    cs = jnp.zeros((m,), dtype)
    sn = jnp.zeros((m,), dtype)
    e = jnp.zeros((m + 1,), dtype).at[0].set(beta)
    mask_all = jnp.arange(m + 1)

    def cond(st):
        k, _, _, _, _, e = st
        return (k < m) & (jnp.abs(e[k]) > tol * beta)

    def body(st):
        k, Q, R, cs, sn, e = st
        w = matvec(Q[k])
        mask = (mask_all <= k).astype(dtype)
        h = (jnp.conj(Q) @ w) * mask
        w = w - h @ Q
        h2 = (jnp.conj(Q) @ w) * mask
        w = w - h2 @ Q
        h = h + h2
        hn = jnp.linalg.norm(w)
        Q = Q.at[k + 1].set(w / jnp.where(hn > 0, hn, 1.0))
        h = h.at[k + 1].set(hn)

        # apply the previous Givens rotations to the new column
        def rot(i, h):
            a, bb = h[i], h[i + 1]
            return (
                h.at[i]
                .set(jnp.conj(cs[i]) * a + jnp.conj(sn[i]) * bb)
                .at[i + 1]
                .set(-sn[i] * a + cs[i] * bb)
            )

        h = jax.lax.fori_loop(0, k, rot, h)
        a, bb = h[k], h[k + 1]
        r = jnp.sqrt(jnp.abs(a) ** 2 + jnp.abs(bb) ** 2)
        r_safe = jnp.where(r > 0, r, 1.0)
        c_k, s_k = a / r_safe, bb / r_safe
        h = h.at[k].set(r).at[k + 1].set(0.0)
        cs, sn = cs.at[k].set(c_k), sn.at[k].set(s_k)
        e = e.at[k + 1].set(-s_k * e[k]).at[k].set(jnp.conj(c_k) * e[k])
        R = R.at[:, k].set(h)
        return k + 1, Q, R, cs, sn, e

    k, Q, R, cs, sn, e = jax.lax.while_loop(cond, body, (0, Q, R, cs, sn, e))
    # Back substitution on the leading k×k triangle (unused columns padded to identity).
    active = jnp.arange(m) < k
    Rm = R[:m, :m]
    Rm = jnp.where(active[:, None] & active[None, :], Rm, jnp.eye(m, dtype=dtype))
    y = jax.scipy.linalg.solve_triangular(Rm, jnp.where(active, e[:m], 0.0), lower=False)
    return y @ Q[:m]


def _gmres_dense(matvec, b: Array, tol: float, maxiter: int) -> Array:
    x = _gmres(matvec, b, tol, maxiter)
    # One refinement sweep recovers digits lost to the orthogonalisation.
    return x + _gmres(matvec, b - matvec(x), tol, maxiter)


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
    plain operator invertible). Everything else goes to the general solver.
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


def _raw_solve(A: Array, sc_rates: Array | None, B: Array, method: str, structured: bool):
    """Solve (*) for a general (not necessarily Hermitian) B. Returns (X, (stable, κ))."""
    if structured and sc_rates is not None:
        # Chains with a tridiagonal NESS (see _tridiagonal_ansatz) in O(L²); the general
        # O(L³) route runs only if the ansatz fails (under vmap both branches run).
        X_fast, fast = _tridiagonal_ansatz(A, sc_rates.astype(B.dtype), B)
        d = -jnp.real(jnp.diagonal(A + jnp.conj(A.T)))
        # A + A^† = -D <= -min(d): ‖(X -> AX + XA^†)⁻¹‖₂ <= 1/min(d).
        cond_fast = 2.0 * jnp.linalg.norm(A) / jnp.min(jnp.where(fast, d, 1.0))
        return jax.lax.cond(
            fast,
            lambda: (X_fast, (jnp.asarray(True), cond_fast)),
            lambda: _general_solve(A, sc_rates, B, method),
        )
    return _general_solve(A, sc_rates, B, method)


def _general_solve(A: Array, sc_rates: Array | None, B: Array, method: str):
    n = A.shape[0]
    if method == "eig":
        plain, diag_of, ok, cond = _eig_factor(A)
        X0 = plain(B)
    else:
        run = _sign_factor(A)
        X0, ok = run(B)
        # No eigenvectors here: ‖𝓛‖ ‖X‖/‖B‖ is a lower bound of the condition number.
        fro = jnp.linalg.norm
        cond = 2.0 * fro(A) * fro(X0) / jnp.where(fro(B) > 0, fro(B), 1.0)
        cond = jnp.where(ok, cond, jnp.inf)

        def plain(Q):
            return run(Q)[0]

        def diag_of(q):
            return jnp.diagonal(plain(jnp.diag(q)))

    if sc_rates is None:
        return X0, (ok, cond)
    g = sc_rates.astype(B.dtype)

    def schur(c):
        return c + diag_of(g * c)

    c = _gmres_dense(schur, jnp.diagonal(X0), tol=1e-14, maxiter=n)
    return plain(B - jnp.diag(g * c)), (ok, cond)


def solve_lyapunov(
    A: Array,
    B: Array,
    sc_rates: Array | None = None,
    method: Method = "auto",
    *,
    with_condition: bool = False,
):
    """Solve ``A X + X A^† + Diag(Γ ∘ diag X) = B`` in O(L³) with implicit derivatives.

    Args:
        A: complex ``(L, L)`` stability matrix; every eigenvalue must have ``Re λ < 0``.
        B: ``(L, L)`` right-hand side (any matrix; Hermitian ``B`` gives Hermitian ``X``).
        sc_rates: optional ``(L,)`` nonnegative rates ``Γ`` of the diagonal feedback
            term (self-consistent reservoirs); ``None`` for a plain Lyapunov equation.
        method: ``"sign"`` (GPU-friendly Newton sign iteration), ``"eig"`` (CPU
            eigendecomposition) or ``"auto"`` (``"eig"`` on CPU, else ``"sign"``, and
            with self-consistent rates first the O(L²) structured solve of chains whose
            NESS is tridiagonal, kept only if its residual is at rounding level; see
            ``_tridiagonal_ansatz``).
        with_condition: also return a condition estimate of the plain Lyapunov operator
            ``X -> A X + X A^†``: with ``"eig"`` the upper bound
            ``2‖A‖ (‖V‖‖V⁻¹‖)² / min|λ_i + λ̄_j|`` (large for nearly undamped modes or
            nearly defective ``A``), with ``"sign"`` the lower bound ``2‖A‖‖X‖/‖B‖``;
            ``inf`` when ``A`` is not Hurwitz. The self-consistent feedback is not
            included in it.

    Returns:
        ``(X, stable)`` (or ``(X, stable, condition)``): the solution and a boolean flag,
        False when ``A`` is not Hurwitz (then no unique solution exists and ``X`` is
        meaningless).  Derivatives of ``X`` with respect to ``A``, ``B`` and
        ``sc_rates`` are implicit (adjoint Lyapunov equation); ``stable`` and
        ``condition`` carry no derivative.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import solve_lyapunov
        >>> X, ok = solve_lyapunov(-0.5 * jnp.eye(2, dtype=complex), -jnp.eye(2, dtype=complex))
        >>> float(X[0, 0].real), bool(ok)
        (1.0, True)
    """
    structured = method == "auto"
    method = resolve_method(method)
    A = jnp.asarray(A)
    dtype = jnp.result_type(A.dtype, jnp.asarray(B).dtype, jnp.complex64)
    A = A.astype(dtype)
    B = jnp.asarray(B).astype(dtype)
    g = None if sc_rates is None else jnp.asarray(sc_rates)
    # The solver itself is a black box for autodiff: it sees stop-gradient values only.
    A_sg = jax.lax.stop_gradient(A)
    g_sg = None if g is None else jax.lax.stop_gradient(g)

    def matvec(X):
        return lyapunov_operator(A, g, X)

    def solve(_, b):
        return _raw_solve(A_sg, g_sg, b, method, structured)

    def transpose_solve(_, b):
        return _raw_solve(A_sg.T, g_sg, b, method, structured)

    X, (ok, cond) = jax.lax.custom_linear_solve(matvec, B, solve, transpose_solve, has_aux=True)
    if with_condition:
        return X, ok, jax.lax.stop_gradient(cond)
    return X, ok
