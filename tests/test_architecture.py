"""Problem objects, solver objects, one entry point, one result type (issue 11).

New entry points (``jaxqep.steady_state`` / ``jaxqep.entropy_production`` on problem
objects) against the 0.1 functions and against independent dense NumPy routes; ``throw``
and ``RESULTS`` inside ``vmap``; bad input at construction; batch indices under nested
``vmap``; GPU lowering of the default paths.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sla
from helpers import random_density, random_hermitian, rng

import jaxqep
from jaxqep import RESULTS, models, qrm, solvers, superop

ERR = (ValueError, eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError)


# ----------------------------------------------------------------------------------------
# Independent references (NumPy): steady state from the SVD kernel, Spohn with logm.
# ----------------------------------------------------------------------------------------


def np_superop_comm(h):
    d = h.shape[0]
    return -1j * (np.kron(h, np.eye(d)) - np.kron(np.eye(d), h.T))


def np_kernel_state(lmat):
    d = int(round(np.sqrt(lmat.shape[0])))
    _, _, vh = np.linalg.svd(lmat)
    x = vh[-1].conj().reshape(d, d)
    x = x / np.trace(x)
    return 0.5 * (x + x.conj().T)


def np_spohn(parts):
    """σ and the parts' σ_j at the steady state of Σ parts (dense matrices)."""
    rho = np_kernel_state(sum(parts))
    d = rho.shape[0]
    logr = sla.logm(rho)
    sig = []
    for lj in parts:
        rj = np_kernel_state(lj)
        act = (lj @ rho.reshape(-1)).reshape(d, d)
        sig.append(np.real(np.trace(act @ (sla.logm(rj) - logr))))
    return np.array(sig), rho


def np_reset_parts(h, taus, gammas, lambdas):
    d = h.shape[0]
    out = []
    for tj, gj, lj in zip(taus, gammas, lambdas):
        out.append(
            lj * np_superop_comm(h)
            + gj * (np.outer(tj.reshape(-1), np.eye(d).reshape(-1)) - np.eye(d * d))
        )
    return out


def np_tripartite_parts(h, ta, tb, ga, gb, dims, g, lam):
    na, nc, nb = dims
    d = na * nc * nb

    def reset(tau, first):
        m = np.zeros((d * d, d * d), complex)
        for k in range(d * d):
            e = np.zeros(d * d, complex)
            e[k] = 1
            x = e.reshape(d, d)
            if first:
                red = np.trace(x.reshape(na, nc * nb, na, nc * nb), axis1=0, axis2=2)
                y = np.kron(tau, red) - x
            else:
                red = np.trace(x.reshape(na * nc, nb, na * nc, nb), axis1=1, axis2=3)
                y = np.kron(red, tau) - x
            m[:, k] = y.reshape(-1)
        return m

    c = np_superop_comm(h)
    return [g * lam * c + ga * reset(ta, True), g * (1 - lam) * c + gb * reset(tb, False)]


def random_reset_model(seed, d=3, nres=3):
    r = rng(seed)
    h = random_hermitian(r, d)
    taus = np.stack([random_density(r, d) for _ in range(nres)])
    gammas = r.uniform(0.3, 1.5, size=nres)
    lam = r.normal(size=nres)
    lam = lam - lam.mean() + 1.0 / nres
    return h, taus, gammas, lam


def random_tripartite(seed, dims=(2, 3, 2)):
    r = rng(seed)
    d = int(np.prod(dims))
    h = random_hermitian(r, d)
    ta = random_density(r, dims[0])
    tb = random_density(r, dims[2])
    return h, ta, tb, float(r.uniform(0.4, 1.2)), float(r.uniform(0.4, 1.2)), dims


