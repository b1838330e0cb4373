"""GaussianNetwork as a problem object, its solver objects, the residual guarantee, the
platform-dependent default route (CUDA export), the scalable self-consistent route."""

import json
import os
import subprocess
import sys
import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import check_grad_vs_fd, random_hermitian, rng
from test_gaussian_ness import dense_reference, direct_pi

import jaxqep
from jaxqep import gaussian, solvers
from jaxqep.gaussian import _lyapunov

PT_H = jnp.array([[0.0, 0.25], [0.25, 0.0]])
PT_G = jnp.array([1.1, 0.1])
PT_N = jnp.array([1.0, 3.0])


def _dense_total(H, g, n, sc=None):
    """Dense covariance and Π_r + Π_sc by eq. (C2) on the 2L×2L Θ (self-consistent
    channels with n_k -> C_kk)."""
    C = dense_reference(H, g, n, sc)
    pi = np.sum(direct_pi(C, np.asarray(g), np.asarray(n)))
    if sc is not None:
        pi += np.sum(direct_pi(C, np.asarray(sc), np.real(np.diag(C))))
    return C, float(pi)


# -- the exceptional point: right or raise, one meaning of condition -----------------------


def test_pt_dimer_exceptional_point():
    # A = i Hᵀ - G/2 = [[-0.55, 0.25i], [0.25i, -0.05]] is defective (double eigenvalue -0.3).
    A = 1j * np.asarray(PT_H).T - np.diag(np.asarray(PT_G)) / 2
    w = np.linalg.eigvals(A)
    assert abs(w[0] - w[1]) < 1e-6
    C_ref, total_ref = _dense_total(PT_H, PT_G, PT_N)
    net = jaxqep.GaussianNetwork(PT_H, PT_G, PT_N)
    conds = {}
    for solver in (None, solvers.DirectLyapunov(), solvers.SignIteration()):
        ep = jaxqep.entropy_production(net, solver)
        np.testing.assert_allclose(np.asarray(ep.covariance), C_ref, atol=1e-13)
        np.testing.assert_allclose(float(ep.total), total_ref, rtol=1e-10)
        assert float(ep.residual) < 1e-14
        conds[repr(solver)] = float(ep.condition)
    assert max(conds.values()) / min(conds.values()) < 1 + 1e-8  # one meaning
    assert 1 < min(conds.values()) < 100  # well-conditioned
    # 0.1's default went through eig and returned 1.8e15; now the wrapper is right ...
    np.testing.assert_allclose(float(gaussian.entropy_production(PT_H, PT_G, PT_N).total),
                               total_ref, rtol=1e-10)
    # ... and the eigenvector route refuses instead of returning a wrong number.
    with pytest.raises(ValueError, match="Eig: the NESS covariance does not solve"):
        jaxqep.entropy_production(net, solvers.Eig())
    out = jaxqep.entropy_production(net, solvers.Eig(), throw=False)
    assert out.result == jaxqep.RESULTS.ill_conditioned


def test_condition_is_the_same_for_every_method():
    r = rng(3)
    L = 6
    H = random_hermitian(r, L)
    g = jnp.asarray(r.uniform(0.1, 1.0, L))
    n = jnp.asarray(r.uniform(0, 2, L))
    sc = jnp.asarray(r.uniform(0.0, 0.3, L))
    net = jaxqep.GaussianNetwork(H, g, n, sc)
    ks = [float(jaxqep.entropy_production(net, s).condition) for s in
          (solvers.Eig(), solvers.SignIteration(), solvers.DirectLyapunov(),
           solvers.EighKrylov(fallback=False))]
    np.testing.assert_allclose(ks, ks[0], rtol=1e-8)


# -- problem object ------------------------------------------------------------------------


