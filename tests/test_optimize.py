"""jaxqep.optimize: constrained optax searches and sensitivities.

Independent routes: the known zero λ = γ_j/Γ of seed 004 (Prop. 4.3/4.5, Fig. 1c/d), SciPy's
Brent minimiser on the same exact objective, and central finite differences.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.optimize as so
from helpers import finite_difference_jvp, random_density, random_hermitian, rng

import jaxqep.optimize as opt
from jaxqep import models, qrm

GAMMAS = jnp.array([1.0, 0.5, 1.0 / 3.0])
LAM_STAR = np.array([6.0, 3.0, 2.0]) / 11.0


def qubit_sigma(lam, taus, gammas):
    h = models.single_qubit_hamiltonian(1.0, 0.7)
    return qrm.entropy_production(h, taus, gammas, lam).total


def equal_taus(t=0.9):
    return jnp.stack([models.diagonal_reset_state(t)] * 3)


@pytest.mark.parametrize("seed", [0, 1])
def test_simplex_recovers_gamma_over_Gamma(seed):
    """Fig. 1c/d: σ(λ) = 0 only at λ = γ/Γ = (6/11, 3/11, 2/11); found from a random start."""
    r = rng(seed)
    start = r.normal(size=3) * 2.0
    start = start - start.mean() + 1.0 / 3.0  # on the affine simplex, not in the convex one
    res = opt.minimize(
        qubit_sigma,
        jnp.asarray(start),
        args=(equal_taus(), GAMMAS),
        constraints=opt.AffineSimplex(),
        steps=200,
        gtol=1e-12,
    )
    assert bool(res.converged)
    np.testing.assert_allclose(res.params, LAM_STAR, atol=1e-6)
    np.testing.assert_allclose(float(jnp.sum(res.params)), 1.0, atol=1e-14)
    assert float(res.value) < 1e-12
    hist = np.asarray(res.history)[: int(res.steps)]
    assert np.all(np.isfinite(hist)) and hist[-1] <= hist[0]


def test_simplex_with_adam():
    start = jnp.array([1.5, -1.0, 0.5])
    res = opt.minimize(
        qubit_sigma,
        start,
        args=(equal_taus(), GAMMAS),
        optimizer=optax.adam(0.05),
        constraints=opt.AffineSimplex(),
        steps=3000,
        gtol=1e-10,
    )
    np.testing.assert_allclose(res.params, LAM_STAR, atol=1e-6)


def test_positive_rates():
    """Optimise the rates (softplus) at fixed λ = 1/3: σ = 0 iff γ_j/Γ = λ_j, i.e. equal γ."""
    lam = jnp.full((3,), 1.0 / 3.0)

    def loss(gam, taus):
        return qubit_sigma(lam, taus, gam)

    res = opt.minimize(
        loss,
        jnp.array([2.0, 0.3, 0.7]),
        args=(equal_taus(),),
        constraints=opt.Positive(),
        gtol=1e-12,
    )
    g = np.asarray(res.params)
    assert np.all(g > 0)
    np.testing.assert_allclose(g / g.sum(), 1.0 / 3.0, atol=1e-6)


def test_tripartite_lambda_matches_brent():
    """λ minimising the exact σ(g, λ) of a random tripartite model: optax vs SciPy Brent."""
    r = rng(12)
    dims = (2, 2, 2)
    h = jnp.asarray(random_hermitian(r, 8))
    ta = jnp.asarray(random_density(r, 2))
    tb = jnp.asarray(random_density(r, 2))
    g = 0.05

    @eqx.filter_jit
    def sigma(lam, h, ta, tb):
        return qrm.tripartite_entropy_production(h, ta, tb, 0.9, 0.6, dims, g, lam).total / g**2

    res = opt.minimize(sigma, jnp.asarray(0.3), args=(h, ta, tb), gtol=1e-10)
    brent = so.minimize_scalar(
        lambda x: float(sigma(jnp.asarray(x), h, ta, tb)), bracket=(-2.0, 0.3, 3.0), tol=1e-12
    )
    assert bool(res.converged)
    np.testing.assert_allclose(float(res.params), brent.x, atol=1e-6)
    np.testing.assert_allclose(float(res.value), brent.fun, rtol=1e-10)


def test_maximize_and_jit_flag():
    def f(x):
        return -jnp.sum((x - jnp.array([0.2, 0.7])) ** 2) + 1.5

    r1 = opt.maximize(f, jnp.array([0.9, 0.1]), constraints=opt.Interval(0.0, 1.0))
    r2 = opt.maximize(f, jnp.array([0.9, 0.1]), constraints=opt.Interval(0.0, 1.0), jit=False)
    np.testing.assert_allclose(r1.params, [0.2, 0.7], atol=1e-7)
    np.testing.assert_allclose(float(r1.value), 1.5, atol=1e-12)
    np.testing.assert_allclose(r1.params, r2.params, atol=1e-12)
    assert float(np.nanmax(np.asarray(r1.history))) <= 1.5 + 1e-12


def test_constraint_round_trips_and_pytree_prefix():
    r = rng(2)
    x = jnp.asarray(r.normal(size=4))
    x = x - jnp.mean(x) + 0.25
    cons = {
        "lam": opt.AffineSimplex(),
        "p": opt.ProbabilitySimplex(),
        "rates": opt.Positive(lower=0.1),
        "t": opt.Interval(0.2, 0.9),
        "free": None,
    }
    params = {
        "lam": x,
        "p": jnp.array([0.1, 0.6, 0.3]),
        "rates": jnp.array([0.5, 30.0]),
        "t": jnp.array(0.4),
        "free": {"a": jnp.array([1.0, -2.0]), "b": jnp.array(3.0)},
    }
    for key, c in cons.items():
        if c is None:
            continue
        back = c.from_unconstrained(c.to_unconstrained(params[key]))
        np.testing.assert_allclose(back, params[key], rtol=1e-12, atol=1e-12)

    def loss(p):
        return (
            jnp.sum((p["lam"] - jnp.array([2.0, -1.0, 0.5, -0.5])) ** 2)
            + jnp.sum((p["p"] - jnp.array([0.2, 0.2, 0.6])) ** 2)
            + jnp.sum((p["rates"] - 1.0) ** 2)
            + (p["t"] - 0.5) ** 2
            + jnp.sum(p["free"]["a"] ** 2)
            + (p["free"]["b"] - 1.0) ** 2
        )

    res = opt.minimize(loss, params, constraints=cons, gtol=1e-10)
    np.testing.assert_allclose(res.params["lam"], [2.0, -1.0, 0.5, -0.5], atol=1e-6)
    np.testing.assert_allclose(res.params["p"], [0.2, 0.2, 0.6], atol=1e-6)
    np.testing.assert_allclose(res.params["rates"], [1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(res.params["t"], 0.5, atol=1e-6)
    np.testing.assert_allclose(res.params["free"]["b"], 1.0, atol=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="sum to 1"):
        opt.minimize(
            lambda x: jnp.sum(x**2), jnp.array([0.5, 0.7]), constraints=opt.AffineSimplex()
        )
    with pytest.raises(ValueError, match="Positive"):
        opt.minimize(lambda x: jnp.sum(x**2), jnp.array([-0.5]), constraints=opt.Positive())
    with pytest.raises(TypeError, match="real"):
        opt.minimize(lambda x: jnp.sum(jnp.abs(x) ** 2), jnp.array([1.0 + 1j]))
    with pytest.raises(ValueError, match="scalar"):
        opt.minimize(lambda x: x, jnp.array([1.0, 2.0]))


def test_sensitivity_tripartite_all_parameters():
    """One call: Jacobian of (σ_A, σ_B, φ_A, φ_B) w.r.t. every chain parameter, vs FD."""
    params = {
        "e": jnp.array([0.08, 0.1, 0.05]),
        "U": jnp.asarray(0.1),
        "J": jnp.array([0.05, 0.1]),
        "gamma": jnp.array([0.7, 0.6]),
        "t": jnp.array([0.95, 0.6]),
        "g": jnp.asarray(0.3),
        "lam": jnp.asarray(0.4),
    }

    @jax.jit
    def fn(p):
        h = models.three_qubit_chain(p["e"][0], p["e"][1], p["e"][2], p["U"], p["J"][0], p["J"][1])
        ep = qrm.tripartite_entropy_production(
            h,
            models.diagonal_reset_state(p["t"][0]),
            models.diagonal_reset_state(p["t"][1]),
            p["gamma"][0],
            p["gamma"][1],
            (2, 2, 2),
            p["g"],
            p["lam"],
        )
        return {"sigma": ep.parts, "flux": ep.fluxes}

    jac = opt.sensitivity(fn, params)
    jac_rev = opt.sensitivity(fn, params, mode="rev")
    for out in ("sigma", "flux"):
        for key, val in params.items():
            assert jac[out][key].shape == (2,) + val.shape
            np.testing.assert_allclose(jac[out][key], jac_rev[out][key], rtol=1e-9, atol=1e-14)
    r = rng(9)
    for _ in range(2):
        v = jax.tree_util.tree_map(lambda a: jnp.asarray(r.normal(size=np.shape(a))), params)
        fd = finite_difference_jvp(fn, params, v, eps=1e-6)
        for out in ("sigma", "flux"):
            ad = sum(jnp.tensordot(jac[out][k], v[k], axes=np.ndim(v[k])) for k in params)
            np.testing.assert_allclose(ad, fd[out], rtol=1e-6, atol=1e-11)
    # σ does not depend on λ for this model (Sec. 8.4): its λ-derivative vanishes.
    np.testing.assert_allclose(jnp.sum(jac["sigma"]["lam"]), 0.0, atol=1e-12)
