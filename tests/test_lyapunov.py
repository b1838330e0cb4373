"""jaxqep.linalg.solve_lyapunov / solve_sylvester against SciPy, with gradients, vmap, both
platform branches and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from helpers import check_grad_vs_fd, rng

import jaxqep
from jaxqep import _lyapunov
from jaxqep.linalg import solve_lyapunov, solve_sylvester


def _stable(r, n, cplx):
    a = r.normal(size=(n, n)) + (1j * r.normal(size=(n, n)) if cplx else 0)
    w = np.linalg.eigvals(a)
    return a - (np.max(w.real) + r.uniform(0.1, 1.0)) * np.eye(n)


@pytest.mark.parametrize("cplx", [False, True])
@pytest.mark.parametrize("n", [1, 5, 12])
def test_lyapunov_vs_scipy(n, cplx):
    r = rng(n + 10 * cplx)
    A = _stable(r, n, cplx)
    Q = r.normal(size=(n, n)) + (1j * r.normal(size=(n, n)) if cplx else 0)
    X = solve_lyapunov(A, Q)
    ref = scipy.linalg.solve_continuous_lyapunov(A, Q)
    assert np.iscomplexobj(np.asarray(X)) == cplx
    np.testing.assert_allclose(np.asarray(X), ref, atol=1e-11 * np.abs(ref).max())
    # anti-stable A works too (SciPy solves any A with λ_i + λ̄_j ≠ 0)
    np.testing.assert_allclose(np.asarray(solve_lyapunov(-A, Q)),
                               scipy.linalg.solve_continuous_lyapunov(-A, Q),
                               atol=1e-11 * np.abs(ref).max())


@pytest.mark.parametrize("cplx", [False, True])
def test_sylvester_vs_scipy(cplx):
    r = rng(3 + cplx)
    A = _stable(r, 6, cplx)
    B = _stable(r, 4, cplx)
    Q = r.normal(size=(6, 4)) + (1j * r.normal(size=(6, 4)) if cplx else 0)
    X = np.asarray(solve_sylvester(A, B, Q))
    ref = scipy.linalg.solve_sylvester(A, B, Q)
    np.testing.assert_allclose(X, ref, atol=1e-11 * np.abs(ref).max())
    np.testing.assert_allclose(A @ X + X @ B, Q, atol=1e-12 * np.abs(Q).max())


def test_both_platform_branches_agree_on_cpu_including_defective_A():
    r = rng(7)
    for A in (_stable(r, 8, True), np.array([[-1.0, 1.0], [0.0, -1.0]]) + 0j):  # 2nd: Jordan
        n = A.shape[0]
        Q = r.normal(size=(n, n)) + 1j * r.normal(size=(n, n))
        A, Q = jnp.asarray(A), jnp.asarray(Q)
        Ah = jnp.conj(A.T)
        Xc, okc = jax.jit(_lyapunov.BRANCHES["cpu"], static_argnums=3)(A, Ah, Q, True)
        Xd, okd = jax.jit(_lyapunov.BRANCHES["default"], static_argnums=3)(A, Ah, Q, True)
        assert bool(okc) and bool(okd)
        ref = scipy.linalg.solve_continuous_lyapunov(np.asarray(A), np.asarray(Q))
        np.testing.assert_allclose(np.asarray(Xc), ref, atol=1e-12 * np.abs(ref).max())
        np.testing.assert_allclose(np.asarray(Xd), ref, atol=1e-12 * np.abs(ref).max())


def test_vmap_and_jit():
    r = rng(1)
    As = np.stack([_stable(r, 5, True) for _ in range(4)])
    Qs = r.normal(size=(4, 5, 5)) + 0j
    X = jax.jit(jax.vmap(solve_lyapunov))(As, Qs)
    for k in range(4):
        np.testing.assert_allclose(np.asarray(X[k]),
                                   scipy.linalg.solve_continuous_lyapunov(As[k], Qs[k]),
                                   atol=1e-11)
    Bs = np.stack([_stable(r, 3, False) for _ in range(4)])
    Y = jax.vmap(solve_sylvester)(As, Bs, Qs[:, :, :3])
    np.testing.assert_allclose(np.asarray(As @ Y + Y @ Bs), Qs[:, :, :3], atol=1e-11)


@pytest.mark.parametrize("cplx", [False, True])
def test_gradients_vs_finite_differences(cplx):
    r = rng(20 + cplx)
    A0 = _stable(r, 4, cplx)
    B0 = _stable(r, 3, cplx)
    Q0 = r.normal(size=(4, 3))
    W = r.normal(size=(4, 3))
    dA = r.normal(size=(4, 4))
    dB = r.normal(size=(3, 3))

    def f(x):
        A = A0 + x[0] * dA
        B = B0 + x[1] * dB
        X = solve_sylvester(A, B, Q0 * x[2])
        Y = solve_lyapunov(A, (A0 @ A0.T) * x[2] + 0 * x[0])
        return jnp.real(jnp.sum(W * X) + jnp.sum(jnp.conj(Y) * Y))

    check_grad_vs_fd(f, jnp.array([0.05, -0.03, 1.0]), rng(0), n_dirs=3, rtol=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="A: the spectra must lie in the open left"):
        solve_lyapunov(np.diag([1.0, -1.0]), np.eye(2))
    with pytest.raises(ValueError, match="A: expected a square"):
        solve_lyapunov(np.ones((2, 3)), np.eye(2))
    with pytest.raises(ValueError, match=r"Q: expected shape \(2, 2\)"):
        solve_lyapunov(-np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match="A: contains NaN or inf"):
        solve_lyapunov(np.array([[np.nan]]), np.eye(1))
    with pytest.raises(ValueError, match="A, B: the spectra"):
        solve_sylvester(-np.eye(2), np.eye(2), np.ones((2, 2)))
    with pytest.raises(TypeError, match="A: expected a numeric array"):
        solve_lyapunov(np.array([["a"]]), np.eye(1))
    f = jax.jit(solve_lyapunov)
    with pytest.raises(Exception, match="A: the spectra must lie"):
        jax.block_until_ready(f(jnp.diag(jnp.array([0.5, -1.0])), jnp.eye(2)))
    assert jaxqep.linalg.solve_lyapunov is solve_lyapunov
