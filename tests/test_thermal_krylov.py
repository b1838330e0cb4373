"""The matrix-free GKLS solver (GKLSKrylov) against the dense LU route."""

import jax
import numpy as np
import pytest

import jaxqep
from jaxqep import thermal

KRYLOV = jaxqep.solvers.GKLSKrylov()
DENSE = jaxqep.solvers.DenseLU()


def test_chain_state_currents_and_gradient_match_dense():
    def ep(coupling, solver):
        m = thermal.xxz_chain(4, coupling, 0.7, 1.0, (0.3, 0.2), (0.4, 1.2))
        out = jaxqep.entropy_production(m, solver)
        return out.total, out

    (sk, ok), gk = jax.value_and_grad(ep, has_aux=True)(0.8, KRYLOV)
    (sd, od), gd = jax.value_and_grad(ep, has_aux=True)(0.8, DENSE)
    np.testing.assert_allclose(np.asarray(ok.rho), np.asarray(od.rho), atol=1e-12)
    np.testing.assert_allclose(
        np.asarray(ok.heat_currents), np.asarray(od.heat_currents), atol=1e-13
    )
    np.testing.assert_allclose(float(sk), float(sd), atol=1e-13)
    np.testing.assert_allclose(float(gk), float(gd), rtol=1e-8)
    assert ok.stats.residual < 1e-10 and int(ok.stats.iterations) > 0


def test_general_complex_jumps_above_dense_threshold():
    rng = np.random.default_rng(1)
    d, k = 34, 3
    h = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    h = (h + h.conj().T) / 4
    jumps = 0.3 * (rng.normal(size=(k, d, d)) + 1j * rng.normal(size=(k, d, d)))
    m = jaxqep.GKLSModel(h, jumps, [0, 1, 1], np.array([0.5, 1.0]))
    assert isinstance(jaxqep.solvers.Auto().select(m), jaxqep.solvers.GKLSKrylov)
    a = jaxqep.entropy_production(m)  # Auto: matrix-free above d = 32
    b = jaxqep.entropy_production(m, DENSE)
    np.testing.assert_allclose(np.asarray(a.rho), np.asarray(b.rho), atol=1e-12)
    np.testing.assert_allclose(np.asarray(a.heat_currents), np.asarray(b.heat_currents), atol=1e-12)


def test_not_converged_is_reported():
    m = thermal.xxz_chain(4, 1.0, 0.7, 1.0, (0.3, 0.2), (0.4, 1.2))
    solver = jaxqep.solvers.GKLSKrylov(max_steps=1, restart=1)
    with pytest.raises(ValueError, match="did not converge"):
        jaxqep.steady_state(m, solver)
    sol = jaxqep.steady_state(m, solver, throw=False)
    assert sol.result == jaxqep.RESULTS.not_converged


def test_pattern_must_contain_the_nonzeros():
    h = np.diag(np.arange(4.0))
    h[0, 1] = h[1, 0] = 1.0
    jumps = np.zeros((1, 4, 4))
    jumps[0, 0, 1] = 1.0
    with pytest.raises(ValueError, match="pattern: H has non-zeros outside"):
        jaxqep.GKLSModel(h, jumps, [0], pattern=(np.eye(4, dtype=bool), jumps != 0))
    with pytest.raises(ValueError, match="pattern: expected boolean arrays"):
        jaxqep.GKLSModel(h, jumps, [0], pattern=(np.eye(3, dtype=bool), jumps != 0))
