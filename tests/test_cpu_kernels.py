"""CPU-side helpers: complex products as real ones, the opt-in allocator setting, and the
host eigenvector solve of solve_lyapunov (singular eigenvectors must not pass as a solution)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

import jaxqep
from jaxqep import _lyapunov
from jaxqep._matmul import cpu_matmul, matmul


@pytest.mark.parametrize("ca,cb", [(True, True), (True, False), (False, True), (False, False)])
def test_cpu_matmul_matches_the_native_product(ca, cb):
    r = np.random.default_rng(3)

    def m(c, shape):
        x = r.normal(size=shape)
        return x + 1j * r.normal(size=shape) if c else x

    a, b = m(ca, (7, 5)), m(cb, (5, 4))
    for f in (cpu_matmul, jax.jit(matmul)):
        out = np.asarray(f(jnp.asarray(a), jnp.asarray(b)))
        np.testing.assert_allclose(out, a @ b, rtol=1e-13, atol=1e-13)
        assert np.iscomplexobj(out) == (ca or cb)
    # Differentiable like the native product.
    g = jax.grad(lambda x: jnp.sum(jnp.abs(cpu_matmul(x, jnp.asarray(b))) ** 2))(
        jnp.asarray(np.real(a)))
    g_ref = jax.grad(lambda x: jnp.sum(jnp.abs(x @ jnp.asarray(b)) ** 2))(jnp.asarray(np.real(a)))
    np.testing.assert_allclose(g, g_ref, rtol=1e-12)


def test_keep_freed_memory_validates_and_reports():
    assert jaxqep.keep_freed_memory() in (True, False)
    for bad in (0, -1, 2**31, 1.5, True, "1"):
        with pytest.raises(ValueError, match="limit_bytes"):
            jaxqep.keep_freed_memory(bad)  # type: ignore[arg-type]


def test_host_eig_solve_flags_singular_eigenvectors_and_instability():
    # A Jordan block: V is (numerically) singular; the residual says so and the sign
    # iteration takes over (the public solve is still exact).
    A = np.array([[-1.0, 1.0], [0.0, -1.0]], complex)
    Q = np.array([[1.0, 2.0], [0.5, -1.0]], complex)
    _, stable, res = _lyapunov._host_eig_solve(A, A.conj().T, Q, True)
    assert bool(stable) and not res <= 1e-11
    X = jaxqep.linalg.solve_lyapunov(A, Q)
    np.testing.assert_allclose(X, scipy.linalg.solve_continuous_lyapunov(A, Q), atol=1e-12)
    # Not stable: flagged, and the public entry raises naming A.
    B = np.diag([-1.0, 0.5]).astype(complex)
    assert not bool(_lyapunov._host_eig_solve(B, B.conj().T, Q, True)[1])
    with pytest.raises(ValueError, match="A: the spectra"):
        jaxqep.linalg.solve_lyapunov(B, Q)
