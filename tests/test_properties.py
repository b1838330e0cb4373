"""Property-based tests (hypothesis) of the reset-model entry points: valid random input
gives finite, physical results; invalid random input gives the documented error (never
NaN, never a crash inside XLA)."""

import jax.numpy as jnp
import numpy as np
import pytest
from helpers import random_density, random_hermitian
from hypothesis import HealthCheck, given, settings, strategies as st

from jaxqep import qrm

SETTINGS = dict(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _state_ok(rho, tol=1e-10):
    rho = np.asarray(rho)
    assert np.all(np.isfinite(rho))
    np.testing.assert_allclose(np.trace(rho), 1.0, atol=tol)
    np.testing.assert_allclose(rho, rho.conj().T, atol=tol)
    assert np.min(np.linalg.eigvalsh(rho)) > 0


@settings(**SETTINGS)
@given(
    seed=st.integers(0, 2**31 - 1),
    dims=st.sampled_from([(2, 1, 2), (2, 2, 2), (3, 1, 2)]),
    g=st.floats(0.05, 3.0),
    lam=st.floats(-2.0, 3.0).filter(lambda x: min(abs(x), abs(x - 1)) > 0.05),
)
def test_tripartite_valid_inputs_physical(seed, dims, g, lam):
    r = np.random.default_rng(seed)
    d = int(np.prod(dims))
    h = random_hermitian(r, d)
    ta, tb = random_density(r, dims[0]), random_density(r, dims[2])
    ga, gb = r.uniform(0.1, 2.0, 2)
    ep = qrm.tripartite_entropy_production(h, ta, tb, ga, gb, dims, g, lam)
    assert np.all(np.isfinite(np.asarray(ep.parts))) and np.all(np.asarray(ep.parts) >= -1e-12)
    _state_ok(ep.rho)
    for s in ep.partial_states:
        _state_ok(s)
    assert float(ep.residual) < 1e-9


@settings(**SETTINGS)
@given(
    seed=st.integers(0, 2**31 - 1),
    kind=st.sampled_from(["neg_eig", "trace", "nonherm", "rate", "nan"]),
)
def test_single_space_invalid_inputs_raise(seed, kind):
    r = np.random.default_rng(seed)
    d, nres = int(r.integers(2, 5)), int(r.integers(1, 4))
    h = random_hermitian(r, d)
    taus = np.stack([random_density(r, d) for _ in range(nres)])
    gammas = r.uniform(0.1, 2.0, nres)
    j = int(r.integers(nres))
    if kind == "neg_eig":
        w, v = np.linalg.eigh(taus[j])
        w = w.copy()
        w[0] -= 0.5  # keeps the trace after renormalising the rest
        w[1:] += 0.5 / (d - 1)
        taus[j] = (v * w) @ v.conj().T
        pattern = f"taus\\[{j}\\].*negative eigenvalue"
    elif kind == "trace":
        taus[j] *= r.uniform(1.1, 3.0)
        pattern = f"taus\\[{j}\\].*trace"
    elif kind == "nonherm":
        h = h + 1j * np.eye(d) * r.uniform(0.1, 1.0)
        pattern = "H: must be Hermitian"
    elif kind == "rate":
        gammas[j] = -r.uniform(0.0, 1.0)
        pattern = "gammas: must be positive"
    else:
        h[0, 0] = np.nan
        pattern = "H: contains NaN"
    with pytest.raises(ValueError, match=pattern):
        qrm.entropy_production(jnp.asarray(h), jnp.asarray(taus), jnp.asarray(gammas))
