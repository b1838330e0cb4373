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


# ---------------------------------------------------------------- symmetry sectors
from math import comb  # noqa: E402

import jax.numpy as jnp  # noqa: E402
import scipy.linalg  # noqa: E402

from jaxqep.thermal._sectors import detect_sectors, find_sectors  # noqa: E402

FULL = jaxqep.solvers.GKLSKrylov(sectors=False)
CHAIN = dict(delta=0.7, field=1.0, gammas=(0.3, 0.2), betas=(0.4, 1.2))


def _numpy_state(h, jumps):
    """Steady state by a dense NumPy null vector of the row-major Lindbladian."""
    h, jumps = np.asarray(h), np.asarray(jumps)
    d = h.shape[0]
    eye = np.eye(d)
    lind = -1j * (np.kron(h, eye) - np.kron(eye, h.T))
    for c in jumps:
        g = c.conj().T @ c
        lind += np.kron(c, c.conj()) - 0.5 * (np.kron(g, eye) + np.kron(eye, g.T))
    rho = scipy.linalg.null_space(lind)[:, 0].reshape(d, d)
    return rho / np.trace(rho)


def _tight(m):
    """The model with patterns read from its concrete values (tight jump patterns)."""
    pattern = (np.asarray(m.H) != 0, np.asarray(m.jumps) != 0)
    return jaxqep.GKLSModel(m.H, m.jumps, m.baths, m.betas, pattern=pattern), pattern


@pytest.mark.parametrize("n", [3, 4])
def test_sector_route_matches_dense_and_numpy(n):
    m = thermal.xxz_chain(n, 0.8, **CHAIN)
    sec = find_sectors(m)
    assert sec is not None and sec.sizes == tuple(comb(n, k) for k in range(n + 1))
    assert sec.unknowns == comb(2 * n, n)
    a = jaxqep.entropy_production(m, KRYLOV)
    b = jaxqep.entropy_production(m, DENSE if n == 4 else FULL)  # full-space routes
    ref = _numpy_state(m.H, m.jumps)
    np.testing.assert_allclose(np.asarray(a.rho), ref, atol=1e-12)
    np.testing.assert_allclose(np.asarray(b.rho), ref, atol=1e-12)
    np.testing.assert_allclose(np.asarray(a.heat_currents), b.heat_currents, atol=1e-13)
    np.testing.assert_allclose(float(a.total), float(b.total), atol=1e-13)
    # the residual reported is ‖L(ρ)‖_F, recomputed here with the dense Lindbladian
    res = np.linalg.norm(np.asarray(m.apply(a.rho)))
    assert a.stats.residual < 1e-10 and res < 1e-10 and int(a.stats.iterations) > 0
    np.testing.assert_allclose(float(a.stats.residual), res, atol=1e-13)
    # block diagonal in the magnetisation; the currents balance
    mag = np.array([bin(i).count("1") for i in range(2**n)])
    assert np.all(np.asarray(a.rho)[mag[:, None] != mag[None, :]] == 0)
    assert abs(float(jnp.sum(a.heat_currents))) < 1e-14


def test_sector_route_closed_form_equal_temperatures():
    # Equal β: the product of local Gibbs states (a function of the excitation number,
    # so it commutes with the XXZ H) is annihilated by each local dissipator: J = σ = 0.
    beta, h = 0.7, 1.3
    m = thermal.xxz_chain(4, 0.9, 0.5, h, (0.3, 0.2), (beta, beta))
    out = jaxqep.entropy_production(m, KRYLOV)
    local = np.diag([1.0, np.exp(-beta * h)]) / (1 + np.exp(-beta * h))
    gibbs = local
    for _ in range(3):
        gibbs = np.kron(gibbs, local)
    np.testing.assert_allclose(np.asarray(out.rho), gibbs, atol=1e-13)
    np.testing.assert_allclose(np.asarray(out.heat_currents), 0.0, atol=1e-14)