def test_problem_validation_and_static_structure():
    H = gaussian.chain_hamiltonian(6, 1.0, 0.3)
    g, n = gaussian.chain_baths(6, 0.5, 1.0, 2.0)
    assert jaxqep.GaussianNetwork(H, g, n).structure == "general"
    net = jaxqep.GaussianNetwork(H, g, n, 0.1 * jnp.ones(6))
    assert net.structure == "tridiagonal_chain" and not net.real_h  # (27) hops by iλ
    assert jaxqep.GaussianNetwork(gaussian.lattice_hamiltonian(2, 3, 1.0, 0.2), jnp.ones(6),
                                  jnp.ones(6)).real_h
    assert isinstance(net.default_solver(), solvers.Tridiagonal)
    assert jaxqep.GaussianNetwork(H, g.at[2].set(0.1), n, 0.1).structure == "general"
    with pytest.raises(ValueError, match="gammas: bath rates must be >= 0"):
        jaxqep.GaussianNetwork(H, g.at[0].set(-1.0), n)
    with pytest.raises(ValueError, match="sc_rates: self-consistent reservoir rates must be"):
        jaxqep.GaussianNetwork(H, g, n, -0.1)
    with pytest.raises(ValueError, match="occupations: bath occupations must be >= 0"):
        jaxqep.GaussianNetwork(H, g, n.at[1].set(-1.0))
    with pytest.raises(TypeError, match="gammas: expected real"):
        jaxqep.GaussianNetwork(H, g + 0j, n)
    with pytest.raises(ValueError, match="H: must be Hermitian"):
        jaxqep.GaussianNetwork(H.at[0, 1].set(5.0), g, n)
    # under jit the same message
    f = jax.jit(lambda s: jaxqep.entropy_production(jaxqep.GaussianNetwork(H, g, n, s)).total)
    with pytest.raises(Exception, match="sc_rates: self-consistent reservoir rates must be"):
        f(-0.1 * jnp.ones(6))


def test_concrete_hamiltonian_is_checked_once_traced_one_at_run_time():
    H = gaussian.chain_hamiltonian(4, 1.0, 0.3)
    g, n = gaussian.chain_baths(4, 0.5, 1.0, 2.0)
    bad = H.at[0, 1].set(5.0)
    # A concrete H inside jit (a closure constant) is checked in NumPy at trace time ...
    f = jax.jit(lambda s: jaxqep.entropy_production(jaxqep.GaussianNetwork(bad, g, n, s)).total)
    with pytest.raises(ValueError, match="H: must be Hermitian"):
        f(0.1 * jnp.ones(4))
    with pytest.raises(ValueError, match="H: contains NaN or inf"):
        jaxqep.GaussianNetwork(H.at[1, 1].set(jnp.inf), g, n)
    # ... a traced one at run time, with the same message.
    ft = jax.jit(lambda h: jaxqep.entropy_production(jaxqep.GaussianNetwork(h, g, n)).total)
    with pytest.raises(Exception, match="H: must be Hermitian"):
        ft(bad)
    # Its Hermitian part, either way.
    Hn = H.at[0, 1].add(1e-12)
    np.testing.assert_array_equal(np.asarray(jaxqep.GaussianNetwork(Hn, g, n).hamiltonian),
                                  np.asarray(0.5 * (Hn + jnp.conj(Hn.T))))
    net_t = jax.jit(lambda h: jaxqep.GaussianNetwork(h, g, n).hamiltonian)(Hn)
    np.testing.assert_allclose(np.asarray(net_t), np.asarray(0.5 * (Hn + jnp.conj(Hn.T))),
                               rtol=0, atol=1e-15)


def test_bath_sites_found_once_and_rechecked_where_a_rate_changed():
    # Two decoupled chains (blocks 0-2 and 3-5), a bath on each: one site per component.
    h = np.zeros((6, 6))
    for a, b in [(0, 1), (1, 2), (3, 4), (4, 5)]:
        h[a, b] = h[b, a] = 0.4
    g = jnp.array([0.0, 0.3, 0.2, 0.0, 0.0, 0.5])
    n = jnp.array([0.0, 1.0, 2.0, 0.0, 0.0, 0.5])
    sc = 0.1 * jnp.ones(6)
    net = jaxqep.GaussianNetwork(h, g, n, sc)
    assert net.bath_sites == (1, 5)
    assert jaxqep.GaussianNetwork(h, g.at[5].set(0.0), n, sc).bath_sites is None
    assert jaxqep.GaussianNetwork(h, g, n).bath_sites is None  # no probes: not needed
    ref = float(jaxqep.entropy_production(net, solvers.DirectLyapunov()).total)
    # The representative's rate set to 0 after construction: the full test runs and
    # passes (site 2 still damps the first chain) ...
    moved = eqx.tree_at(lambda m: m.gammas, net, g.at[1].set(0.0).at[2].set(0.5))
    ep = jaxqep.entropy_production(moved, solvers.DirectLyapunov())
    direct = jaxqep.entropy_production(
        jaxqep.GaussianNetwork(h, g.at[1].set(0.0).at[2].set(0.5), n, sc),
        solvers.DirectLyapunov())
    np.testing.assert_allclose(float(ep.total), float(direct.total), rtol=1e-12)
    assert abs(float(ep.total) - ref) > 1e-6
    # ... and fails where no bath is left on a chain with probes.
    gone = eqx.tree_at(lambda m: m.gammas, net, g.at[1].set(0.0).at[2].set(0.0))
    with pytest.raises(ValueError, match="no unique NESS"):
        jaxqep.entropy_production(gone, solvers.DirectLyapunov())
    # Traced rates: the same answers from the run-time test.
    f = jax.jit(lambda gg: jaxqep.entropy_production(
        jaxqep.GaussianNetwork(h, gg, n, sc), solvers.DirectLyapunov(), throw=False).result)
    assert f(g) == jaxqep.RESULTS.successful
    assert f(g.at[1].set(0.0).at[2].set(0.0)) == jaxqep.RESULTS.no_ness


