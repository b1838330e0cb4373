"""Davies (global) jumps at degenerate spectra, heat currents with result codes, the TUR
ratio at equilibrium.

Independent route: a NumPy Davies generator built from spectral projectors with a
*frozen* grouping (the level clusters and Bohr groups of the unperturbed ``H0``, by
sorted position), solved by SVD. At a degenerate point the library's grouping (tolerance
``1e-9``) and the frozen one agree; a finite-difference step ``h = 1e-5`` splits the
degenerate levels by ``~h > 1e-9``, so the library *re-evaluated* at ``H0 ± hK`` with the
default tolerance is a different (secular) generator -- the Davies generator jumps where
the grouping changes. Its derivative at ``H0`` is the derivative with the grouping fixed,
which is what the frozen NumPy reference differentiates, and what the library re-evaluated
with ``tol = 1e-3`` (larger than the split) gives. Closed forms: Gibbs states at equal
temperatures, the resonant pair at ``g = 0`` (global = local jumps, product state, no
current), the fluctuation-dissipation relation ``c₂ = 2 dJ/dΔβ`` at equilibrium.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxqep
from jaxqep import thermal

SX = np.array([[0.0, 1.0], [1.0, 0.0]])


# ------------------------------------------------------------------ NumPy reference


def frozen_structure(h0, tol=1e-9):
    """Level clusters (sorted positions) and Bohr groups (lists of cluster pairs) of h0."""
    e = np.linalg.eigvalsh(h0)
    lev = np.concatenate([[0], np.cumsum(np.diff(e) > tol)])
    parts = [np.flatnonzero(lev == c) for c in range(lev.max() + 1)]
    eb = [e[p].mean() for p in parts]
    pairs = [(i, j) for i in range(len(parts)) for j in range(len(parts)) if i != j]
    w = np.array([eb[j] - eb[i] for i, j in pairs])
    order = np.argsort(w)
    lab = np.zeros(len(w), int)
    lab[order] = np.concatenate([[0], np.cumsum(np.diff(w[order]) > tol)])
    groups = [[pairs[q] for q in np.flatnonzero(lab == g)] for g in range(lab.max() + 1)]
    return parts, groups


def davies_terms(h, a, beta, gamma, struct):
    """``[(rate, A_G)]``: one Davies term per Bohr group (rate: mean over its pairs)."""
    parts, groups = struct
    e, v = np.linalg.eigh(h)
    proj = [v[:, p] @ v[:, p].conj().T for p in parts]
    eb = [e[p].mean() for p in parts]
    out = []
    for grp in groups:
        comp = sum(proj[i] @ a @ proj[j] for i, j in grp)
        wts = np.array([len(parts[i]) * len(parts[j]) for i, j in grp], float)
        rates = []
        for i, j in grp:
            w = eb[j] - eb[i]
            n = 1 / np.expm1(beta * abs(w))
            rates.append(gamma * (n + 1 if w > 0 else n))
        out.append((wts @ np.array(rates) / wts.sum(), comp))
    return out


def np_dissipator(c, rho):
    cdc = c.conj().T @ c
    return c @ rho @ c.conj().T - 0.5 * (cdc @ rho + rho @ cdc)


def reference(h, couplings, betas, gammas, struct):
    """``(σ, J)`` of the Davies model with the frozen grouping ``struct``."""
    d = h.shape[0]
    eye = np.eye(d)
    per_bath = [davies_terms(h, a, b, g, struct) for a, b, g in zip(couplings, betas, gammas)]
    lmat = -1j * (np.kron(h, eye) - np.kron(eye, h.T))
    for r, c in (t for tb in per_bath for t in tb):
        cdc = c.conj().T @ c
        lmat = lmat + r * (np.kron(c, c.conj()) - 0.5 * (np.kron(cdc, eye) + np.kron(eye, cdc.T)))
    _, s, vh = np.linalg.svd(lmat)
    assert s[-2] > 1e-8 * s[0]  # unique steady state
    rho = vh[-1].conj().reshape(d, d)
    rho = rho / np.trace(rho)
    j = np.array(
        [np.trace(h @ sum(r * np_dissipator(c, rho) for r, c in tb)).real for tb in per_bath]
    )
    return -float(np.dot(betas, j)), j, rho


# ------------------------------------------------------------------ models


def _hermitian(rng, d):
    x = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return (x + x.conj().T) / 2


def v_system():
    """Three levels with an exactly degenerate excited doublet, in a random basis; two
    baths with generic couplings (a real symmetric and a complex Hermitian one)."""
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3)))
    h0 = q @ np.diag([0.0, 1.0, 1.0]) @ q.conj().T
    a0 = rng.normal(size=(3, 3))
    couplings = [a0 + a0.T, 2 * _hermitian(rng, 3)]
    return h0, couplings, np.array([0.5, 1.0]), (0.05, 0.08)


def pair_hamiltonian(g, w1=1.0, w2=1.0):
    return np.asarray(thermal.xx_pair(w1, w2, g, (0.1, 0.1), (1.0, 1.0)).H)


def pair_couplings():
    return [np.kron(SX, np.eye(2)), np.kron(np.eye(2), SX)]


@functools.partial(jax.jit, static_argnames="tol")
def library(h, couplings, betas, gammas, tol=1e-9):
    """``(σ, J_0)`` of the library's Davies model built from ``h`` (jitted: one compile
    per transformation instead of one per eager operation)."""
    jumps = [thermal.davies_jumps(h, a, b, g, tol=tol) for a, b, g in zip(couplings, betas, gammas)]
    labels = sum(((i,) * j.shape[0] for i, j in enumerate(jumps)), ())
    m = jaxqep.GKLSModel(h, jnp.concatenate(jumps), labels, jnp.asarray(betas))
    ep = jaxqep.entropy_production(m)
    return jnp.stack([ep.total, ep.heat_currents[0]])


CASES = {
    "v_system": v_system,
    "xx_resonant_g0": lambda: (
        pair_hamiltonian(0.0),
        pair_couplings(),
        np.array([0.5, 1.0]),
        (0.05, 0.07),
    ),
    "xx_resonant_g02": lambda: (
        pair_hamiltonian(0.2),
        pair_couplings(),
        np.array([0.5, 1.0]),
        (0.05, 0.07),
    ),
}


# ------------------------------------------------------------------ values and gradients


@pytest.mark.parametrize("case", list(CASES))
def test_values_match_projector_reference(case):
    h0, cs, betas, gammas = CASES[case]()
    sigma, j, _ = reference(h0, cs, betas, gammas, frozen_structure(h0))
    out = np.asarray(library(h0, cs, betas, gammas))
    np.testing.assert_allclose(out, [sigma, j[0]], atol=1e-12)
    assert sigma >= -1e-14  # second law of the Davies equation


@pytest.mark.parametrize("case", list(CASES))
def test_gradients_at_degenerate_spectrum_vs_frozen_fd(case):
    h0, cs, betas, gammas = CASES[case]()
    rng = np.random.default_rng(1)
    k = _hermitian(rng, h0.shape[0])
    q = _hermitian(rng, h0.shape[0])
    struct = frozen_structure(h0)
    hs = 1e-5

    def ref(t, s):
        sig, j, _ = reference(h0 + t * k, [cs[0] + s * q, cs[1]], betas, gammas, struct)
        return np.array([sig, j[0]])

    def lib(t, s):
        return library(h0 + t * k, [cs[0] + s * q, cs[1]], betas, gammas)

    fd_h = (ref(hs, 0.0) - ref(-hs, 0.0)) / (2 * hs)
    fd_a = (ref(0.0, hs) - ref(0.0, -hs)) / (2 * hs)
    rev_h, rev_a = (np.asarray(x) for x in jax.jacrev(lib, argnums=(0, 1))(0.0, 0.0))
    fwd_h = np.asarray(jax.jvp(lambda t: lib(t, 0.0), (0.0,), (1.0,))[1])
    for g in (rev_h, fwd_h, rev_a):
        assert np.all(np.isfinite(g))
    np.testing.assert_allclose(rev_h, fd_h, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fwd_h, fd_h, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(rev_a, fd_a, rtol=1e-6, atol=1e-9)


def test_full_matrix_gradient_and_library_fd_with_fixed_grouping():
    # jax.grad w.r.t. the whole H (contracted with K) is the directional derivative, and
    # equals the central FD of the library itself when its tolerance (1e-3) keeps the
    # grouping of the degenerate point fixed over the FD step.
    h0, cs, betas, gammas = v_system()
    k = _hermitian(np.random.default_rng(2), 3)
    gh = jax.grad(lambda h: library(h, cs, betas, gammas)[0])(jnp.asarray(h0))
    assert np.all(np.isfinite(np.asarray(gh)))
    directional = float(np.real(np.sum(np.asarray(gh) * k)))
    hs = 1e-5
    fd = (
        library(h0 + hs * k, cs, betas, gammas, tol=1e-3)[0]
        - library(h0 - hs * k, cs, betas, gammas, tol=1e-3)[0]
    ) / (2 * hs)
    np.testing.assert_allclose(directional, float(fd), rtol=1e-6, atol=1e-10)
    # with the default tolerance the FD step changes the grouping: a different generator
    jumped = library(h0 + hs * k, cs, betas, gammas)[0] - library(h0, cs, betas, gammas)[0]
    assert abs(float(jumped)) > 1e3 * hs * abs(float(fd))


def test_resonant_pair_at_zero_coupling_closed_form_and_gradients():
    # g = 0, ω1 = ω2: exactly degenerate doublet |01>, |10>. The Davies jumps of σˣ_i are
    # the local σ∓_i (closed form: product of Gibbs states, no current); the grouping of
    # the doublet does not change with g, so d/dg equals that of the local equation.
    @functools.partial(jax.jit, static_argnames="kind")
    def out(g, w2, b1, kind):
        m = thermal.xx_pair(1.0, w2, g, (0.05, 0.07), (0.5, b1), kind=kind)
        ep = jaxqep.entropy_production(m)
        return jnp.stack([ep.total, ep.heat_currents[0]]), ep.rho

    vals, rho = out(0.0, 1.0, 1.0, "global")
    np.testing.assert_allclose(np.asarray(vals), 0.0, atol=1e-14)
    p = [np.exp(-b * np.array([0.0, 1.0])) / (1 + np.exp(-b)) for b in (0.5, 1.0)]
    np.testing.assert_allclose(np.asarray(rho), np.diag(np.kron(p[0], p[1])), atol=1e-13)
    jac_g = jax.jacrev(lambda g: out(g, 1.0, 1.0, "global")[0])(0.0)
    jac_l = jax.jacrev(lambda g: out(g, 1.0, 1.0, "local")[0])(0.0)
    np.testing.assert_allclose(np.asarray(jac_g), np.asarray(jac_l), atol=1e-13)
    # ω2 and β1 at the degenerate point vs the frozen-grouping NumPy FD
    h0 = pair_hamiltonian(0.0)
    struct = frozen_structure(h0)

    def ref(w2, b1):
        s, j, _ = reference(
            pair_hamiltonian(0.0, 1.0, w2),
            pair_couplings(),
            np.array([0.5, b1]),
            (0.05, 0.07),
            struct,
        )
        return np.array([s, j[0]])

    hs = 1e-5
    fds = [
        (ref(1 + hs, 1.0) - ref(1 - hs, 1.0)) / (2 * hs),
        (ref(1.0, 1 + hs) - ref(1.0, 1 - hs)) / (2 * hs),
    ]
    jacs = jax.jacfwd(lambda w2, b1: out(0.0, w2, b1, "global")[0], argnums=(0, 1))(1.0, 1.0)
    for jac, fd in zip(jacs, fds):
        assert np.all(np.isfinite(np.asarray(jac)))
        np.testing.assert_allclose(np.asarray(jac), fd, rtol=1e-6, atol=1e-9)


def test_equal_temperatures_gibbs_and_zero_gradient_of_sigma():
    # closed form at equal β: the Gibbs state of the degenerate H, σ = 0 at its minimum
    h0, cs, _, gammas = v_system()

    def sigma(b1):
        return library(h0, cs, jnp.stack([jnp.asarray(0.7), b1]), gammas)[0]

    assert abs(float(sigma(0.7))) < 1e-14
    g = jax.grad(sigma)(0.7)
    assert np.isfinite(float(g)) and abs(float(g)) < 1e-10


def test_vmap_and_jit_of_gradients_at_degenerate_points():
    h0, cs, betas, gammas = v_system()
    k = _hermitian(np.random.default_rng(3), 3)

    def f(t):
        return library(h0 + t * k, cs, betas, gammas)[0]

    ts = jnp.array([0.0, 0.1, 0.3])
    batched = jax.jit(jax.vmap(jax.grad(f)))(ts)
    loop = np.array([float(jax.grad(f)(t)) for t in ts])
    assert np.all(np.isfinite(np.asarray(batched)))
    np.testing.assert_allclose(np.asarray(batched), loop, rtol=1e-10, atol=1e-14)


def test_second_derivatives_exact_off_degeneracy_nan_at_it():
    # a second derivative of the jumps goes through eigh: exact where the levels are
    # separated, NaN (never a wrong finite number) where two levels share a cluster
    h0, cs, betas, _ = v_system()
    rng = np.random.default_rng(5)
    k, m = _hermitian(rng, 3), _hermitian(rng, 3)

    @jax.jit
    def f(h):
        jumps = thermal.davies_jumps(h, cs[0], betas[0], 0.1)
        return jnp.real(jnp.einsum("kba,bc,kca->", jnp.conj(jumps), m, jumps))

    def second(h):
        return jax.jacfwd(jax.grad(lambda t: f(h + t * k)))(0.0)

    assert np.isnan(float(second(h0)))
    h1 = h0 + 0.3 * k  # non-degenerate
    hs = 1e-4
    fd = (f(h1 + hs * k) - 2 * f(h1) + f(h1 - hs * k)) / hs**2
    np.testing.assert_allclose(float(second(h1)), float(fd), rtol=1e-5)


# ------------------------------------------------------------------ Bohr frequencies


def test_return_frequencies_closed_form_gradient_and_counting():
    h = np.diag([0.0, 1.0, 1.0, 2.5])
    a = np.ones((4, 4))
    jumps, w = thermal.davies_jumps(h, a, 1.0, 0.1, return_frequencies=True)
    m_idx, n_idx = np.nonzero(~np.eye(4, dtype=bool))
    e = np.diag(h)
    np.testing.assert_allclose(np.asarray(w), e[n_idx] - e[m_idx], atol=1e-15)
    assert jumps.shape == (12, 4, 4)
    # dω/dH: derivative of the cluster means, tr(P_J K)/|J| − tr(P_I K)/|I|
    k = _hermitian(np.random.default_rng(4), 4)
    dw = jax.jvp(
        lambda t: thermal.davies_jumps(h + t * k, a, 1.0, return_frequencies=True)[1],
        (0.0,),
        (1.0,),
    )[1]
    kd = np.real(np.diag(k))
    kbar = np.array([kd[0], (kd[1] + kd[2]) / 2, (kd[1] + kd[2]) / 2, kd[3]])
    np.testing.assert_allclose(np.asarray(dw), kbar[n_idx] - kbar[m_idx], atol=1e-13)
    # counting the energy released into bath 0 with weights ω gives c1 = −J_0
    h0, cs, betas, gammas = v_system()
    j0, w0 = thermal.davies_jumps(h0, cs[0], betas[0], gammas[0], return_frequencies=True)
    j1 = thermal.davies_jumps(h0, cs[1], betas[1], gammas[1])
    model = jaxqep.GKLSModel(h0, jnp.concatenate([j0, j1]), (0,) * 6 + (1,) * 6, betas)
    c = jaxqep.current_cumulants(model, jnp.concatenate([w0, jnp.zeros(6)]), order=1)
    np.testing.assert_allclose(float(c[0]), -float(jaxqep.heat_currents(model)[0]), atol=1e-13)


def test_davies_bad_options():
    with pytest.raises(ValueError, match="tol: must be a non-negative Python float"):
        thermal.davies_jumps(np.eye(2), SX, 1.0, tol=-1.0)
    with pytest.raises(TypeError, match="return_frequencies: must be a Python bool"):
        thermal.davies_jumps(np.eye(2), SX, 1.0, return_frequencies=1)


# ------------------------------------------------------------------ heat currents, codes


def test_heat_currents_throw_false_carries_result():
    m = thermal.qubit_two_baths(1.0, (0.1, 0.2), (0.5, 2.0))
    out = jaxqep.heat_currents(m, throw=False)
    assert isinstance(out, thermal.HeatCurrents)
    assert out.result == jaxqep.RESULTS.successful
    np.testing.assert_allclose(np.asarray(out.currents), np.asarray(jaxqep.heat_currents(m)))
    np.testing.assert_allclose(float(out.power), 0.0, atol=1e-15)
    # pure dephasing: non-unique steady state, reported as a code (also under vmap)
    h = np.diag([0.0, 1.0])
    deph = np.stack([np.diag([1.0, -1.0])])
    bad = jaxqep.heat_currents(jaxqep.GKLSModel(h, deph, [0], np.array([1.0])), throw=False)
    assert bad.result == jaxqep.RESULTS.non_unique

    def codes(x):
        return jaxqep.heat_currents(jaxqep.GKLSModel(h * x, deph, [0]), throw=False).result

    assert bool(jnp.all(jax.vmap(codes)(jnp.array([1.0, 2.0])) == jaxqep.RESULTS.non_unique))
    with pytest.raises(TypeError, match="throw: must be a Python bool"):
        jaxqep.heat_currents(m, throw=0)


# ------------------------------------------------------------------ TUR at equilibrium


def _pair_stats(b1, throw=True):
    m = thermal.xx_pair(1.0, 1.3, 0.2, (0.05, 0.07), (0.6, b1), kind="global")
    _, w = thermal.davies_jumps(m.H, np.kron(SX, np.eye(2)), 0.6, 0.05, return_frequencies=True)
    nu = jnp.concatenate([w, jnp.zeros(m.n_jumps - w.shape[0])])
    return m, thermal.current_statistics(m, nu, order=2, throw=throw)


def test_tur_at_equilibrium_is_an_error_not_a_nan():
    with pytest.raises(ValueError, match="tur: the TUR ratio c2\\*sigma/c1\\^2 is 0/0"):
        _pair_stats(0.6)
    m, st = _pair_stats(0.6, throw=False)
    assert st.result == jaxqep.RESULTS.nonfinite
    assert np.isnan(float(st.tur)) and np.isinf(float(st.fano))
    assert np.all(np.isfinite(np.asarray(st.cumulants)))
    # the cumulants alone are well defined at equilibrium
    c = jaxqep.current_cumulants(m, jnp.zeros(m.n_jumps).at[0].set(1.0), order=2)
    assert np.all(np.isfinite(np.asarray(c)))
    with pytest.raises(Exception, match="flat index 1"):
        jax.jit(jax.vmap(lambda b: _pair_stats(b)[1].tur))(jnp.array([0.9, 0.6]))


def test_tur_limit_and_fluctuation_dissipation():
    # linear response with one affinity X = β1 − β0 and its conjugate current J_0:
    # σ = X J_0, J_0 = L X, and the equilibrium noise c2 = 2L (FDT) => ratio → 2
    def j0(b1):
        m = thermal.xx_pair(1.0, 1.3, 0.2, (0.05, 0.07), (0.6, b1), kind="global")
        return jaxqep.heat_currents(m)[0]

    lin = float(jax.grad(j0)(0.6))
    _, eq = _pair_stats(0.6, throw=False)
    np.testing.assert_allclose(float(eq.cumulants[1]), 2 * lin, rtol=1e-9)
    _, near = _pair_stats(0.6 + 1e-3)
    assert abs(float(near.tur) - 2) < 1e-4 and float(near.tur) >= 2
    # gradient of the ratio away from equilibrium vs FD
    g = jax.grad(lambda b: _pair_stats(b)[1].tur)(0.9)
    hs = 1e-5
    fd = (_pair_stats(0.9 + hs)[1].tur - _pair_stats(0.9 - hs)[1].tur) / (2 * hs)
    np.testing.assert_allclose(float(g), float(fd), rtol=1e-6)
