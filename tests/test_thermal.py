"""GKLS models with thermal baths: steady states, heat currents, entropy production.

Independent routes: QuTiP ``steadystate`` (test-only), heat currents from NumPy
dissipator actions on QuTiP's state, the reset-model entry points, closed forms.
"""

import warnings

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

import jaxqep
from jaxqep import thermal

qt = pytest.importorskip("qutip")

SIGMA_X = np.array([[0.0, 1.0], [1.0, 0.0]])


def random_model(rng, d, k, b, thermal_betas=True):
    h = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    h = (h + h.conj().T) / 2
    jumps = 0.6 * (rng.normal(size=(k, d, d)) + 1j * rng.normal(size=(k, d, d)))
    labels = np.concatenate([np.arange(b), rng.integers(0, b, size=k - b)])
    betas = rng.uniform(0.2, 2.0, size=b) if thermal_betas else None
    return h, jumps, labels, betas


def np_dissipator(lk, rho):
    return lk @ rho @ lk.conj().T - 0.5 * (lk.conj().T @ lk @ rho + rho @ lk.conj().T @ lk)


@pytest.mark.parametrize("d,k,b", [(2, 2, 1), (3, 4, 2), (5, 6, 3)])
def test_steady_state_and_currents_vs_qutip(d, k, b):
    rng = np.random.default_rng(10 * d + k)
    h, jumps, labels, betas = random_model(rng, d, k, b)
    model = jaxqep.GKLSModel(h, jumps, labels, betas)
    sol = jaxqep.steady_state(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rho_qt = qt.steadystate(qt.Qobj(h), [qt.Qobj(x) for x in jumps]).full()
    np.testing.assert_allclose(np.asarray(sol.rho), rho_qt, atol=1e-9)
    assert sol.stats.residual < 1e-12
    # heat currents from NumPy on QuTiP's state
    ref = np.array(
        [
            sum(
                np.trace(h @ np_dissipator(jumps[i], rho_qt)).real
                for i in np.flatnonzero(labels == bb)
            )
            for bb in range(b)
        ]
    )
    j = jaxqep.heat_currents(model)
    np.testing.assert_allclose(np.asarray(j), ref, atol=1e-9)
    ep = jaxqep.entropy_production(model)
    np.testing.assert_allclose(float(ep.total), -float(np.sum(betas * ref)), atol=1e-9)
    np.testing.assert_allclose(np.asarray(ep.parts), -betas * ref, atol=1e-9)
    assert abs(float(ep.power)) < 1e-12  # Σ_b J_b = 0 with the reference H


def test_lindbladian_matrix_vs_superop_and_apply():
    rng = np.random.default_rng(3)
    h, jumps, labels, betas = random_model(rng, 3, 3, 2)
    m = jaxqep.GKLSModel(h, jumps, labels, betas)
    ref = jaxqep.superop.hamiltonian_superop(h) + jaxqep.superop.lindblad_dissipator(jumps)
    np.testing.assert_allclose(np.asarray(m.lindbladian()), np.asarray(ref), atol=1e-12)
    x = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
    np.testing.assert_allclose(
        np.asarray(m.apply(x)).reshape(-1), np.asarray(ref @ x.reshape(-1)), atol=1e-12
    )
    np.testing.assert_allclose(
        np.asarray(jnp.sum(m.superoperators(), 0)), np.asarray(ref), atol=1e-12
    )


def test_qubit_two_baths_closed_form():
    # populations of a qubit between two baths: p1/p0 = Σγn / Σγ(n+1)
    w, g, b = 1.3, (0.1, 0.3), (0.4, 2.0)
    m = thermal.qubit_two_baths(w, g, b)
    n = [1 / np.expm1(bb * w) for bb in b]
    up = sum(gi * ni for gi, ni in zip(g, n))
    down = sum(gi * (ni + 1) for gi, ni in zip(g, n))
    p1 = up / (up + down)
    rho = jaxqep.steady_state(m).rho
    assert abs(float(rho[1, 1].real) - p1) < 1e-13
    j0 = w * (g[0] * n[0] * (1 - p1) - g[0] * (n[0] + 1) * p1)
    np.testing.assert_allclose(np.asarray(jaxqep.heat_currents(m)), [j0, -j0], atol=1e-13)


def test_reset_model_is_a_special_case():
    # γ(τ tr ρ − ρ) with diagonal τ = jumps √(γ τ_ii) |i><k| for all i, k
    h = np.array([[0.0, 0.35], [0.35, 1.0]])
    taus = np.stack([np.diag([0.9, 0.1]), np.diag([0.3, 0.7])])
    gammas = np.array([1.0, 0.5])
    lambdas = np.array([0.6, 0.4])
    jumps, labels = [], []
    for j in range(2):
        for i in range(2):
            for kk in range(2):
                op = np.zeros((2, 2))
                op[i, kk] = np.sqrt(gammas[j] * taus[j][i, i])
                jumps.append(op)
                labels.append(j)
    gm = jaxqep.GKLSModel(h, np.stack(jumps), labels)
    rm = jaxqep.ResetModel(h, taus, gammas, lambdas)
    np.testing.assert_allclose(
        np.asarray(jaxqep.steady_state(gm).rho),
        np.asarray(jaxqep.steady_state(rm).rho),
        atol=1e-12,
    )
    a = thermal.spohn_entropy_production(gm, lambdas)
    b = jaxqep.entropy_production(rm)
    np.testing.assert_allclose(float(a.total), float(b.total), atol=1e-12)
    np.testing.assert_allclose(np.asarray(a.parts), np.asarray(b.parts), atol=1e-12)
    c = jaxqep.qrm.entropy_production(h, taus, gammas, lambdas)
    np.testing.assert_allclose(float(a.total), float(c.total), atol=1e-12)


# ------------------------------------------------------------------ global equation


@settings(max_examples=8, deadline=None)
@given(
    w1=st.floats(0.5, 2.0),
    w2=st.floats(0.5, 2.0),
    g=st.floats(0.05, 0.4),
    b0=st.floats(0.2, 3.0),
    b1=st.floats(0.2, 3.0),
    delta=st.floats(-0.3, 0.3),
)
def test_global_pair_second_law_and_spohn(w1, w2, g, b0, b1, delta):
    m = thermal.xx_pair(w1, w2, g, (0.05, 0.08), (b0, b1), delta=delta, kind="global")
    ep = jaxqep.entropy_production(m)
    sp = thermal.spohn_entropy_production(m)
    assert float(ep.total) >= -1e-13
    np.testing.assert_allclose(float(sp.total), float(ep.total), atol=1e-11)
    # per bath: the Spohn flux tr(L_b(ρ) ln ρ_b) is the Clausius part −β_b J_b
    np.testing.assert_allclose(np.asarray(sp.fluxes), np.asarray(ep.parts), atol=1e-11)
    assert np.all(np.asarray(sp.parts) >= -1e-13)  # each Spohn part is non-negative
    assert abs(float(ep.power)) < 1e-12
    # heat flows from hot to cold
    assert float(ep.heat_currents[0] * (b1 - b0)) >= -1e-13


@pytest.mark.parametrize("kind", ["global", "local"])
def test_equal_temperatures_zero_entropy_production(kind):
    m = thermal.xx_pair(1.0, 1.4, 0.3, (0.05, 0.08), (0.7, 0.7), kind=kind)
    ep = jaxqep.entropy_production(m)
    if kind == "global":
        assert abs(float(ep.total)) < 1e-14
        np.testing.assert_allclose(np.asarray(ep.heat_currents), 0.0, atol=1e-14)
        # and the state is the Gibbs state
        h = np.asarray(m.H)
        e, v = np.linalg.eigh(h)
        gibbs = v @ np.diag(np.exp(-0.7 * e) / np.exp(-0.7 * e).sum()) @ v.conj().T
        np.testing.assert_allclose(np.asarray(ep.rho), gibbs, atol=1e-12)
    else:
        # the local equation is not at equilibrium with the coupled H at equal β: a
        # spurious heat current flows (σ = −β Σ J_b = 0 only because Σ J_b = 0)
        assert abs(float(ep.heat_currents[0])) > 1e-3
        assert abs(float(ep.total)) < 1e-14


def test_local_equation_violation_is_reported():
    # detuned strongly coupled pair: the local equation gives σ < 0 (a second-law
    # violation), the global equation at the same parameters σ > 0
    args = (3.0, 1.0, 1.0, (0.05, 0.05), (0.5, 1.0))
    loc = jaxqep.entropy_production(thermal.xx_pair(*args, kind="local"))
    glo = jaxqep.entropy_production(thermal.xx_pair(*args, kind="global"))
    assert float(loc.total) < -1e-4
    assert float(glo.total) > 0
    assert loc.result == jaxqep.RESULTS.successful


@jax.jit
def _maser(wc, ratio, eps, det, bh, bc):
    m = thermal.three_level_maser(wc, wc * ratio, eps, (0.05, 0.1), (bh, bc), detuning=det)
    return m, jaxqep.entropy_production(m)


@settings(max_examples=10, deadline=None)
@given(
    wc=st.floats(0.3, 1.5),
    ratio=st.floats(1.2, 4.0),
    eps=st.floats(0.01, 0.3),
    det=st.floats(-0.2, 0.2),
    bh=st.floats(0.05, 1.0),
    bc=st.floats(0.5, 4.0),
)
def test_maser_second_law_efficiency_and_power(wc, ratio, eps, det, bh, bc):
    m, ep = _maser(wc, ratio, eps, det, bh, bc)
    assert float(ep.total) >= -1e-12
    # power = Σ J_b equals the work rate i tr(H0 [H, ρ]) delivered to the field
    h0, h, rho = (np.asarray(x) for x in (m.reference, m.H, ep.rho))
    work = (1j * np.trace(h0 @ (h @ rho - rho @ h))).real
    np.testing.assert_allclose(float(ep.power), work, atol=1e-12)
    if float(ep.power) > 1e-10:
        eta = float(thermal.efficiency(ep.heat_currents, hot=0))
        assert eta <= float(thermal.carnot_efficiency(m.betas, 0, 1)) + 1e-10
        np.testing.assert_allclose(eta, 1 - 1 / ratio, rtol=1e-8)


@jax.jit
def _fridge(wc, wh, g, bc, bh, br):
    m = thermal.absorption_refrigerator(wc, wh, g, (0.01, 0.01, 0.01), (bc, bh, br))
    ep = jaxqep.entropy_production(m)
    return ep.total, ep.heat_currents, m.betas


@settings(max_examples=8, deadline=None)
@given(
    wc=st.floats(0.5, 1.5),
    wh=st.floats(1.0, 3.0),
    g=st.floats(0.02, 0.2),
    br=st.floats(0.3, 1.5),
    cold=st.floats(1.05, 3.0),
    hot=st.floats(0.05, 0.95),
)
def test_refrigerator_cop_below_carnot(wc, wh, g, br, cold, hot):
    # temperatures ordered T_cold < T_room < T_hot (β_c > β_r > β_h)
    sigma, j, betas = _fridge(wc, wh, g, br * cold, br * hot, br)
    assert float(sigma) >= -1e-12
    assert abs(float(jnp.sum(j))) < 1e-12
    if float(j[0]) > 1e-12 and float(j[1]) > 1e-12:
        cop = float(thermal.cooling_cop(j, cold=0, hot=1))
        assert cop <= float(thermal.carnot_cop(betas, cold=0, room=2, hot=1)) + 1e-9


def test_refrigerator_cools():
    m = thermal.absorption_refrigerator(1.0, 2.0, 0.05, (0.01,) * 3, (1.0, 0.1, 0.5))
    j = jaxqep.heat_currents(m)
    assert float(j[0]) > 0 and float(j[1]) > 0 and float(j[2]) < 0
    cop = float(thermal.cooling_cop(j, 0, 1))
    assert cop <= float(thermal.carnot_cop(m.betas, 0, 2, 1))


def test_davies_traced_equals_concrete():
    # degenerate Bohr frequencies (resonant pair): the traced route groups them too
    def currents(g):
        return jaxqep.heat_currents(
            thermal.xx_pair(1.0, 1.0, g, (0.05, 0.05), (0.5, 1.0), kind="global")
        )

    np.testing.assert_allclose(
        np.asarray(jax.jit(currents)(0.2)), np.asarray(currents(0.2)), atol=1e-13
    )


# ------------------------------------------------------------------ gradients, vmap


def _fd(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("betas", [(0.4, 1.5), (0.8, 0.8)])
def test_gradients_vs_finite_differences(betas):
    def sigma(g, b1):
        m = thermal.xx_pair(1.0, 1.3, g, (0.05, 0.07), (betas[0], b1), kind="local")
        ep = jaxqep.entropy_production(m)
        return ep.total, ep.heat_currents[0]

    g0, b1 = 0.2, betas[1]
    for out in (0, 1):
        grad = jax.grad(lambda g, b, out=out: sigma(g, b)[out], argnums=(0, 1))(g0, b1)
        fd_g = _fd(lambda g, out=out: sigma(g, b1)[out], g0)
        fd_b = _fd(lambda b, out=out: sigma(g0, b)[out], b1)
        assert np.all(np.isfinite(grad))
        np.testing.assert_allclose(float(grad[0]), float(fd_g), rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(float(grad[1]), float(fd_b), rtol=1e-6, atol=1e-10)


def test_gradient_global_at_equilibrium_is_finite():
    def sigma(b1):
        m = thermal.xx_pair(1.0, 1.3, 0.2, (0.05, 0.07), (0.8, b1), kind="global")
        return jaxqep.entropy_production(m).total

    g = jax.grad(sigma)(0.8)
    assert np.isfinite(float(g))
    # σ has a minimum (zero) at equal temperatures
    assert abs(float(g)) < 1e-9
    assert abs(float(_fd(sigma, 0.8))) < 1e-9


def test_vmap_equals_loop():
    gs = jnp.array([0.05, 0.1, 0.3, 0.5])
    bs = jnp.array([0.5, 1.0, 2.0, 3.0])

    def f(g, b):
        m = thermal.xx_pair(1.0, 1.2, g, (0.05, 0.05), (0.3, b))
        ep = jaxqep.entropy_production(m)
        return ep.total, ep.heat_currents

    vs, vj = jax.jit(jax.vmap(f))(gs, bs)
    for i in range(4):
        s, j = f(float(gs[i]), float(bs[i]))
        np.testing.assert_allclose(float(vs[i]), float(s), atol=1e-14)
        np.testing.assert_allclose(np.asarray(vj[i]), np.asarray(j), atol=1e-14)


# ------------------------------------------------------------------ bad input


def _qubit():
    sm = np.array([[0.0, 1.0], [0.0, 0.0]])
    return np.diag([0.0, 1.0]), np.stack([sm, sm.T * 0.5])


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(H=np.array([[0.0, 1.0], [0.0, 1.0]])), "H: must be Hermitian"),
        (dict(jumps=np.zeros((2, 3, 3))), "jumps: expected shape"),
        (dict(jumps=np.zeros((2, 2))), "jumps: expected a stack"),
        (dict(baths=[0, 2]), "baths: labels must lie in 0..1"),
        (dict(baths=[0, 0, 1]), r"baths: expected shape \(2,\)"),
        (dict(baths=[1, 1]), r"baths: bath\(s\) \[0\] have no jump"),
        (dict(baths=[0.5, 1]), "baths: expected integer"),
        (dict(betas=np.array([1.0, -1.0])), "betas: inverse temperatures must be positive"),
        (dict(betas=np.array([1.0])), "baths: labels must lie in 0..0"),
    ],
)
def test_bad_input(kwargs, match):
    h, jumps = _qubit()
    args = dict(H=h, jumps=jumps, baths=[0, 1], betas=np.array([1.0, 2.0]))
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        jaxqep.GKLSModel(**args)


