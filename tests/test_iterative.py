"""Matrix-free (GMRES) steady states and entropy production of reset chains (issue 6)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import qutip
from helpers import random_density, random_hermitian, rng

import jaxqep
from jaxqep import internal
from jaxqep.qrm import tripartite_entropy_production as tep

LAM = 0.3

# One compilation per (dims, method) instead of op-by-op dispatch of the Krylov loops.
_tep = jax.jit(tep, static_argnums=(5,), static_argnames=("method",))


def _chain(n):
    return jaxqep.models.reset_chain(n).tripartite_args()


@pytest.mark.parametrize("n_sites,g", [(4, 0.3), (4, 5.0), (5, 1.0)])
def test_iterative_matches_dense_chain(n_sites, g):
    args = _chain(n_sites)
    dense = _tep(*args, g, LAM, method="dense")
    it = _tep(*args, g, LAM, method="iterative")
    np.testing.assert_allclose(it.rho, dense.rho, rtol=0, atol=1e-9)
    np.testing.assert_allclose(it.partial_states, dense.partial_states, rtol=0, atol=1e-9)
    np.testing.assert_allclose(it.parts, dense.parts, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(it.fluxes, dense.fluxes, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(it.total, dense.total, rtol=1e-9)
    assert float(it.residual) < 1e-10


def test_iterative_matches_dense_complex_model():
    # Complex H and complex reset states exercise the complex code paths, with n_C = 3.
    r = rng(7)
    dims = (2, 3, 2)
    h = random_hermitian(r, 12, 0.5)
    ta, tb = random_density(r, 2), random_density(r, 2)
    dense = _tep(h, ta, tb, 0.8, 0.5, dims, 0.7, LAM, method="dense")
    it = _tep(h, ta, tb, 0.8, 0.5, dims, 0.7, LAM, method="iterative")
    np.testing.assert_allclose(it.rho, dense.rho, rtol=0, atol=1e-9)
    np.testing.assert_allclose(it.partial_states, dense.partial_states, rtol=0, atol=1e-9)
    np.testing.assert_allclose(it.parts, dense.parts, rtol=1e-9, atol=1e-13)


def _qutip_reset_liouvillian(tau, gamma, dims, site):
    """GKLS form of D(ρ) = γ(τ ⊗ tr_site ρ - ρ) on the end ``site`` (0: A, 2: B).

    With τ = Σ_i p_i |i><i| (diagonal here), jump operators √(γ p_i) |i><k| ⊗ 1 for all
    i, k give Σ_ik γ p_i |i><k| ρ |k><i| = γ τ ⊗ tr_A ρ and Σ L†L = γ Σ_k |k><k| = γ 1.
    """
    n = tau.shape[0]
    rest = int(np.prod(dims)) // n
    ops = []
    for i in range(n):
        for k in range(n):
            e = np.zeros((n, n))
            e[i, k] = np.sqrt(gamma * tau[i, i])
            full = np.kron(e, np.eye(rest)) if site == 0 else np.kron(np.eye(rest), e)
            ops.append(qutip.Qobj(full))
    return ops


def test_iterative_matches_qutip_n4():
    n = 4
    m = jaxqep.models.reset_chain(n)
    g = 1.0
    h = np.asarray(m.H)
    dims = m.dims
    c_ops = _qutip_reset_liouvillian(np.asarray(m.tau_A), 0.7, dims, 0) + (
        _qutip_reset_liouvillian(np.asarray(m.tau_B), 0.6, dims, 2)
    )
    ref = qutip.steadystate(qutip.Qobj(g * h), c_ops).full()
    states = jax.jit(
        lambda g: jaxqep.qrm.tripartite_steady_states_iterative(*m.tripartite_args(), g, LAM)
    )
    st = states(g)
    np.testing.assert_allclose(np.asarray(st.rho), ref, rtol=0, atol=1e-9)
    assert bool(jnp.all(st.converged))
    assert np.all(np.asarray(st.iterations) > 0) and np.all(np.asarray(st.iterations) < 300)


def test_gradients_match_finite_differences_n4():
    m = jaxqep.models.reset_chain(4)
    h0 = m.H
    # Perturb the on-site energy of an inner site and the coupling g.
    dn = jnp.kron(jnp.kron(jnp.eye(2), jnp.diag(jnp.array([0.0, 1.0]))), jnp.eye(4))

    def sigma(p, method="iterative"):
        h = h0 + p[1] * dn
        args = (h, m.tau_A, m.tau_B, m.gamma_A, m.gamma_B, m.dims, p[0], LAM)
        return tep(*args, method=method).total

    p0 = jnp.array([0.8, 0.03])
    grad = jax.jit(jax.grad(sigma))(p0)
    f = jax.jit(sigma)
    # Central differences are limited by the O(1e-14) accuracy of σ itself divided by
    # eps: eps = 1e-4 balances that against the O(eps²) truncation (~1e-6 relative).
    eps = 1e-4
    fd = np.array([(f(p0 + eps * e) - f(p0 - eps * e)) / (2 * eps) for e in jnp.eye(2)])
    np.testing.assert_allclose(np.asarray(grad), fd, rtol=5e-6, atol=1e-12)
    grad_dense = jax.jit(jax.grad(lambda p: sigma(p, "dense")))(p0)
    np.testing.assert_allclose(np.asarray(grad), np.asarray(grad_dense), rtol=1e-8)


def test_non_convergence_is_reported():
    args = _chain(4)
    with pytest.raises(Exception, match="did not converge"):
        jax.block_until_ready(
            eqx.filter_jit(lambda g: tep(*args, g, LAM, method="iterative", max_iterations=5))(1.0)
        )
    st = jax.jit(
        lambda g: jaxqep.qrm.tripartite_steady_states_iterative(
            *args, g, LAM, throw=False, max_iterations=5
        )
    )(1.0)
    assert not bool(jnp.any(st.converged))
    assert float(jnp.min(st.residuals)) > 1e-10
    assert np.all(np.asarray(st.iterations) <= 5)
    with pytest.raises(TypeError, match="unexpected solver options"):
        tep(*args, 1.0, LAM, method="iterative", tolerance=1e-3)


def test_generic_matrix_free_steady_state_single_qubit():
    # Single-space reset model: closed form ρ_mn = T_mn / (1 + i(e_m - e_n)/Γ) (CONVENTIONS).
    h = jnp.array([[0.0, 0.35], [0.35, 1.0]])
    tau = jnp.array([[0.7, 0.1 - 0.2j], [0.1 + 0.2j, 0.3]])
    gamma = 0.6

    def apply_l(x):
        return -1j * (h @ x - x @ h) + gamma * (tau * jnp.trace(x) - x)

    ss = jax.jit(lambda: jaxqep.qrm.steady_state_matrix_free(apply_l, 2))()
    w, u = jnp.linalg.eigh(h)
    t = u.conj().T @ tau @ u
    ref = u @ (t / (1 + 1j * (w[:, None] - w[None, :]) / gamma)) @ u.conj().T
    np.testing.assert_allclose(ss.rho, ref, atol=1e-12)
    assert bool(ss.converged) and float(ss.residual) < 1e-12


def test_auto_uses_matrix_free_for_six_sites_and_vmaps():
    args = _chain(6)
    eps = jax.jit(jax.vmap(lambda g: tep(*args, g, LAM)))(jnp.array([0.5, 2.0]))
    assert float(jnp.max(eps.residual)) < 1e-10
    assert bool(jnp.all(eps.total > 0)) and bool(jnp.all(eps.parts >= 0))
    # Entropy balance at the steady state: Σ_j φ_j = σ.
    np.testing.assert_allclose(jnp.sum(eps.fluxes, axis=-1), eps.total, rtol=1e-8)
    # ρ is a state with unit trace.
    np.testing.assert_allclose(jnp.trace(eps.rho, axis1=-2, axis2=-1), 1.0, atol=1e-12)


# --------------------------------------------------------------------------------------
# Static structure of a concrete H: ELL products, sectors, invariant support
# --------------------------------------------------------------------------------------


def _random_sparse_hermitian(r, d, per_row, complex_values):
    h = np.zeros((d, d), complex if complex_values else float)
    for i in range(d):
        for j in r.choice(d, per_row, replace=False):
            v = r.normal() + (1j * r.normal() if complex_values else 0.0)
            h[i, j] += v
            h[j, i] += np.conj(v)
    return h


@pytest.mark.parametrize("complex_values", [False, True])
def test_sparse_products_match_dense(complex_values):
    r = rng(11)
    d = 256
    h = jnp.asarray(_random_sparse_hermitian(r, d, 2, complex_values))
    ell = internal.ell_pattern(internal.nonzero_pattern(h))
    assert ell is not None and ell[0].shape[1] <= d // 16
    left, right = internal.matmuls(h, ell)
    x = jnp.asarray(r.normal(size=(d, d)) + 1j * r.normal(size=(d, d)))
    np.testing.assert_allclose(left(x), h @ x, rtol=0, atol=1e-13)
    np.testing.assert_allclose(right(x), x @ h, rtol=0, atol=1e-13)
    # The packed (conjugated) Lindbladian: sparse and dense products agree.
    resets = internal.Resets(
        jnp.asarray(random_density(r, 2)), jnp.diag(jnp.array([0.3, 0.7])), 0.7, 0.6, (2, 64, 2)
    )
    s = jnp.asarray(r.normal(size=(d, d)))
    sparse = internal.lindblad_packed(h, jnp.asarray(0.9), resets, ell)(s)
    dense = internal.lindblad_packed(h, jnp.asarray(0.9), resets)(s)
    np.testing.assert_allclose(sparse, dense, rtol=0, atol=1e-13)
    # Values are gathered from H, so H-gradients flow through the sparse products (on the
    # frozen pattern; a concrete H is not differentiated, so nothing is lost).
    w = jnp.asarray(r.normal(size=(d, d)))
    f = lambda h, e: jnp.sum(w * internal.lindblad_packed(h, jnp.asarray(0.9), resets, e)(s))
    on_pattern = np.asarray(h) != 0
    grad_dense = np.where(on_pattern, jax.grad(f)(h, None), 0.0)
    np.testing.assert_allclose(jax.grad(f)(h, ell), grad_dense, rtol=0, atol=1e-12)


@pytest.mark.parametrize("complex_values", [False, True])
def test_sector_resolvent_inverts_the_shifted_commutator(complex_values):
    # A block diagonal on 3 scrambled sectors; inputs supported on the diagonal sector pairs.
    r = rng(5)
    sizes = (3, 5, 8)
    d = sum(sizes)
    labels = r.permutation(np.repeat(np.arange(3), sizes))
    a = np.zeros((d, d), complex if complex_values else float)
    for k, n in enumerate(sizes):
        idx = np.flatnonzero(labels == k)
        blk = random_hermitian(r, n)
        a[np.ix_(idx, idx)] = blk if complex_values else blk.real
    a = jnp.asarray(a)
    support = labels[:, None] == labels[None, :]
    x = random_hermitian(r, d) * support
    coef, shift = jnp.asarray(0.7), jnp.asarray(0.4)
    sectors = internal.SectorResolvent(a, internal.sector_labels(np.asarray(a) != 0), support)
    assert len(sectors.pairs) == 3
    y = internal.unpack(sectors(internal.pack(jnp.asarray(x)), coef, shift))
    # -ic[A, Y] - shift Y = X, and the dense path gives the same Y.
    np.testing.assert_allclose(-1j * coef * (a @ y - y @ a) - shift * y, x, rtol=0, atol=1e-12)
    dense = internal.unpack(
        internal.SectorResolvent(a, None, None)(internal.pack(jnp.asarray(x)), coef, shift)
    )
    np.testing.assert_allclose(y, dense, rtol=0, atol=1e-12)


def test_invariant_support_of_a_chain():
    # Excitation-number sectors: block-diagonal states, Σ_k C(N, k)² = C(2N, N) entries.
    m = jaxqep.models.reset_chain(5)
    h = m.H
    nz = internal.nonzero_pattern(h)
    r = rng(2)
    for coef, resets in internal.tripartite_parts(
        h, m.tau_A, m.tau_B, m.gamma_A, m.gamma_B, m.dims, 0.8, LAM
    ):
        support = internal.invariant_support(nz, resets)
        assert support is not None and int(support.sum()) == 252
        s = jnp.asarray(r.normal(size=(32, 32)) * support)
        apply_l = internal.lindblad_packed(h, coef, resets, internal.ell_pattern(nz))
        prec = internal.two_level_preconditioner(h, coef, resets, nz=nz, support=support)
        for out in (apply_l(s), prec(s)):
            assert float(jnp.max(jnp.abs(jnp.where(support, 0.0, out)))) == 0.0


def _sigma_with_pattern(m, h, g, gamma_a, nz):
    opts = internal.matrix_free_options({})
    args = (h, m.tau_A, m.tau_B, gamma_a, m.gamma_B, m.dims, g, LAM)
    st = internal.tripartite_states(*args, opts, True, nz=nz)
    return st, internal.entropy_production_from_states(st, *args)


def test_concrete_hamiltonian_structure_path():
    # Force the ELL products at N = 4 (they start at nnz/row <= d/16 otherwise).
    with internal.sparse_max_fill(1.0):
        m = jaxqep.models.reset_chain(4)
        h0 = m.H
        nz = internal.nonzero_pattern(h0)
        assert internal.ell_pattern(nz) is not None and internal.sector_labels(nz) is not None
        # Concrete H (pattern found at trace time) vs traced H (dense products, full support).
        st, ep = jax.jit(lambda g: _sigma_with_pattern(m, h0, g, m.gamma_A, None))(0.8)
        st_t, ep_t = jax.jit(lambda h, g: _sigma_with_pattern(m, h, g, m.gamma_A, None))(h0, 0.8)
        np.testing.assert_allclose(st.rho, st_t.rho, rtol=0, atol=1e-12)
        np.testing.assert_allclose(st.partial_states, st_t.partial_states, rtol=0, atol=1e-12)
        np.testing.assert_allclose(ep.total, ep_t.total, rtol=1e-9)
        assert float(jnp.max(st.residuals)) < 1e-12

        # Gradients through the sparse path (pattern of h0, traced values) vs finite differences
        # and vs the dense path. dn keeps the sectors (a diagonal term).
        dn = jnp.kron(jnp.kron(jnp.eye(2), jnp.diag(jnp.array([0.0, 1.0]))), jnp.eye(4))

        def sigma(p, pattern):
            h = h0 + p[1] * dn
            return _sigma_with_pattern(m, h, p[0], p[2], pattern)[1].total

        p0 = jnp.array([0.8, 0.03, 0.7])
        grad = jax.jit(jax.grad(lambda p: sigma(p, nz)))(p0)
        f = jax.jit(lambda p: sigma(p, nz))
        eps = 1e-4
        fd = np.array([(f(p0 + eps * e) - f(p0 - eps * e)) / (2 * eps) for e in jnp.eye(3)])
        np.testing.assert_allclose(np.asarray(grad), fd, rtol=5e-6, atol=1e-12)
        grad_dense = jax.jit(jax.grad(lambda p: sigma(p, None)))(p0)
        np.testing.assert_allclose(np.asarray(grad), np.asarray(grad_dense), rtol=1e-8)
