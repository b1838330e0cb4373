"""Matrix-free (GMRES) steady states and entropy production of reset chains (issue 6)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import qutip
from helpers import random_density, random_hermitian, rng

import jaxqep
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
