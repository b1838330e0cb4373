"""Full counting statistics of GKLS jump currents.

Independent routes: the resonant level's closed form θ(s) (differentiated by jax.grad
of the formula), QuTiP ``countstat_current_noise`` (mean and noise), and finite
differences of the leading eigenvalue of a dense tilted generator built in NumPy.
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxqep
from jaxqep import thermal

qt = pytest.importorskip("qutip")


def theta_closed(s, gl, gr):
    return 0.5 * (-(gl + gr) + jnp.sqrt((gl - gr) ** 2 + 4 * gl * gr * jnp.exp(s)))


@pytest.mark.parametrize("gl,gr", [(0.7, 0.3), (1.3, 0.2), (0.5, 0.5)])
def test_resonant_level_closed_form(gl, gr):
    m = thermal.resonant_level(gl, gr, energy=0.4)
    st = thermal.current_statistics(m, jnp.array([0.0, 1.0]), order=4)
    f = lambda s: theta_closed(s, gl, gr)  # noqa: E731
    ref, g = [], f
    for _ in range(4):
        g = jax.grad(g)
        ref.append(g(0.0))
    np.testing.assert_allclose(np.asarray(st.cumulants), np.asarray(ref), atol=1e-10)
    np.testing.assert_allclose(float(st.cumulants[0]), gl * gr / (gl + gr), atol=1e-12)
    np.testing.assert_allclose(float(st.fano), (gl**2 + gr**2) / (gl + gr) ** 2, atol=1e-12)


def test_resonant_level_reference_values():
    c = jaxqep.current_cumulants(thermal.resonant_level(0.7, 0.3), jnp.array([0.0, 1.0]), 3)
    np.testing.assert_allclose(np.asarray(c), [0.21, 0.1218, 0.056532], atol=1e-10)
    # order 1 still reports the Fano factor (c2 is computed internally), never a NaN
    st = thermal.current_statistics(thermal.resonant_level(0.7, 0.3), jnp.array([0.0, 1.0]), 1)
    assert st.cumulants.shape == (1,)
    np.testing.assert_allclose(float(st.fano), 0.1218 / 0.21, rtol=1e-12)


def _random(rng, d, k, b):
    h = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    h = (h + h.conj().T) / 2
    jumps = 0.6 * (rng.normal(size=(k, d, d)) + 1j * rng.normal(size=(k, d, d)))
    labels = np.concatenate([np.arange(b), rng.integers(0, b, size=k - b)])
    return h, jumps, labels, rng.uniform(0.3, 2.0, size=b)


@pytest.mark.parametrize("d,k", [(2, 3), (3, 4), (4, 3)])
def test_mean_and_noise_vs_qutip(d, k):
    rng = np.random.default_rng(d * 7 + k)
    h, jumps, labels, betas = _random(rng, d, k, 2)
    nu = rng.normal(size=k)
    m = jaxqep.GKLSModel(h, jumps, labels, betas)
    c = jaxqep.current_cumulants(m, nu, order=2)
    c_ops = [qt.Qobj(x) for x in jumps]
    lq = qt.liouvillian(qt.Qobj(h), c_ops)
    jk = [qt.sprepost(c_, c_.dag()) for c_ in c_ops]
    i_op = sum(n * j for n, j in zip(nu, jk))
    j_op = sum(n**2 * j for n, j in zip(nu, jk))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mean, noise, _ = qt.countstat_current_noise(lq, [], I_ops=[i_op], J_ops=[j_op])
    np.testing.assert_allclose(float(c[0]), float(mean[0]), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(float(c[1]), float(noise[0, 0, 0]), rtol=1e-8, atol=1e-10)


def _theta_dense(h, jumps, nu, s):
    d = h.shape[0]
    eye = np.eye(d)
    lmat = -1j * (np.kron(h, eye) - np.kron(eye, h.T))
    for lk, n in zip(jumps, nu):
        ldl = lk.conj().T @ lk
        lmat = lmat + np.exp(n * s) * np.kron(lk, lk.conj())
        lmat = lmat - 0.5 * (np.kron(ldl, eye) + np.kron(eye, ldl.T))
    w = np.linalg.eigvals(lmat)
    return w[np.argmax(w.real)].real


def test_third_cumulant_vs_dense_eigen_finite_differences():
    rng = np.random.default_rng(5)
    h, jumps, labels, betas = _random(rng, 3, 4, 2)
    nu = np.array([1.0, -1.0, 0.5, 0.0])
    c = jaxqep.current_cumulants(jaxqep.GKLSModel(h, jumps, labels, betas), nu, order=3)
    hs = 0.02
    th = [_theta_dense(h, jumps, nu, k * hs) for k in range(-4, 5)]
    # 9-point stencils (O(h^8) for c1 and c2, O(h^6) for c3)
    w1 = np.array([1 / 280, -4 / 105, 1 / 5, -4 / 5, 0, 4 / 5, -1 / 5, 4 / 105, -1 / 280])
    w2 = np.array([-1 / 560, 8 / 315, -1 / 5, 8 / 5, -205 / 72, 8 / 5, -1 / 5, 8 / 315, -1 / 560])
    w3 = np.array([-7 / 240, 3 / 10, -169 / 120, 61 / 30, 0, -61 / 30, 169 / 120, -3 / 10, 7 / 240])
    fd = [w1 @ th / hs, w2 @ th / hs**2, w3 @ th / hs**3]
    np.testing.assert_allclose(np.asarray(c), fd, rtol=1e-6, atol=1e-8)


def _fd(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("b1", [1.5, 0.6])
def test_gradients_of_noise_and_tur(b1):
    # heat current into bath 0 of the local XX pair: count σ⁻_1 with −ω₁, σ⁺_1 with +ω₁
    def stats(g, b):
        m = thermal.xx_pair(1.0, 1.3, g, (0.05, 0.07), (0.6, b))
        st = thermal.current_statistics(m, jnp.array([-1.0, 1.0, 0.0, 0.0]), order=2)
        return st.cumulants[1], st.tur

    g0 = 0.2
    # b1 = 0.6: equal β; the local equation still carries a (spurious) current while
    # σ = −β Σ_b J_b vanishes identically in g, so the ratio is rounding noise ~1e-17/c1²
    # there and its finite difference is meaningless (the ratio at equilibrium of the
    # global equation: tests/test_thermal_degenerate.py)
    outs = (0, 1) if b1 != 0.6 else (0,)
    for out in outs:
        grad = jax.grad(lambda g, b, out=out: stats(g, b)[out], argnums=(0, 1))(g0, b1)
        assert np.all(np.isfinite(grad))
        np.testing.assert_allclose(
            float(grad[0]),
            float(_fd(lambda g, out=out: stats(g, b1)[out], g0)),
            rtol=1e-6,
            atol=1e-10,
        )
        np.testing.assert_allclose(
            float(grad[1]),
            float(_fd(lambda b, out=out: stats(g0, b)[out], b1)),
            rtol=1e-6,
            atol=1e-10,
        )


def test_tur_bound_and_mean_equals_heat_current():
    m = thermal.xx_pair(1.0, 1.2, 0.1, (0.05, 0.05), (0.3, 1.5), kind="global")
    # count the energy exchanged with bath 0: weight = energy released to the bath (−ω)
    # for each Davies jump, so c1 = energy into the bath = −J_0
    e = np.linalg.eigvalsh(np.asarray(m.H))
    d = 4
    m_idx, n_idx = np.nonzero(~np.eye(d, dtype=bool))
    w = e[n_idx] - e[m_idx]
    nu = np.concatenate([w, np.zeros(m.n_jumps - w.size)])
    st = thermal.current_statistics(m, nu, order=3)
    j = jaxqep.heat_currents(m)
    np.testing.assert_allclose(float(st.cumulants[0]), -float(j[0]), atol=1e-12)
    assert float(st.tur) >= 2 - 1e-9
    np.testing.assert_allclose(
        float(st.sigma), float(jaxqep.entropy_production(m).total), atol=1e-13
    )


def test_vmap_equals_loop():
    bs = jnp.array([0.5, 1.0, 2.0])
    gs = jnp.array([0.1, 0.2, 0.3])

    def f(g, b):
        m = thermal.xx_pair(1.0, 1.2, g, (0.05, 0.05), (0.3, b))
        return jaxqep.current_cumulants(m, jnp.array([-1.0, 1.0, 0.0, 0.0]), order=3)

    v = jax.jit(jax.vmap(f))(gs, bs)
    for i in range(3):
        np.testing.assert_allclose(np.asarray(v[i]), np.asarray(f(gs[i], bs[i])), atol=1e-14)


def test_bad_weights_and_order():
    m = thermal.resonant_level(0.7, 0.3)
    with pytest.raises(ValueError, match=r"weights: expected one counting weight per jump"):
        jaxqep.current_cumulants(m, jnp.array([1.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="order: must be a Python int >= 1"):
        jaxqep.current_cumulants(m, jnp.array([0.0, 1.0]), order=0)
    with pytest.raises(TypeError, match="weights: must be real"):
        jaxqep.current_cumulants(m, jnp.array([0.0, 1.0j]))
    with pytest.raises(TypeError, match="model: expected a jaxqep.GKLSModel"):
        jaxqep.current_cumulants(np.eye(4), jnp.array([0.0, 1.0]))


def test_non_unique_and_throw_false():
    h = np.diag([0.0, 1.0])
    m = jaxqep.GKLSModel(h, np.stack([np.diag([1.0, -1.0])]), [0])
    with pytest.raises(ValueError, match="not unique"):
        jaxqep.current_cumulants(m, jnp.array([1.0]))
    st = thermal.current_statistics(m, jnp.array([1.0]), throw=False)
    assert st.result == jaxqep.RESULTS.non_unique
    with pytest.raises(Exception, match="not unique"):
        jax.jit(lambda m: jaxqep.current_cumulants(m, jnp.array([1.0])))(m)


def test_directional_gradients_on_a_random_model():
    rng = np.random.default_rng(11)
    h, jumps, labels, betas = _random(rng, 3, 4, 2)
    p = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
    p = (p + p.conj().T) / 2
    q = rng.normal(size=(4, 3, 3)) + 1j * rng.normal(size=(4, 3, 3))
    nu = np.array([1.0, -0.5, 0.3, 2.0])

    def f(t):
        m = jaxqep.GKLSModel(h + t * p, jumps + t * q, labels, betas * (1 + t))
        st = thermal.current_statistics(m, nu, order=3)
        return jnp.stack([st.cumulants[1], st.cumulants[2], st.tur, st.sigma])

    jac = jax.jacfwd(f)(0.0)
    rev = jnp.stack([jax.grad(lambda t, i=i: f(t)[i])(0.0) for i in range(4)])
    fd = (f(1e-5) - f(-1e-5)) / 2e-5
    np.testing.assert_allclose(np.asarray(jac), np.asarray(fd), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(np.asarray(rev), np.asarray(fd), rtol=1e-6, atol=1e-9)
