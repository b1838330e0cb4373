"""Hermitian matrix functions: values vs SciPy, derivatives vs finite differences,
finiteness at degenerate spectra (the known `eigh` trap)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sla
from helpers import check_jvp_vs_fd, random_density, random_hermitian, rng

from jaxqep import linalg, superop


@pytest.mark.parametrize("d", [2, 3, 6])
def test_logm_matches_scipy(d):
    r = rng(d)
    rho = random_density(r, d)
    np.testing.assert_allclose(linalg.logm_h(rho), sla.logm(rho), atol=1e-11)
    np.testing.assert_allclose(linalg.sqrtm_h(rho), sla.sqrtm(rho), atol=1e-11)
    h = random_hermitian(r, d)
    np.testing.assert_allclose(linalg.expm_h(h), sla.expm(h), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("d", [2, 4])
def test_logm_jvp_random(d):
    r = rng(10 + d)
    rho = jnp.asarray(random_density(r, d))
    v = jnp.asarray(random_hermitian(r, d))
    check_jvp_vs_fd(linalg.logm_h, rho, v, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "spectrum",
    [[0.5, 0.5], [0.25, 0.25, 0.5], [0.2, 0.2, 0.2, 0.2, 0.2], [0.3, 0.3 + 1e-9, 0.4 - 1e-9]],
)
def test_log_and_entropy_derivatives_finite_at_degeneracy(spectrum):
    r = rng(len(spectrum))
    d = len(spectrum)
    q, _ = np.linalg.qr(r.normal(size=(d, d)) + 1j * r.normal(size=(d, d)))
    rho = jnp.asarray(q @ np.diag(spectrum) @ q.conj().T)
    v = jnp.asarray(random_hermitian(r, d))
    # jvp of logm: finite and equal to finite differences
    ad, _ = check_jvp_vs_fd(linalg.logm_h, rho, v, rtol=1e-5, atol=1e-7)
    assert np.all(np.isfinite(np.asarray(ad)))
    # Reverse mode too (JAX transposes the linear Daleckii-Krein rule).
    g = jax.grad(lambda x: jnp.real(jnp.trace(linalg.logm_h(x) @ v)))(rho)
    assert np.all(np.isfinite(np.asarray(g)))
    # Entropy gradient: -(ln rho + 1)^T in the Wirtinger sense; compare along v.
    ad_s, fd_s = check_jvp_vs_fd(linalg.von_neumann_entropy, rho, v, rtol=1e-6, atol=1e-9)
    assert np.isfinite(float(ad_s))


def test_naive_eigh_derivative_would_fail_here():
    """Guard that the degenerate test above exercises the trap: differentiating through
    `eigh` eigenvectors is non-finite at this point, our rule is not."""
    rho = jnp.eye(3) / 3
    v = jnp.asarray(random_hermitian(rng(0), 3))

    def naive_log(x):
        w, u = jnp.linalg.eigh(x)
        return (u * jnp.log(w)) @ u.conj().T

    _, t_naive = jax.jvp(naive_log, (rho + 0j,), (v,))
    _, t_ours = jax.jvp(linalg.logm_h, (rho + 0j,), (v,))
    assert not np.all(np.isfinite(np.asarray(t_naive)))
    np.testing.assert_allclose(t_ours, 3 * (v + v.conj().T) / 2, atol=1e-12)


def test_entropies_match_scipy():
    r = rng(3)
    rho, sigma = random_density(r, 4), random_density(r, 4)
    s = -np.trace(rho @ sla.logm(rho)).real
    np.testing.assert_allclose(linalg.von_neumann_entropy(rho), s, rtol=1e-12)
    rel = np.trace(rho @ (sla.logm(rho) - sla.logm(sigma))).real
    np.testing.assert_allclose(linalg.relative_entropy(rho, sigma), rel, rtol=1e-10)
    # Pure state: entropy 0, no NaN.
    psi = np.zeros((3, 3))
    psi[0, 0] = 1
    assert float(linalg.von_neumann_entropy(psi)) == 0.0


def test_partial_trace_matches_einsum():
    r = rng(4)
    dims = (2, 3, 2)
    rho = random_density(r, 12)
    t = rho.reshape(dims + dims)
    np.testing.assert_allclose(
        linalg.partial_trace(rho, dims, [1]), np.einsum("abcaec->be", t), atol=1e-14
    )
    np.testing.assert_allclose(
        linalg.partial_trace(rho, dims, [0, 2]),
        np.einsum("abcdbf->acdf", t).reshape(4, 4),
        atol=1e-14,
    )
    with pytest.raises(ValueError, match="dims"):
        linalg.partial_trace(rho, (2, 2, 2), [0])


def test_superop_vectorisation_convention():
    r = rng(5)
    a, b, x = (random_hermitian(r, 3) + 1j * random_hermitian(r, 3) for _ in range(3))
    np.testing.assert_allclose(superop.sprepost(a, b) @ x.reshape(-1), (a @ x @ b).reshape(-1))
    np.testing.assert_allclose(superop.spre(a) @ x.reshape(-1), (a @ x).reshape(-1))
    np.testing.assert_allclose(superop.spost(b) @ x.reshape(-1), (x @ b).reshape(-1))
    h = random_hermitian(r, 3)
    np.testing.assert_allclose(
        superop.hamiltonian_superop(h) @ x.reshape(-1), (-1j * (h @ x - x @ h)).reshape(-1)
    )
    ls = np.stack([random_hermitian(r, 3) + 1j * random_hermitian(r, 3) for _ in range(2)])
    expect = sum(
        lk @ x @ lk.conj().T - 0.5 * (lk.conj().T @ lk @ x + x @ lk.conj().T @ lk) for lk in ls
    )
    np.testing.assert_allclose(superop.lindblad_dissipator(ls) @ x.reshape(-1), expect.reshape(-1))


@pytest.mark.parametrize("dims", [(2, 3, 2), (3, 1, 2), (2, 2, 3)])
def test_tripartite_reset_matrices_match_actions(dims):
    r = rng(sum(dims))
    d = int(np.prod(dims))
    rho = random_density(r, d) + 0.3j * random_hermitian(r, d)  # any operator
    ta, tb = random_density(r, dims[0]), random_density(r, dims[2])
    t = rho.reshape(dims + dims)
    tr_a = np.einsum("abcaef->bcef", t).reshape(dims[1] * dims[2], -1)
    tr_b = np.einsum("abcdec->abde", t).reshape(dims[0] * dims[1], -1)
    np.testing.assert_allclose(
        superop.tripartite_reset_A(ta, dims, 0.7) @ rho.reshape(-1),
        0.7 * (np.kron(ta, tr_a) - rho).reshape(-1),
        atol=1e-13,
    )
    np.testing.assert_allclose(
        superop.tripartite_reset_B(tb, dims, 0.4) @ rho.reshape(-1),
        0.4 * (np.kron(tr_b, tb) - rho).reshape(-1),
        atol=1e-13,
    )