def test_bad_input_under_jit_and_vmap():
    h, jumps = _qubit()

    def f(b):
        return jaxqep.entropy_production(
            jaxqep.GKLSModel(h, jumps, [0, 1], jnp.stack([1.0, b]))
        ).total

    with pytest.raises(Exception, match="betas: inverse temperatures must be positive"):
        jax.jit(f)(-1.0)
    with pytest.raises(Exception, match="flat index 1"):
        jax.jit(jax.vmap(f))(jnp.array([1.0, -1.0]))

    def g(x):
        return jaxqep.GKLSModel(h + x * np.array([[0, 1], [0, 0]]), jumps, [0, 1]).H

    with pytest.raises(Exception, match="H: must be Hermitian"):
        jax.jit(g)(1.0)


def test_negative_rate_in_builders():
    with pytest.raises(ValueError, match="gamma: must be non-negative"):
        thermal.qubit_two_baths(1.0, (-0.1, 0.1), (1.0, 1.0))
    with pytest.raises(ValueError, match="beta: must be positive"):
        thermal.qubit_two_baths(1.0, (0.1, 0.1), (-1.0, 1.0))
    with pytest.raises(ValueError, match="gamma: must be non-negative"):
        thermal.davies_jumps(np.eye(2), np.ones((2, 2)), 1.0, gamma=-1.0)