# ----------------------------------------------------------------------------------------
# New vs old entry points vs independent routes
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_reset_model_new_old_and_numpy_agree(seed):
    h, taus, gammas, lam = random_reset_model(seed)
    model = jaxqep.ResetModel(h, taus, gammas, lam)
    new = jaxqep.entropy_production(model)
    old = qrm.entropy_production(h, taus, gammas, lam)
    dense = jaxqep.entropy_production(model, solvers.DenseLU())
    np.testing.assert_allclose(new.parts, old.parts, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(new.parts, dense.parts, rtol=1e-9, atol=1e-12)
    ref, rho = np_spohn(np_reset_parts(h, taus, gammas, lam))
    np.testing.assert_allclose(new.parts, ref, rtol=1e-8, atol=1e-11)
    np.testing.assert_allclose(jaxqep.steady_state(model).rho, rho, atol=1e-11)
    assert bool(new.result == RESULTS.successful)
    assert float(new.stats.residual) < 1e-12 and float(new.stats.condition) >= 1.0


@pytest.mark.parametrize("seed", [0, 1])
def test_tripartite_new_old_dense_and_numpy_agree(seed):
    h, ta, tb, ga, gb, dims = random_tripartite(seed)
    g, lam = 0.4, 0.3
    model = jaxqep.TripartiteResetModel(h, ta, tb, ga, gb, dims, g, lam)
    ref, rho = np_spohn(np_tripartite_parts(h, ta, tb, ga, gb, dims, g, lam))
    for solver in (None, solvers.Reduced(), solvers.DenseLU()):
        ep = jaxqep.entropy_production(model, solver)
        np.testing.assert_allclose(ep.parts, ref, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(jaxqep.steady_state(model, solver).rho, rho, atol=1e-11)
    old = qrm.tripartite_entropy_production(h, ta, tb, ga, gb, dims, g, lam, method="reduced")
    new = jaxqep.entropy_production(model, solvers.Reduced())
    np.testing.assert_allclose(new.parts, old.parts, rtol=1e-12, atol=1e-15)


def test_superoperator_model_matches_spohn():
    r = rng(5)
    h = random_hermitian(r, 3)
    taus = [random_density(r, 3) for _ in range(2)]
    parts = [superop.hamiltonian_superop(0.5 * h) + superop.reset_dissipator(t) for t in taus]
    ep = jaxqep.entropy_production(jaxqep.SuperoperatorModel(jnp.stack(parts)))
    old = qrm.spohn_entropy_production(jnp.stack(parts))
    ref, _ = np_spohn([np.asarray(p) for p in parts])
    np.testing.assert_allclose(ep.parts, old.parts, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ep.parts, ref, rtol=1e-9, atol=1e-12)
    # a matrix is accepted directly by steady_state
    lmat = jnp.sum(jnp.stack(parts), axis=0)
    np.testing.assert_allclose(
        jaxqep.steady_state(lmat).rho, np_kernel_state(np.asarray(lmat)), atol=1e-12
    )


def test_vmap_over_problem_leaves_with_different_H():
    """A batch of models (different H, g, λ) stacked as one pytree equals a Python loop."""
    models_ = []
    for seed in range(4):
        h, ta, tb, ga, gb, dims = random_tripartite(seed, dims=(2, 2, 2))
        models_.append(jaxqep.TripartiteResetModel(h, ta, tb, ga, gb, dims, 0.2 + 0.1 * seed, 0.3))
    batch = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *models_)
    out = jax.jit(jax.vmap(lambda m: jaxqep.entropy_production(m).total))(batch)
    loop = [float(jaxqep.entropy_production(m, solvers.DenseLU()).total) for m in models_]
    np.testing.assert_allclose(out, loop, rtol=1e-10)


def test_grad_new_equals_old_and_fd():
    h, ta, tb, ga, gb, dims = random_tripartite(3, dims=(2, 2, 2))

    def new(g, lam):
        return jaxqep.entropy_production(
            jaxqep.TripartiteResetModel(h, ta, tb, ga, gb, dims, g, lam)
        ).total

    def old(g, lam):
        return qrm.tripartite_entropy_production(
            h, ta, tb, ga, gb, dims, g, lam, method="dense"
        ).total

    gn = jax.grad(new, argnums=(0, 1))(0.3, 0.4)
    go = jax.grad(old, argnums=(0, 1))(0.3, 0.4)
    np.testing.assert_allclose(gn, go, rtol=1e-9)
    eps = 1e-5
    fd = (
        (new(0.3 + eps, 0.4) - new(0.3 - eps, 0.4)) / (2 * eps),
        (new(0.3, 0.4 + eps) - new(0.3, 0.4 - eps)) / (2 * eps),
    )
    np.testing.assert_allclose(gn, fd, rtol=1e-6, atol=1e-12)


# ----------------------------------------------------------------------------------------
# throw=False and RESULTS
# ----------------------------------------------------------------------------------------


def test_non_unique_code_under_vmap_without_raising():
    good = superop.reset_dissipator(jnp.diag(jnp.array([0.7, 0.3])))
    bad = superop.hamiltonian_superop(jnp.diag(jnp.array([0.0, 1.0])))  # kernel dim 2
    stack = jnp.stack([good, bad, good])
    codes = jax.jit(jax.vmap(lambda m: jaxqep.steady_state(m, throw=False).result))(stack)
    assert list(np.asarray(codes == RESULTS.non_unique)) == [False, True, False]
    assert list(np.asarray(codes == RESULTS.successful)) == [True, False, True]
    with pytest.raises(ERR, match="not unique"):
        jax.jit(jax.vmap(lambda m: jaxqep.steady_state(m).rho))(stack).block_until_ready()


def test_not_faithful_code_under_vmap():
    h = models.single_qubit_hamiltonian(1.0, 0.0)
    gam = jnp.array([1.0, 0.5])

    def code(t):
        taus = jnp.stack([jnp.diag(jnp.array([t, 1.0 - t])), models.diagonal_reset_state(0.3)])
        return jaxqep.entropy_production(jaxqep.ResetModel(h, taus, gam), throw=False).result

    codes = jax.vmap(code)(jnp.array([0.7, 1.0]))
    assert list(np.asarray(codes == RESULTS.not_faithful)) == [False, True]
    with pytest.raises(ValueError, match="not faithful"):
        taus = jnp.stack([jnp.diag(jnp.array([1.0, 0.0])), models.diagonal_reset_state(0.3)])
        jaxqep.entropy_production(jaxqep.ResetModel(h, taus, gam))


def test_not_converged_code_matrix_free():
    m = models.reset_chain(5)
    args = m.tripartite_args()

    def code(g):
        model = jaxqep.TripartiteResetModel(*args, g=g, lam=0.3)
        return jaxqep.steady_state(
            model, solvers.MatrixFree(max_steps=3, restart=3), throw=False
        ).result

    codes = jax.vmap(code)(jnp.array([0.5, 1.0]))
    assert bool(jnp.all(codes == RESULTS.not_converged))
    with pytest.raises(ERR, match="did not converge"):
        model = jaxqep.TripartiteResetModel(*args, g=1.0, lam=0.3)
        jaxqep.steady_state(model, solvers.MatrixFree(max_steps=3, restart=3))


def test_ill_conditioned_code_and_error():
    """At g = 1e-8 the tripartite solve is meaningless (κ ~ 1e15): not a silent number."""
    h = models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
    ta, tb = models.diagonal_reset_state(0.95), models.diagonal_reset_state(0.6)
    weak = jaxqep.TripartiteResetModel(h, ta, tb, 0.7, 0.6, (2, 2, 2), 1e-8, 0.3)
    fine = jaxqep.TripartiteResetModel(h, ta, tb, 0.7, 0.6, (2, 2, 2), 1e-2, 0.3)
    res = jaxqep.entropy_production(weak, throw=False)  # reduced route: κ ~ 4e15
    assert bool(res.result == RESULTS.ill_conditioned), RESULTS[res.result]
    # the dense LU sees a numerically two-dimensional kernel: also not a silent number
    dense = jaxqep.entropy_production(weak, solvers.DenseLU(), throw=False)
    assert not bool(dense.result == RESULTS.successful)
    assert bool(jaxqep.entropy_production(fine, throw=False).result == RESULTS.successful)
    with pytest.raises(ValueError, match="ill-conditioned"):
        jaxqep.entropy_production(weak)


def test_messages_eager_and_under_jit():
    """Eager: a ValueError whose whole text is jaxqep's message. Under ``filter_jit``: the
    exception line of equinox's report is jaxqep's message."""
    bad = superop.hamiltonian_superop(jnp.diag(jnp.array([0.0, 1.0])))
    with pytest.raises(ValueError) as e:
        jaxqep.steady_state(bad)
    assert str(e.value).startswith("L: the steady state is not unique")
    assert "\n" not in str(e.value)
    f = eqx.filter_jit(lambda m: jaxqep.steady_state(m).rho)
    with pytest.raises(eqx.EquinoxRuntimeError) as e:
        f(bad).block_until_ready()
    lines = [ln for ln in str(e.value).splitlines() if "EquinoxRuntimeError:" in ln]
    assert lines and lines[0].split("EquinoxRuntimeError: ", 1)[1].startswith(
        "L: the steady state is not unique"
    )


# ----------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------


def test_problems_raise_at_construction_naming_the_field():
    h = models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
    ta, tb = models.diagonal_reset_state(0.95), models.diagonal_reset_state(0.6)
    with pytest.raises(TypeError, match="g: must be real"):
        jaxqep.TripartiteResetModel(h, ta, tb, 0.7, 0.6, (2, 2, 2), 0.1 + 0.1j, 0.3)
    with pytest.raises(TypeError, match="lam: must be real"):
        jaxqep.TripartiteResetModel(h, ta, tb, 0.7, 0.6, (2, 2, 2), 0.1, 0.3 + 0.0j)
    with pytest.raises(TypeError, match="gamma_A: must be real"):
        jaxqep.TripartiteResetModel(h, ta, tb, 0.7 + 0j, 0.6, (2, 2, 2), 0.1, 0.3)
    with pytest.raises(ValueError, match="dims"):
        jaxqep.TripartiteResetModel(h, ta, tb, 0.7, 0.6, (2, 4, 2), 0.1, 0.3)
    with pytest.raises(ValueError, match="lam: must not be 0 or 1"):
        jaxqep.TripartiteResetModel(h, ta, tb, 0.7, 0.6, (2, 2, 2), 0.1, 1.0)
    hq = models.single_qubit_hamiltonian(1.0, 0.7)
    taus = jnp.stack([models.diagonal_reset_state(0.9)] * 2)
    with pytest.raises(TypeError, match="gammas: must be real"):
        jaxqep.ResetModel(hq, taus, jnp.array([1.0, 0.5 + 0.1j]))
    with pytest.raises(TypeError, match="lambdas: must be real"):
        jaxqep.ResetModel(hq, taus, jnp.array([1.0, 0.5]), jnp.array([0.5, 0.5 + 0j]))
    with pytest.raises(ValueError, match="lambdas: must sum to 1"):
        jaxqep.ResetModel(hq, taus, jnp.array([1.0, 0.5]), jnp.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="H: must be Hermitian"):
        jaxqep.ResetModel(hq + jnp.array([[0, 1.0], [0, 0]]), taus, jnp.array([1.0, 0.5]))
    # under jit the same message at run time
    f = jax.jit(lambda gam: jaxqep.entropy_production(jaxqep.ResetModel(hq, taus, gam)).total)
    with pytest.raises(ERR, match="gammas: must be positive"):
        f(jnp.array([1.0, -0.5])).block_until_ready()


def test_solver_problem_mismatch_and_bad_solver():
    hq = models.single_qubit_hamiltonian(1.0, 0.7)
    model = jaxqep.ResetModel(hq, models.diagonal_reset_state(0.9)[None], jnp.array([1.0]))
    with pytest.raises(TypeError, match="Reduced does not compute"):
        jaxqep.entropy_production(model, solvers.Reduced())
    with pytest.raises(TypeError, match="solver: expected a jaxqep.solvers object"):
        jaxqep.entropy_production(model, "dense")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="problem: expected a jaxqep problem"):
        jaxqep.entropy_production("model")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="restart and max_steps"):
        solvers.MatrixFree(restart=0)


