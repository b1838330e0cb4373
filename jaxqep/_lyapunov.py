"""Continuous Lyapunov and Sylvester equations (``jaxqep.linalg``): jit, vmap, grad, CPU/GPU.

``solve_lyapunov(A, Q)`` solves ``A X + X A^H = Q`` (the convention of
``scipy.linalg.solve_continuous_lyapunov``) and ``solve_sylvester(A, B, Q)`` solves
``A X + X B = Q`` (``scipy.linalg.solve_sylvester``).

Algorithms, chosen per platform by ``jax.lax.platform_dependent`` (so one jitted function
lowers for CPU and GPU):

* CPU: eigendecompositions (LAPACK ``geev``, once for ``A`` in the Lyapunov case:
  ``A^H = V^{-H} Λ̄ V^H``), then ``X = V_A [(V_A⁻¹ Q V_B) ⊘ (λ_i + μ_j)] V_B⁻¹``, plus one
  step of iterative refinement where its backward error is above ``64 eps``
  (ill-conditioned eigenvectors), all in one host callback (NumPy; why: see
  :func:`_host_eig_solve`). The result is verified: where its normwise backward error
  is not at rounding level (defective or nearly defective matrices) the sign iteration
  below runs instead.
* elsewhere: the scaled Newton iteration for the matrix sign function of
  ``[[A, -Q], [0, -B]]`` (Roberts), whose limit is ``[[-I, 2X], [0, I]]``: inverses and
  matmuls only, backward stable also for defective matrices.

Both need the spectra of ``A`` and ``B`` in the open left half-plane, or both in the
open right half-plane (then ``-A X - X B = -Q`` is solved); otherwise a ``ValueError``
names the argument (under ``jit``: the same message as an equinox runtime error).

Derivatives are implicit (``jax.lax.custom_linear_solve``): tangents solve the same
equation with right-hand side ``Q̇ - Ȧ X - X Ḃ``, cotangents the transposed equation
``Aᵀ Y + Y Bᵀ = X̄``; the factorisations and iterations are never differentiated.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from . import _validate as val

__all__ = ["solve_lyapunov", "solve_sylvester"]

_RESIDUAL_TOL = 1e-11
# Below this normwise backward error the eigenvector solve is not refined.
_REFINE_TOL = 64 * float(np.finfo(np.float64).eps)
_MAXITER = 100


def _backward_error(A, B, X, Q, R):
    """Normwise backward error of ``X`` with residual ``R = Q - (A X + X B)`` (NumPy)."""
    fro = np.linalg.norm
    scale = fro(Q) + (fro(A) + fro(B)) * fro(X)
    return fro(R) / scale if scale > 0 else fro(R)


def _host_eig_solve(A, B, Q, lyapunov: bool):
    """The CPU algorithm on the host (NumPy, LAPACK ``geev``): ``(X, stable, res)``.

    ``X = V_A [(V_A⁻¹ Q V_B) ⊘ (λ_i + μ_j)] V_B⁻¹`` (``A^H = V^{-H} Λ̄ V^H`` in the Lyapunov
    case), one step of iterative refinement where the backward error ``res`` is above
    ``64 eps``; ``res = inf`` where the eigenvectors are singular. Why on the host:
    ``geev`` is a LAPACK call either way, and after it its (OpenBLAS) threads keep
    spinning, which slowed the XLA products that followed by up to 2x on the 2-core
    machine; NumPy's products share its thread pool (and multiply complex matrices 1.6x
    faster than XLA's CPU backend).
    """
    A, B, Q = np.asarray(A), np.asarray(B), np.asarray(Q)
    with np.errstate(all="ignore"):
        lam, V = np.linalg.eig(A)
        try:
            W = np.linalg.inv(V)
        except np.linalg.LinAlgError:
            W = np.full_like(V, np.nan)
        if lyapunov:  # B = A^H = W^H Λ̄ V^H
            mu, VB, WB = np.conj(lam), np.conj(W.T), np.conj(V.T)
        else:
            mu, VB = np.linalg.eig(B)
            try:
                WB = np.linalg.inv(VB)
            except np.linalg.LinAlgError:
                WB = np.full_like(VB, np.nan)
        scale = max(np.max(np.abs(lam)), np.max(np.abs(mu))) + 1e-300
        stable = bool(np.all(np.real(lam) < -1e-13 * scale)
                      and np.all(np.real(mu) < -1e-13 * scale))
        K = 1.0 / (lam[:, None] + mu[None, :]) if stable else np.zeros((lam.size, mu.size))

        def raw(R):
            return V @ (((W @ R) @ VB) * K) @ WB

        X = raw(Q)
        R = Q - (A @ X + X @ B)
        res = _backward_error(A, B, X, Q, R)
        if stable and not res <= _REFINE_TOL:
            X1 = X + raw(R)
            res1 = _backward_error(A, B, X1, Q, Q - (A @ X1 + X1 @ B))
            if res1 <= res or not np.isfinite(res):
                X, res = X1, res1
        if not np.isfinite(res):
            res = np.inf
    return X.astype(Q.dtype), np.bool_(stable), np.float64(res)


def _eig_solve(A, B, Q, lyapunov: bool):
    """:func:`_host_eig_solve` as a ``pure_callback`` (CPU only; sequential under vmap)."""
    rdt = jnp.real(Q).dtype
    shapes = (jax.ShapeDtypeStruct(Q.shape, Q.dtype), jax.ShapeDtypeStruct((), jnp.bool_),
              jax.ShapeDtypeStruct((), rdt))

    def host(a, b, q):
        X, ok, res = _host_eig_solve(a, b, q, lyapunov)
        return X, ok, res.astype(rdt)

    return jax.pure_callback(host, shapes, A, B, Q, vmap_method="sequential")


def _sign_solve(A, B, Q, lyapunov: bool):
    """Newton sign iteration for ``A X + X B = Q`` with ``A``, ``B`` stable. ``(X, ok)``."""
    n, m = A.shape[0], B.shape[0]
    norm = jnp.linalg.norm
    rdt = jnp.real(A).dtype

    def cond(st):
        _, _, _, k, err = st
        return (k < _MAXITER) & (err > 1e-13)

    def body(st):
        Ak, Bk, Ck, k, err_prev = st
        Ai = jnp.linalg.inv(Ak)
        Bi = jnp.conj(Ai.T) if lyapunov else jnp.linalg.inv(Bk)
        mu = jnp.sqrt((norm(Ai) + norm(Bi)) / (norm(Ak) + norm(Bk)))
        mu = jnp.where(err_prev < 1e-2, 1.0, mu)
        An = 0.5 * (mu * Ak + Ai / mu)
        Bn = jnp.conj(An.T) if lyapunov else 0.5 * (mu * Bk + Bi / mu)
        Cn = 0.5 * (mu * Ck + (Ai @ Ck @ Bi) / mu)
        err = (norm(An - Ak) + norm(Bn - Bk)) / (norm(An) + norm(Bn))
        err = jnp.where(jnp.isfinite(err), err, 0.0)
        return An, Bn, Cn, k + 1, err

    # A X + X B + C = 0 with C = -Q: sign([[A, C], [0, -B]]) = [[-I, 2X], [0, I]].
    Af, Bf, Cf, k, _ = jax.lax.while_loop(
        cond, body, (A, B, -Q, jnp.asarray(0), jnp.asarray(jnp.inf, rdt))
    )
    ok = (
        (k < _MAXITER)
        & jnp.all(jnp.isfinite(Cf))
        & (norm(Af + jnp.eye(n, dtype=A.dtype)) <= 1e-6 * np.sqrt(n))
        & (norm(Bf + jnp.eye(m, dtype=B.dtype)) <= 1e-6 * np.sqrt(m))
    )
    return 0.5 * Cf, ok


def _cpu(A, B, Q, lyapunov: bool):
    X, ok, res = _eig_solve(A, B, Q, lyapunov)
    good = ~ok | (res <= _RESIDUAL_TOL)

    # A while_loop, not a cond: under vmap the sign iteration then runs only if some
    # element needs it (a batched cond evaluates both branches).
    def body(st):
        return jnp.ones_like(st[0]), _sign_solve(A, B, Q, lyapunov)

    return jax.lax.while_loop(lambda st: ~st[0], body, (good, (X, ok)))[1]


def _default(A, B, Q, lyapunov: bool):
    return _sign_solve(A, B, Q, lyapunov)


# The branches of the platform_dependent in _route (tests run both on CPU).
BRANCHES = {"cpu": _cpu, "default": _default}


def _route(A, B, Q, lyapunov: bool):
    # Spectra in the right half-plane: solve (-A) X + X (-B) = -Q instead.
    flip = jnp.real(jnp.trace(A)) > 0
    s = jnp.where(flip, -1.0, 1.0).astype(A.dtype)
    A2, B2, Q2 = s * A, s * B, s * Q
    X, ok = jax.lax.platform_dependent(
        A2, B2, Q2,
        cpu=lambda a, b, q: _cpu(a, b, q, lyapunov),
        default=lambda a, b, q: _default(a, b, q, lyapunov),
    )
    return X, ok


@partial(jax.jit, static_argnums=(3,))
def _core(A, B, Q, lyapunov: bool):
    dtype = jnp.result_type(A.dtype, B.dtype, Q.dtype, jnp.complex64)
    real = not any(jnp.iscomplexobj(x) for x in (A, B, Q))
    Ac, Bc, Qc = A.astype(dtype), B.astype(dtype), Q.astype(dtype)
    A_sg, B_sg = jax.lax.stop_gradient(Ac), jax.lax.stop_gradient(Bc)

    def matvec(X):
        return Ac @ X + X @ Bc

    def solve(_, q):
        return _route(A_sg, B_sg, q, lyapunov)

    def transpose_solve(_, q):
        return _route(A_sg.T, B_sg.T, q, lyapunov)

    X, ok = jax.lax.custom_linear_solve(matvec, Qc, solve, transpose_solve, has_aux=True)
    if real:
        X = jnp.real(X).astype(jnp.result_type(A.dtype, B.dtype, Q.dtype))
    return X, ok


def _solve(A, B, Q, lyapunov: bool, names: str):
    # Jitted core; the checks outside it raise ValueError eagerly (error_if under jit).
    X, ok = _core(A, B, Q, lyapunov)
    X = val.check(
        X,
        ~ok,
        f"{names}: the spectra must lie in the open left half-plane (stable) or both in "
        "the open right half-plane; got an eigenvalue on the other side or on the "
        "imaginary axis (no unique solution, or one these solvers do not compute)",
    )
    return val.check(X, ~jnp.all(jnp.isfinite(X)), f"{names}: the solution is not finite")


def _matrix(x: ArrayLike, name: str) -> Array:
    arr = val.as_inexact(x, name)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"{name}: expected a square (n, n) matrix, got shape {arr.shape}")
    return val.finite(arr, name)


def solve_lyapunov(A: ArrayLike, Q: ArrayLike) -> Array:
    """Solve the continuous Lyapunov equation ``A X + X A^H = Q``.

    The convention of ``scipy.linalg.solve_continuous_lyapunov(A, Q)``. Works under
    ``jit``, ``vmap`` and ``grad`` (implicit derivatives: an adjoint Lyapunov solve per
    gradient), on CPU (eigendecomposition, verified, with the sign iteration as
    fallback) and on GPU (Newton sign iteration), chosen by ``jax.lax.platform_dependent``.
    Cost O(n³). Real input gives a real ``X``; Hermitian ``Q`` a Hermitian ``X``.

    Args:
        A: ``(n, n)`` matrix whose eigenvalues all have negative real part (or all
            positive).
        Q: ``(n, n)`` right-hand side.

    Returns:
        ``X``, shape ``(n, n)``.

    Raises:
        ValueError: non-square or mismatched shapes, NaN/inf, or ``A`` with eigenvalues
            on both sides of (or on) the imaginary axis ("A: ..."); under ``jit`` the same
            message as an ``equinox.EquinoxRuntimeError``.
        TypeError: non-numeric input.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> A = jnp.array([[-1.0, 2.0], [0.0, -3.0]])
        >>> Q = -jnp.eye(2)
        >>> X = jaxqep.linalg.solve_lyapunov(A, Q)
        >>> bool(jnp.allclose(A @ X + X @ A.T, Q, atol=1e-12))
        True
    """
    A = _matrix(A, "A")
    Q = _matrix(Q, "Q")
    if Q.shape != A.shape:
        raise ValueError(f"Q: expected shape {A.shape} to match A, got {Q.shape}")
    return _solve(A, jnp.conj(A.T), Q, True, "A")


def solve_sylvester(A: ArrayLike, B: ArrayLike, Q: ArrayLike) -> Array:
    """Solve the Sylvester equation ``A X + X B = Q``.

    The convention of ``scipy.linalg.solve_sylvester(A, B, Q)``; ``jit``, ``vmap`` and
    ``grad`` (implicit derivatives with respect to ``A``, ``B`` and ``Q``), CPU and GPU
    paths as for :func:`solve_lyapunov`. Cost O(n³ + m³ + n m (n + m)).

    Args:
        A: ``(n, n)`` matrix.
        B: ``(m, m)`` matrix; the eigenvalues of ``A`` and of ``B`` must all have negative
            real part (or all positive).
        Q: ``(n, m)`` right-hand side.

    Returns:
        ``X``, shape ``(n, m)``.

    Raises:
        ValueError: shapes, NaN/inf, or spectra not in one open half-plane ("A, B: ...").
        TypeError: non-numeric input.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> A = jnp.array([[-2.0, 1.0], [0.0, -1.0]])
        >>> B = jnp.array([[-3.0]])
        >>> X = jaxqep.linalg.solve_sylvester(A, B, jnp.ones((2, 1)))
        >>> bool(jnp.allclose(A @ X + X @ B, 1.0, atol=1e-12))
        True
    """
    A = _matrix(A, "A")
    B = _matrix(B, "B")
    Q = val.finite(val.as_inexact(Q, "Q"), "Q")
    if Q.shape != (A.shape[0], B.shape[0]):
        raise ValueError(
            f"Q: expected shape {(A.shape[0], B.shape[0])} to match A and B, got {Q.shape}"
        )
    return _solve(A, B, Q, False, "A, B")
