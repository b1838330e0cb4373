"""Property-based tests (hypothesis) of the Gaussian and perturbative entry points:
valid random input gives finite, physical results; invalid random input gives the
documented error, never NaN or a crash inside XLA."""

import equinox as eqx
import jax
import numpy as np
import pytest
from helpers import random_density, random_hermitian
from hypothesis import HealthCheck, given, settings, strategies as st

from jaxqep import gaussian, qrm

SETTINGS = dict(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ERR = (ValueError, eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError)


def _network(r, L):
    H = random_hermitian(r, L, scale=0.5)
    gam = r.uniform(0.1, 1.0, L)
    n = r.uniform(0.0, 3.0, L)
    sc = r.uniform(0.0, 0.5, L)
    return H, gam, n, sc


@settings(**SETTINGS)
@given(seed=st.integers(0, 2**31 - 1), L=st.integers(2, 6), with_sc=st.booleans())
def test_gaussian_valid_inputs_physical(seed, L, with_sc):
    r = np.random.default_rng(seed)
    H, gam, n, sc = _network(r, L)
    res = gaussian.entropy_production(H, gam, n, sc if with_sc else None)
    C = np.asarray(res.covariance)
    assert np.all(np.isfinite(C))
    np.testing.assert_allclose(C, C.conj().T, atol=1e-12)
    assert np.min(np.linalg.eigvalsh(C)) > -1e-12  # <a†a> matrix is positive
    pis = np.concatenate([np.asarray(res.pi), np.asarray(res.pi_sc)])
    assert np.all(np.isfinite(pis)) and np.all(pis >= -1e-13)
    # steady state: production equals flux, and equals the current formula (26)
    np.testing.assert_allclose(float(res.total), float(res.flux_total), rtol=1e-8, atol=1e-14)


@settings(**SETTINGS)
@given(
    seed=st.integers(0, 2**31 - 1),
    L=st.integers(2, 5),
    kind=st.sampled_from(["gamma", "occ", "sc", "herm", "undamped"]),
)
def test_gaussian_invalid_inputs_raise(seed, L, kind):
    r = np.random.default_rng(seed)
    H, gam, n, sc = _network(r, L)
    k = int(r.integers(L))
    if kind == "gamma":
        gam[k] = -r.uniform(0.01, 1.0)
        pattern = "gammas: bath rates must be >= 0"
    elif kind == "occ":
        n[k] = -r.uniform(0.01, 1.0)
        pattern = "occupations: bath occupations must be >= 0"
    elif kind == "sc":
        sc[k] = -r.uniform(0.01, 1.0)
        pattern = "sc_rates: self-consistent reservoir rates must be >= 0"
    elif kind == "herm":
        H[0, 1] += 0.3
        pattern = "H: must be Hermitian"
    else:
        gam[:] = 0.0
        sc = None
        pattern = "no unique NESS"
    with pytest.raises(ERR, match=pattern):
        jax.block_until_ready(gaussian.entropy_production(H, gam, n, sc).total)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), dims=st.sampled_from([(2, 2, 2), (2, 3, 2)]))
def test_leading_order_valid_inputs_physical(seed, dims):
    r = np.random.default_rng(seed)
    d = int(np.prod(dims))
    h = random_hermitian(r, d)
    ta, tb = random_density(r, dims[0]), random_density(r, dims[2])
    lo = qrm.leading_order(h, ta, tb, 0.7, 1.1, dims)
    rho0 = np.asarray(lo.rho0)
    np.testing.assert_allclose(np.trace(rho0), 1.0, atol=1e-12)
    assert np.min(np.linalg.eigvalsh(rho0)) > 0
    np.testing.assert_allclose(np.trace(np.asarray(lo.rho1)), 0.0, atol=1e-12)
    # σ⁽²⁾ ≥ 0 on the real line: a, c ≥ 0 per part and the quadratic's minimum ≥ 0 (7.35)
    assert np.all(np.asarray(lo.a) >= -1e-12) and np.all(np.asarray(lo.c) >= -1e-12)
    lams = np.linspace(-3, 4, 29)
    lams = lams[np.minimum(np.abs(lams), np.abs(lams - 1)) > 1e-3]
    vals = np.array([float(lo.sigma2(lam)) for lam in lams])
    assert np.all(vals >= -1e-12) and np.all(np.isfinite(vals))