def test_batch_index_under_nested_vmap():
    """Row-major flat index over all vmapped axes, also when the bad argument is batched on
    the outer axis only (the 0.1 code named index 1 here)."""
    hq = models.single_qubit_hamiltonian(1.0, 0.7)
    taus = jnp.stack([models.diagonal_reset_state(0.9)] * 2)

    def sigma(g0, lam0):
        model = jaxqep.ResetModel(hq, taus, jnp.array([g0, 0.5]), jnp.array([lam0, 1 - lam0]))
        return jaxqep.entropy_production(model).total

    gs = jnp.array([1.0, -1.0, 2.0])  # bad at outer index 1
    lams = jnp.linspace(0.2, 0.8, 4)
    f = jax.jit(jax.vmap(lambda g: jax.vmap(lambda lam: sigma(g, lam))(lams)))
    with pytest.raises(ERR, match=r"flat index 4 over the vmapped axes"):
        f(gs).block_until_ready()
    gs2 = jnp.array([[1.0, 1.0, 1, 1], [1, 1, -1.0, 1], [1, 1, 1, 1.0]])
    f2 = jax.jit(jax.vmap(jax.vmap(sigma)))
    with pytest.raises(ERR, match=r"flat index 6 over the vmapped axes"):
        f2(gs2, jnp.full((3, 4), 0.3)).block_until_ready()