def test_lazy_fallback_runs_its_fallback_only_where_needed():
    from jaxqep.gaussian._lyapunov import lazy_fallback

    calls = []

    def fallback(x):
        jax.debug.callback(lambda: calls.append(1))
        return 2.0 * x

    f = jax.jit(lambda good, x: lazy_fallback(good, x, lambda: fallback(x)))
    assert float(f(True, 3.0)) == 3.0
    jax.effects_barrier()
    assert calls == []
    assert float(f(False, 3.0)) == 6.0
    jax.effects_barrier()
    assert calls == [1]
    # Under vmap the fallback's values are taken only where needed.
    v = jax.jit(jax.vmap(lambda good, x: lazy_fallback(good, x, lambda: 2.0 * x)))
    np.testing.assert_array_equal(np.asarray(v(jnp.array([True, False]), jnp.array([1.0, 5.0]))),
                                  [1.0, 10.0])


def test_throw_false_no_ness_under_vmap():
    L = 4
    H = gaussian.chain_hamiltonian(L, 1.0, 0.3)
    n = jnp.ones(L)

    def f(g0):
        g = jnp.zeros(L).at[0].set(g0)
        return jaxqep.entropy_production(jaxqep.GaussianNetwork(H, g, n), throw=False).result

    res = jax.vmap(f)(jnp.array([0.5, 0.0, 0.2]))
    assert list(np.asarray(res == jaxqep.RESULTS.no_ness)) == [False, True, False]
    assert list(np.asarray(res == jaxqep.RESULTS.successful)) == [True, False, True]
    with pytest.raises(Exception, match="no unique NESS"):
        jax.vmap(lambda g0: jaxqep.entropy_production(
            jaxqep.GaussianNetwork(H, jnp.zeros(L).at[0].set(g0), n)).total)(jnp.array([0.0]))


# -- the batched structured route ----------------------------------------------------------


def _solve_jaxprs(jaxpr):
    """The ``solve`` jaxprs of every custom_linear_solve in a jaxpr (recursively)."""
    out = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "custom_linear_solve":
            out.append(eqn.params["jaxprs"].solve)
            continue  # its transpose (the adjoint solve) runs only for cotangents
        for p in eqn.params.values():
            for sub in p if isinstance(p, (tuple, list)) else [p]:
                inner = getattr(sub, "jaxpr", None)
                if inner is not None and hasattr(inner, "eqns"):
                    out += _solve_jaxprs(inner)
    return out


def _primitives(jaxpr, acc=None):
    acc = set() if acc is None else acc
    for eqn in jaxpr.eqns:
        acc.add(eqn.primitive.name)
        for p in eqn.params.values():
            for sub in p if isinstance(p, (tuple, list)) else [p]:
                inner = getattr(sub, "jaxpr", None)
                if inner is not None and hasattr(inner, "eqns"):
                    _primitives(inner, acc)
    return acc


def test_vmap_over_probe_rates_runs_the_structured_route_only():
    L = 40
    H = gaussian.chain_hamiltonian(L, 1.0, 0.2)
    g, n = gaussian.chain_baths(L, 0.1, 1.0, 2.0)
    rates = jnp.linspace(0.01, 0.2, 16)

    def total(rate):
        return jaxqep.entropy_production(jaxqep.GaussianNetwork(H, g, n, rate * jnp.ones(L))).total

    batched = jax.jit(jax.vmap(total))(rates)
    loop = [float(total(x)) for x in rates]
    closed = [float(gaussian.chain_closed_form(L, 0.2, 0.1, float(x), 1.0, 2.0)["pi_ness"])
              for x in rates]
    np.testing.assert_allclose(np.asarray(batched), loop, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(batched), closed, rtol=1e-10)
    jaxpr = jax.make_jaxpr(jax.vmap(total))(rates).jaxpr
    solves = _solve_jaxprs(jaxpr)
    assert solves
    for s in solves:  # the forward solve: no eigendecomposition, no loop, no callback
        # (jnp.diagonal brings its own platform_dependent cond; those are allowed)
        prims = _primitives(s.jaxpr)
        assert not prims & {"pure_callback", "while", "eig", "eigh"}, prims