def test_ratio_and_builder_checks():
    # ratios of vanishing currents / equal temperatures: an error, never inf or NaN
    with pytest.raises(ValueError, match="currents: the hot bath's current is zero"):
        thermal.efficiency(jnp.array([0.0, 0.0]), hot=0)
    with pytest.raises(ValueError, match="currents: the power is zero"):
        thermal.cooling_cop(jnp.array([0.1, -0.1]), cold=0)
    with pytest.raises(ValueError, match="betas: the cold and room baths have the same"):
        thermal.carnot_cop(jnp.array([1.0, 1.0, 0.5]), cold=0, room=1, hot=2)
    with pytest.raises(ValueError, match="betas: inverse temperatures must be positive"):
        thermal.carnot_efficiency(jnp.array([-1.0, 1.0]), 0, 1)
    with pytest.raises(Exception, match="currents: the hot bath's current is zero"):
        jax.jit(lambda x: thermal.efficiency(jnp.stack([x, -x]), hot=0))(0.0)
    with pytest.raises(ValueError, match="omega: must be positive"):
        thermal.bose(0.0, 1.0)
    with pytest.raises(ValueError, match="omega_h: must exceed omega_c"):
        thermal.three_level_maser(2.0, 1.0, 0.1, (0.1, 0.1), (0.2, 2.0))
    with pytest.raises(ValueError, match="spectral_density: must return finite non-negative"):
        thermal.davies_jumps(np.diag([0.0, 1.0]), SIGMA_X, 1.0, spectral_density=lambda w: -w)
    with pytest.raises(ValueError, match="rho: contains NaN or inf"):
        thermal.heat_currents_at(
            thermal.qubit_two_baths(1.0, (0.1, 0.1), (1.0, 2.0)), np.full((2, 2), np.nan)
        )
    # the checks also hold under vmap, naming the batch element
    with pytest.raises(Exception, match="flat index 1"):
        jax.jit(
            jax.vmap(
                lambda b: jaxqep.heat_currents(
                    thermal.xx_pair(1.0, 1.2, 0.1, (0.1, 0.1), (0.5, b), kind="global")
                )
            )
        )(jnp.array([1.0, -1.0]))