# ----------------------------------------------------------------------------------------
# Optimisation: the optimum is differentiable (optimistix implicit adjoint)
# ----------------------------------------------------------------------------------------


def test_grad_of_optimal_lambda_matches_fd():
    h, ta, tb, ga, gb, dims = random_tripartite(3, dims=(2, 2, 2))
    E = np.zeros((8, 8))
    E[0, 1] = E[1, 0] = 1.0

    def lam_star(g, t):
        return qrm.optimal_lambda(h + t * E, ta, tb, ga, gb, dims, g, gtol=1e-12).lam

    dg, dt = jax.grad(lam_star, argnums=(0, 1))(0.05, 0.0)

    def fd(f, x, eps):  # Richardson-extrapolated central difference
        d1 = (f(x + eps) - f(x - eps)) / (2 * eps)
        d2 = (f(x + 2 * eps) - f(x - 2 * eps)) / (4 * eps)
        return (4 * d1 - d2) / 3

    np.testing.assert_allclose(dg, fd(lambda g: lam_star(g, 0.0), 0.05, 1e-3), rtol=1e-6)
    np.testing.assert_allclose(dt, fd(lambda t: lam_star(0.05, t), 0.0, 1e-3), rtol=1e-6)


# ----------------------------------------------------------------------------------------
# Eager use, and GPU lowering of every default path
# ----------------------------------------------------------------------------------------