def test_symmetry_breaking_falls_back_to_full_space():
    n = 4
    m = thermal.xxz_chain(n, 0.8, **CHAIN)
    rng = np.random.default_rng(3)
    # a random transverse field on site 1 couples neighbouring magnetisation sectors
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    field = rng.uniform(0.1, 0.3) * np.kron(np.kron(np.eye(2), sx), np.eye(4))
    broken = jaxqep.GKLSModel(np.asarray(m.H) + field, m.jumps, m.baths, m.betas)
    assert find_sectors(broken) is None
    a = jaxqep.entropy_production(broken, KRYLOV)
    np.testing.assert_allclose(np.asarray(a.rho), _numpy_state(broken.H, broken.jumps), atol=1e-12)
    assert np.abs(np.asarray(a.rho)[0, 1]) > 1e-6  # not block diagonal any more
    # a jump that sends one sector into two (σˣ on site 0) breaks it too
    jumps = np.asarray(m.jumps).copy()
    jumps[0] = jumps[0] + jumps[1]
    assert detect_sectors(m.H, jumps) is None
    # a pattern that does not exclude the wrong direction cannot be trusted either
    loose = np.asarray(m.jumps) != 0
    loose = loose | np.swapaxes(loose, 1, 2)
    assert detect_sectors(jnp.asarray(m.H) + 0, loose.astype(float)) is None


def test_sector_gradient_under_jit_matches_fd():
    n = 3
    seen = []

    def sigma(coupling, beta1):
        # traced values: the sectors come from the builder's static (direction-aware) patterns
        m = thermal.xxz_chain(n, coupling, 0.7, 1.0, (0.3, 0.2), (0.6, beta1))
        seen.append(find_sectors(m))
        return jaxqep.entropy_production(m, KRYLOV).total

    value, grad = jax.jit(sigma), jax.jit(jax.grad(sigma))
    gk = float(grad(0.8, 1.4))
    assert seen[-1] is not None  # the sector route ran under jit and grad
    eps = 1e-4
    fd = (float(value(0.8 + eps, 1.4)) - float(value(0.8 - eps, 1.4))) / (2 * eps)
    np.testing.assert_allclose(gk, fd, rtol=1e-6)
    # and σ itself against the dense route at that point
    m = thermal.xxz_chain(n, 0.8, 0.7, 1.0, (0.3, 0.2), (0.6, 1.4))
    np.testing.assert_allclose(
        float(value(0.8, 1.4)), float(jaxqep.entropy_production(m, DENSE).total), atol=1e-13
    )
    # degenerate point: equal temperatures, σ = 0 is a minimum; the gradient is finite, 0
    g0 = float(grad(0.8, 0.6))
    assert np.isfinite(g0) and abs(g0) < 1e-12


def test_sector_route_complex_hamiltonian():
    # a Dzyaloshinskii-Moriya term i(σ⁺σ⁻ − σ⁻σ⁺) on bond (1, 2): complex H, same sectors
    n = 4
    m = thermal.xxz_chain(n, 0.8, **CHAIN)
    sm = np.array([[0.0, 1.0], [0.0, 0.0]])
    dm = 0.4j * (np.kron(sm.T, sm) - np.kron(sm, sm.T))
    h = np.asarray(m.H) + np.kron(np.kron(np.eye(2), dm), np.eye(2))
    model = jaxqep.GKLSModel(h, m.jumps, m.baths, m.betas)
    assert not model.real and find_sectors(model) == find_sectors(m)
    out = jaxqep.entropy_production(model, KRYLOV)
    np.testing.assert_allclose(np.asarray(out.rho), _numpy_state(h, m.jumps), atol=1e-12)
    ref = jaxqep.entropy_production(model, DENSE)
    np.testing.assert_allclose(np.asarray(out.heat_currents), ref.heat_currents, atol=1e-13)
    assert out.stats.residual < 1e-10