# -- platform_dependent: both branches agree on CPU; the default exports for CUDA ----------


@pytest.mark.parametrize("with_sc", [False, True])
def test_direct_branches_agree_on_cpu(with_sc):
    r = rng(11)
    L = 7
    H = jnp.asarray(random_hermitian(r, L))
    g = jnp.asarray(r.uniform(0.1, 1.0, L))
    sc = jnp.asarray(r.uniform(0.0, 0.4, L)) if with_sc else None
    A = gaussian.stability_matrix(H, g, sc)
    B = -jnp.diag(g * jnp.asarray(r.uniform(0, 2, L))).astype(A.dtype)
    Xc, okc = jax.jit(_lyapunov.DIRECT_BRANCHES["cpu"])(A, sc, B)
    Xd, okd = jax.jit(_lyapunov.DIRECT_BRANCHES["default"])(A, sc, B)
    assert bool(okc) and bool(okd)
    np.testing.assert_allclose(np.asarray(Xd), np.asarray(Xc), atol=1e-12)
    # and at the exceptional point (eig is rejected there and the sign branch used)
    A = gaussian.stability_matrix(PT_H.astype(complex), PT_G)
    B = -jnp.diag(PT_G * PT_N).astype(complex)
    Xc, _ = _lyapunov.DIRECT_BRANCHES["cpu"](A, None, B)
    Xd, _ = _lyapunov.DIRECT_BRANCHES["default"](A, None, B)
    np.testing.assert_allclose(np.asarray(Xc), np.asarray(Xd), atol=1e-13)


_EXPORT_SCRIPT = textwrap.dedent(
    """
    import json, jax, jax.numpy as jnp, jaxqep
    from jaxqep import gaussian
    out = {}
    L = 6
    H = gaussian.chain_hamiltonian(L, 1.0, 0.3)
    g, n = gaussian.chain_baths(L, 0.5, 1.0, 2.0)
    Hl = gaussian.lattice_hamiltonian(7, 7, 1.0, 0.5)
    gl = jnp.zeros(49).at[0].set(0.1).at[-1].set(0.1)
    cases = {
        "gaussian.entropy_production": (lambda g, n: gaussian.entropy_production(H, g, n).total,
                                        (g, n)),
        "gaussian.entropy_production sc (traced H)": (
            lambda H, s: gaussian.entropy_production(H, g, n, s).total, (H, 0.1 * jnp.ones(L))),
        "entropy_production chain (Tridiagonal)": (
            lambda s: jaxqep.entropy_production(jaxqep.GaussianNetwork(H, g, n, s)).total,
            (0.1 * jnp.ones(L),)),
        "entropy_production lattice (KroneckerSchur)": (
            lambda s: jaxqep.entropy_production(jaxqep.GaussianNetwork(Hl, gl, gl, s)).total,
            (0.05 * jnp.ones(49),)),
        "entropy_production network (EighSchur)": (
            lambda s: jaxqep.entropy_production(jaxqep.GaussianNetwork(
                Hl + 0.01 * jnp.cos(jnp.arange(49.0))[:, None] * jnp.cos(jnp.arange(49.0)),
                gl, gl, s)).total,
            (0.05 * jnp.ones(49),)),
        "steady_state": (
            lambda g: jaxqep.steady_state(jaxqep.GaussianNetwork(H, g, n)).covariance, (g,)),
        "ness_covariance": (lambda g: gaussian.ness_covariance(H, g, n), (g,)),
        "linalg.solve_lyapunov": (jaxqep.linalg.solve_lyapunov,
                                  (-jnp.eye(3) + 0.1j, jnp.eye(3) + 0j)),
        "linalg.solve_sylvester": (jaxqep.linalg.solve_sylvester,
                                   (-jnp.eye(3), -2 * jnp.eye(2), jnp.ones((3, 2)))),
        "grad gaussian.entropy_production": (
            jax.grad(lambda g: gaussian.entropy_production(H, g, n).total), (g,)),
    }
    for name, (f, args) in cases.items():
        try:
            exp = jax.export.export(jax.jit(f), platforms=["cuda"])(*args)
            txt = exp.mlir_module()
            out[name] = "ok" if "callback" not in txt else "callback in module"
        except Exception as e:
            out[name] = f"{type(e).__name__}: {str(e)[:300]}"
    print(json.dumps(out))
    """
)