def test_eager_calls_reuse_one_compilation():
    h = models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
    ta, tb = models.diagonal_reset_state(0.95), models.diagonal_reset_state(0.6)
    from jaxqep import _entry

    qrm.tripartite_entropy_production(h, ta, tb, 0.7, 0.6, (2, 2, 2), 0.1, 0.3)
    n0 = _entry._solve_jit._cached._cache_size()  # pyright: ignore[reportAttributeAccessIssue]
    for g in (0.11, 0.12, 0.13):
        qrm.tripartite_entropy_production(h, ta, tb, 0.7, 0.6, (2, 2, 2), g, 0.35)
    assert _entry._solve_jit._cached._cache_size() == n0  # pyright: ignore[reportAttributeAccessIssue]


_EXPORT_SCRIPT = textwrap.dedent(
    """
    import os
    os.environ["EQX_ON_ERROR"] = "nan"
    import jax, jax.numpy as jnp, jaxqep
    from jaxqep import models, qrm
    f64 = lambda *s: jax.ShapeDtypeStruct(s, jnp.float64)
    H3 = models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
    tA, tB = models.diagonal_reset_state(0.95), models.diagonal_reset_state(0.6)
    hq = models.single_qubit_hamiltonian(1.0, 0.7)
    taus = jnp.stack([models.diagonal_reset_state(0.9), models.diagonal_reset_state(0.2)])
    chain = models.reset_chain(6).tripartite_args()
    def model(g, lam):
        return jaxqep.TripartiteResetModel(H3, tA, tB, 0.7, 0.6, (2, 2, 2), g, lam)
    def trip(g, lam):
        return jaxqep.entropy_production(model(g, lam)).total
    def trip_ss(g, lam):
        return jaxqep.steady_state(model(g, lam)).rho
    def single(gam):
        return jaxqep.entropy_production(jaxqep.ResetModel(hq, taus, gam)).total
    def superop_ss(gam):
        return jaxqep.steady_state(jaxqep.superop.reset_dissipator(taus[0], gam[0])).rho
    def chain_ep(g):
        return jaxqep.entropy_production(jaxqep.TripartiteResetModel(*chain, g=g, lam=0.3)).total
    def lo(ga):
        return qrm.leading_order(H3, tA, tB, ga, 0.6, (2, 2, 2)).c
    cases = {
        "tripartite entropy_production": (trip, (f64(), f64())),
        "tripartite grad": (jax.grad(trip, argnums=(0, 1)), (f64(), f64())),
        "tripartite steady_state": (trip_ss, (f64(), f64())),
        "reset entropy_production": (single, (f64(2),)),
        "reset grad": (jax.grad(single), (f64(2),)),
        "superoperator steady_state": (superop_ss, (f64(2),)),
        "matrix-free chain": (chain_ep, (f64(),)),
        "leading_order": (lo, (f64(),)),
    }
    for name, (fn, args) in cases.items():
        exp = jax.export.export(jax.jit(fn), platforms=["cuda"])(*args)
        text = exp.mlir_module()
        assert "callback" not in text.lower(), name
        print("exported", name)
    """
)


def test_default_paths_lower_for_cuda():
    env = {**os.environ, "EQX_ON_ERROR": "nan", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [sys.executable, "-c", _EXPORT_SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("exported") == 8
