"""Numerical health and error reporting (issue #7): which batch element failed, condition
estimates of the solves, and deadlock-free batched perturbation theory."""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxqep
from jaxqep import gaussian, models, qrm
from jaxqep.internal import error_if


def _message(excinfo) -> str:
    return str(excinfo.value)


# -- which batch element failed ----------------------------------------------------------


def test_error_if_unbatched_keeps_the_plain_message():
    f = jax.jit(lambda x: error_if(x, x < 0, "x: must be >= 0"))
    with pytest.raises(Exception) as e:
        f(-1.0)
    assert "x: must be >= 0" in _message(e)
    assert "batch element" not in _message(e)
    assert float(f(2.0)) == 2.0


@pytest.mark.parametrize("bad", [[0], [5], [3, 7], [7, 3, 9]])
def test_error_if_names_the_first_failing_element(bad):
    x = jnp.ones(10).at[jnp.asarray(bad)].set(-1.0)
    f = jax.jit(jax.vmap(lambda x: error_if(x, x < 0, "x: must be >= 0")))
    with pytest.raises(Exception) as e:
        f(x)
    assert f"flat index {min(bad)} over the vmapped axes" in _message(e)


def test_error_if_nested_vmap_reports_the_flat_index():
    x = jnp.ones((3, 4)).at[2, 1].set(-1.0).at[2, 3].set(-1.0)
    f = jax.jit(jax.vmap(jax.vmap(lambda x: error_if(x, x < 0, "x: bad"))))
    with pytest.raises(Exception) as e:
        f(x)
    assert "flat index 9 " in _message(e)  # np.ravel_multi_index((2, 1), (3, 4)) == 9


def test_error_if_under_grad_and_vmap():
    def f(x):
        return jnp.sqrt(error_if(x, x < 0, "x: bad"))

    g = jax.jit(jax.vmap(jax.grad(f)))
    np.testing.assert_allclose(g(jnp.array([1.0, 4.0])), [0.5, 0.25])
    with pytest.raises(Exception) as e:
        g(jnp.array([1.0, 4.0, -1.0]))
    assert "flat index 2 " in _message(e)


def test_error_if_on_large_arrays():
    # Large leaves pass one entry through the check (no copy of the whole array): the
    # values come back bit for bit, the check still fires when only that leaf is used,
    # names the batch element, and is transparent to gradients.
    x = jnp.asarray(np.random.default_rng(0).normal(size=(64, 64)))
    f = jax.jit(lambda x, t: error_if((x, t), jnp.any(x < t), "x: below t")[0])
    assert bool(jnp.all(f(x, -10.0) == x))
    with pytest.raises(Exception) as e:
        f(x, 0.0)
    assert "x: below t" in _message(e)
    xb = jnp.stack([x + 10.0, x, x + 10.0])
    g = jax.jit(jax.vmap(lambda x: jnp.sum(error_if(x, jnp.any(x < 0), "x: bad") ** 2)))
    with pytest.raises(Exception) as e:
        g(xb)
    assert "flat index 1 " in _message(e)
    grad = jax.grad(lambda x: jnp.sum(error_if(x, jnp.any(x < -10), "x: bad") ** 2))(x)
    np.testing.assert_allclose(np.asarray(grad), 2 * np.asarray(x), rtol=0, atol=0)


def test_qrm_entry_point_names_the_bad_point_of_a_batch():
    h = models.single_qubit_hamiltonian(1.0, 0.7)
    taus = jnp.stack([models.diagonal_reset_state(t) for t in (0.9, 0.2)])
    gammas = jnp.ones((16, 2)).at[11, 1].set(-0.5)
    f = jax.jit(jax.vmap(lambda g: qrm.entropy_production(h, taus, g).total))
    with pytest.raises(Exception) as e:
        f(gammas)
    msg = _message(e)
    assert "gammas: must be positive" in msg and "flat index 11 " in msg