def test_default_gaussian_entry_points_export_for_cuda():
    env = dict(os.environ, EQX_ON_ERROR="nan", JAX_PLATFORMS="cpu")
    p = subprocess.run([sys.executable, "-c", _EXPORT_SCRIPT], capture_output=True, text=True,
                       env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out and all(v == "ok" for v in out.values()), out


# -- self-consistent reservoirs on any network ----------------------------------------------


@pytest.mark.parametrize("seed,L", [(0, 9), (1, 23), (2, 40)])
def test_random_networks_self_consistent_vs_dense(seed, L):
    r = rng(100 + seed)
    H = random_hermitian(r, L) * 0.5
    g = r.uniform(0.05, 1.0, L) * (r.uniform(size=L) < 0.4)
    g[r.integers(L)] = 0.6
    n = r.uniform(0.0, 3.0, L)
    sc = r.uniform(0.01, 0.5, L) * (r.uniform(size=L) < 0.6)
    C_ref, total_ref = _dense_total(H, g, n, sc)
    net = jaxqep.GaussianNetwork(H, g, n, sc)
    for solver in (None, solvers.EighKrylov(), solvers.Eig(), solvers.SignIteration()):
        ep = jaxqep.entropy_production(net, solver)
        np.testing.assert_allclose(np.asarray(ep.covariance), C_ref,
                                   atol=1e-10 * np.abs(C_ref).max())
        np.testing.assert_allclose(float(ep.total), total_ref, rtol=1e-9)
        assert float(ep.residual) < 1e-11


def _lattice_problem(n_side, hop=0.5, gam=0.1, Gam=0.05):
    L = n_side * n_side
    H = gaussian.lattice_hamiltonian(n_side, n_side, 1.0, hop)
    g = np.zeros(L)
    g[0] = g[-1] = gam
    occ = np.zeros(L)
    occ[0], occ[-1] = 1.0, 2.0
    return H, g, occ, np.full(L, Gam)


def buttiker_loop(H, g, n, Gamma, tol=1e-12, maxiter=5000):
    """The eig-reusing NumPy loop (CONVENTIONS.md): ñ ← diag of the Lyapunov NESS."""
    H = np.asarray(H)
    L = H.shape[0]
    A = 1j * H.T - np.diag(g + Gamma) / 2
    lam, V = np.linalg.eig(A)
    W = np.linalg.inv(V)
    K = 1.0 / (lam[:, None] + lam.conj()[None, :])
    nt = np.full(L, np.mean(n[g > 0]))
    for _ in range(maxiter):
        Q = -np.diag(g * n + Gamma * nt)
        C = V @ ((W @ Q @ W.conj().T) * K) @ V.conj().T
        new = np.real(np.diag(C))
        if np.max(np.abs(new - nt)) <= tol * np.max(np.abs(new)):
            return C
        nt = new
    raise AssertionError("loop did not converge")


def test_lattice_12x12_vs_converged_buttiker_loop():
    H, g, n, sc = _lattice_problem(12)
    net = jaxqep.GaussianNetwork(H, g, n, sc)
    assert isinstance(net.default_solver(), solvers.EighSchur)
    ep = jaxqep.entropy_production(net)
    C_loop = buttiker_loop(H, g, n, sc)
    np.testing.assert_allclose(np.asarray(ep.covariance), C_loop, atol=1e-9 * np.abs(C_loop).max())
    assert float(ep.residual) < 1e-11 and int(ep.iterations) > 0
    np.testing.assert_allclose(float(ep.total), float(ep.pi_ness), rtol=1e-8)


@pytest.mark.parametrize("solver", [solvers.EighKrylov(fallback=False), solvers.DirectLyapunov()])
def test_gradients_vs_finite_differences(solver):
    r = rng(5)
    L = 6
    H0 = random_hermitian(r, L) * 0.5
    dH = random_hermitian(r, L)
    g0 = r.uniform(0.2, 0.6, L)
    n0 = r.uniform(0.0, 2.0, L)
    s0 = r.uniform(0.05, 0.2, L)

    def f(x):
        net = jaxqep.GaussianNetwork(H0 + x[0] * dH, g0 * x[1], n0 * x[2], s0 * x[3])
        return jaxqep.entropy_production(net, solver).total

    check_grad_vs_fd(f, jnp.array([0.1, 1.0, 1.0, 1.0]), rng(0), n_dirs=3, rtol=1e-6)