def test_non_unique_steady_state():
    # pure dephasing: every diagonal state is stationary (decoherence-free subspace)
    h = np.diag([0.0, 1.0])
    jumps = np.stack([np.diag([1.0, -1.0])])
    m = jaxqep.GKLSModel(h, jumps, [0], np.array([1.0]))
    with pytest.raises(ValueError, match="not unique"):
        jaxqep.steady_state(m)
    with pytest.raises(ValueError, match="not unique"):
        jaxqep.heat_currents(m)
    sol = jaxqep.steady_state(m, throw=False)
    assert sol.result == jaxqep.RESULTS.non_unique
    assert jaxqep.heat_currents(m, throw=False).result == jaxqep.RESULTS.non_unique
    ep = jaxqep.entropy_production(m, throw=False)
    assert ep.result == jaxqep.RESULTS.non_unique

    def f(x):
        return jaxqep.steady_state(jaxqep.GKLSModel(h * x, jumps, [0]), throw=False).result

    res = jax.vmap(f)(jnp.array([1.0, 2.0]))
    assert bool(jnp.all(res == jaxqep.RESULTS.non_unique))


def test_entropy_production_needs_betas():
    h, jumps = _qubit()
    with pytest.raises(ValueError, match="betas: the entropy production"):
        jaxqep.entropy_production(jaxqep.GKLSModel(h, jumps, [0, 1]))


def test_reference_validation():
    m = thermal.qubit_two_baths(1.0, (0.1, 0.1), (1.0, 2.0))
    with pytest.raises(ValueError, match="reference: must be Hermitian"):
        jaxqep.heat_currents(m, reference=np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="reference: expected shape"):
        jaxqep.heat_currents(m, reference=np.eye(3))