def test_tripartite_entry_point_names_the_bad_point_of_a_batch():
    h = models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
    ta, tb = models.diagonal_reset_state(0.95), models.diagonal_reset_state(0.6)
    lams = jnp.linspace(0.1, 0.9, 8).at[6].set(1.0)  # λ = 1: part B has no unique state
    f = jax.jit(
        jax.vmap(
            lambda lam: (
                qrm.tripartite_entropy_production(h, ta, tb, 0.7, 0.6, (2, 2, 2), 0.3, lam).total
            )
        )
    )
    with pytest.raises(Exception) as e:
        f(lams)
    assert "flat index 6 " in _message(e)


def test_gaussian_entry_point_names_the_bad_point_of_a_batch():
    L = 5
    H = gaussian.chain_hamiltonian(L, 1.0, 0.3)
    g = jnp.zeros(L).at[0].set(0.1).at[-1].set(0.1)
    occ = jnp.tile(jnp.linspace(0.5, 1.5, L), (6, 1)).at[4, 2].set(-1.0)
    f = jax.jit(jax.vmap(lambda n: gaussian.entropy_production(H, g, n).total))
    with pytest.raises(Exception) as e:
        f(occ)
    assert "flat index 4 " in _message(e)


# -- condition estimates -----------------------------------------------------------------


def _random_lindbladian(rng, d, njump=2):
    h = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    h = h + h.conj().T
    jumps = [rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)) for _ in range(njump)]
    return jaxqep.superop.hamiltonian_superop(h) + sum(
        jaxqep.superop.lindblad_dissipator(jnp.asarray(j)) for j in jumps
    )


@pytest.mark.parametrize("d", [2, 3, 5])
def test_superop_condition_estimate_matches_numpy(d):
    rng = np.random.default_rng(d)
    lmat = _random_lindbladian(rng, d)
    ss = jaxqep.steady_state_from_superop(lmat)
    t = np.eye(d).reshape(-1)
    bordered = np.asarray(lmat) + np.outer(t / d, t)
    exact = np.linalg.cond(bordered, 1)
    assert exact / 3 <= float(ss.condition) <= exact * (1 + 1e-8)


def test_condition_grows_as_a_steady_state_becomes_non_unique():
    # Two decoupled qubits' worth of kernel: a reset of strength eps on a 2-level system
    # with H = 0 and a dephasing jump; as eps -> 0 the kernel becomes two-dimensional.
    tau = jnp.diag(jnp.array([0.7, 0.3])).astype(complex)
    z = jnp.diag(jnp.array([1.0, -1.0])).astype(complex)
    conds = []
    for eps in (1e-1, 1e-3, 1e-5):
        lmat = eps * jaxqep.superop.reset_dissipator(tau) + jaxqep.superop.lindblad_dissipator(z)
        conds.append(float(jaxqep.steady_state_from_superop(lmat).condition))
    assert conds[1] > 50 * conds[0] and conds[2] > 50 * conds[1]


def test_closed_form_condition_is_that_of_the_denominators():
    h = models.single_qubit_hamiltonian(1.0, 0.7)
    taus = jnp.stack([models.diagonal_reset_state(t) for t in (0.9, 0.2)])
    gammas = jnp.array([0.3, 0.2])
    ep = qrm.entropy_production(h, taus, gammas, jnp.array([0.5, 0.5]))
    w = np.linalg.eigvalsh(np.asarray(h))
    ratio = max(0.5 / 0.3, 0.5 / 0.2, 1 / 0.5)
    np.testing.assert_allclose(float(ep.condition), np.hypot(1.0, ratio * (w[-1] - w[0])))


def test_gaussian_condition_tracks_the_weakest_damping():
    L = 6
    H = gaussian.chain_hamiltonian(L, 1.0, 0.1)
    n = jnp.zeros(L).at[0].set(1.0).at[-1].set(2.0)
    conds = []
    for gam in (1e-1, 1e-3, 1e-5):
        g = jnp.zeros(L).at[0].set(gam).at[-1].set(gam)
        conds.append(float(gaussian.entropy_production(H, g, n).condition))
    # The slowest mode is damped at a rate ~ gam / L: κ ~ 1/gam.
    assert 30 < conds[1] / conds[0] < 3000 and 30 < conds[2] / conds[1] < 3000


# -- no deadlock in batched perturbation theory, even without the XLA flag ----------------


def test_batched_leading_order_without_the_scheduler_flag():
    """``leading_order`` factorises its three Φ_D systems in one batched LU call and chains
    its other LAPACK calls: it must finish even when the backend was created before jaxqep
    could set the XLA flag (it hung on the first batch before that restructuring)."""
    code = textwrap.dedent(
        """
        import warnings
        import jax, jax.numpy as jnp, numpy as np
        jax.config.update("jax_enable_x64", True)
        jnp.ones(1).block_until_ready()  # backend first: the flag cannot be applied
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import jaxqep
        from jaxqep import internal, models, qrm
        assert not internal.XLA_WORKAROUND_ACTIVE
        h = models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
        ta, tb = models.diagonal_reset_state(0.95), models.diagonal_reset_state(0.6)
        f = jax.jit(jax.vmap(lambda a, b: qrm.leading_order(h, ta, tb, a, b, (2, 2, 2)).a))
        r = np.random.default_rng(0)
        for _ in range(20):
            out = f(jnp.asarray(r.uniform(0.3, 1, 1024)), jnp.asarray(r.uniform(0.3, 1, 1024)))
            assert bool(jnp.all(jnp.isfinite(out)))
        print("done")
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=240
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("done")


def test_batched_gaussian_repeated():
    L = 8
    H = gaussian.chain_hamiltonian(L, 1.0, 0.3)

    def one(g, n):
        gam = jnp.zeros(L).at[0].set(g).at[-1].set(g)
        occ = jnp.zeros(L).at[0].set(n).at[-1].set(2 * n)
        return gaussian.entropy_production(H, gam, occ, sc_rates=0.01).total

    f = jax.jit(jax.vmap(one))
    r = np.random.default_rng(2)
    for _ in range(20):
        out = f(jnp.asarray(r.uniform(0.1, 1, 1024)), jnp.asarray(r.uniform(0.5, 2, 1024)))
        assert bool(jnp.all(jnp.isfinite(out)) & jnp.all(out > 0))


@pytest.mark.parametrize("method", ["reduced", "dense"])
def test_tripartite_condition_grows_as_a_part_decouples(method):
    """L^A_{λg} has a slow space gapped by (λg)²: its solve degrades as λ → 0."""
    h = models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
    ta, tb = models.diagonal_reset_state(0.95), models.diagonal_reset_state(0.6)
    conds = [
        float(
            qrm.tripartite_entropy_production(
                h, ta, tb, 0.7, 0.6, (2, 2, 2), 0.5, lam, method=method
            ).condition
        )
        for lam in (0.5, 0.05, 0.005)
    ]
    assert np.all(np.isfinite(conds))
    assert conds[1] > 10 * conds[0] and conds[2] > 10 * conds[1]


def test_reduced_and_dense_condition_estimates_are_finite_under_vmap_and_grad():
    h = models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
    ta, tb = models.diagonal_reset_state(0.95), models.diagonal_reset_state(0.6)

    def f(g):
        return qrm.tripartite_entropy_production(h, ta, tb, 0.7, 0.6, (2, 2, 2), g, 0.3)

    cond = jax.jit(jax.vmap(lambda g: f(g).condition))(jnp.linspace(0.1, 1.0, 5))
    assert np.all(np.isfinite(np.asarray(cond))) and np.all(np.asarray(cond) >= 1)
    assert np.isfinite(float(jax.grad(lambda g: f(g).total)(0.4)))
