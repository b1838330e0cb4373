"""Three-qubit chain: both σ parts over a batch of (g, λ) points, jaxqep vs QuTiP 5.

Run:  python benchmarks/bench_qrm.py [--points 10000] [--qutip-points 200]

QuTiP does what a user would write: dissipators built once as superoperators, then per
point the Liouvillians of L_g, L^A, L^B, three `steadystate` calls and the matrix
logarithms of the three states (SciPy via `Qobj.logm`). jaxqep evaluates the whole batch
in one jitted `vmap`. Printed: points/s of both and their ratio, compile time, the
compiled program's memory footprint, and the cost of a reverse-mode gradient relative
to the forward pass.
"""

from __future__ import annotations

import argparse
import resource
import time

import jax
import jax.numpy as jnp
import numpy as np

import jaxqep
from jaxqep import models, qrm

P = dict(eA=0.08, eB=0.1, eC=0.05, U=0.1, J_alpha=0.05, J_beta=0.1)
GA, GB, TA, TB = 0.7, 0.6, 0.95, 0.6
DIMS = (2, 2, 2)


def _best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_jaxqep(n_points: int):
    h = models.three_qubit_chain(**P)
    ta, tb = models.diagonal_reset_state(TA), models.diagonal_reset_state(TB)
    r = np.random.default_rng(0)
    gs = jnp.asarray(r.uniform(0.05, 1.0, n_points))
    lams = jnp.asarray(r.uniform(0.1, 0.9, n_points))

    def parts(g, lam):
        return qrm.tripartite_entropy_production(h, ta, tb, GA, GB, DIMS, g, lam).parts

    fwd = jax.jit(jax.vmap(parts))
    t0 = time.perf_counter()
    compiled = fwd.lower(gs, lams).compile()
    compile_s = time.perf_counter() - t0
    mem = compiled.memory_analysis()
    run_s = _best(lambda: compiled(gs, lams))

    loss = jax.jit(jax.grad(lambda g, lam: jnp.sum(jax.vmap(parts)(g, lam)), argnums=(0, 1)))
    t0 = time.perf_counter()
    gcomp = loss.lower(gs, lams).compile()
    gcompile_s = time.perf_counter() - t0
    grad_s = _best(lambda: gcomp(gs, lams))
    out = np.asarray(compiled(gs, lams))
    return dict(
        run_s=run_s,
        compile_s=compile_s,
        grad_s=grad_s,
        grad_compile_s=gcompile_s,
        temp_bytes=getattr(mem, "temp_size_in_bytes", float("nan")),
        arg_bytes=getattr(mem, "argument_size_in_bytes", float("nan")),
        out_bytes=getattr(mem, "output_size_in_bytes", float("nan")),
        sample=(float(gs[0]), float(lams[0]), out[0]),
    )


def bench_qutip(n_points: int, sample):
    import qutip

    h = np.asarray(models.three_qubit_chain(**P))
    ta, tb = np.diag([TA, 1 - TA]), np.diag([TB, 1 - TB])
    dims = [[2, 2, 2], [2, 2, 2]]
    hq = qutip.Qobj(h, dims=dims)

    def reset_cops(tau, gamma, site):
        ops = []
        for i in range(2):
            for k in range(2):
                m = np.sqrt(gamma * tau[i, i]) * np.outer(np.eye(2)[i], np.eye(2)[k])
                f = [np.eye(2)] * 3
                f[site] = m
                ops.append(qutip.Qobj(np.kron(np.kron(f[0], f[1]), f[2]), dims=dims))
        return ops

    da = sum(qutip.lindblad_dissipator(c) for c in reset_cops(ta, GA, 0))
    db = sum(qutip.lindblad_dissipator(c) for c in reset_cops(tb, GB, 2))
    comm = -1j * (qutip.spre(hq) - qutip.spost(hq))

    def eig_log(q):
        w, v = np.linalg.eigh(q.full())
        return (v * np.log(w)) @ v.conj().T

    def point(g, lam, tuned):
        kw = {"method": "svd"} if tuned else {}
        la_l, lb_l = g * lam * comm + da, g * (1 - lam) * comm + db
        rho = qutip.steadystate(g * comm + da + db, **kw)
        rho_a = qutip.steadystate(la_l, **kw)
        rho_b = qutip.steadystate(lb_l, **kw)
        if tuned:
            lr, la, lb = eig_log(rho), eig_log(rho_a), eig_log(rho_b)
        else:
            lr, la, lb = rho.logm().full(), rho_a.logm().full(), rho_b.logm().full()
        act_a = qutip.vector_to_operator(la_l * qutip.operator_to_vector(rho)).full()
        act_b = qutip.vector_to_operator(lb_l * qutip.operator_to_vector(rho)).full()
        return np.array([np.trace(act_a @ (la - lr)).real, np.trace(act_b @ (lb - lr)).real])

    g0, lam0, ref = sample
    r = np.random.default_rng(1)
    gs = r.uniform(0.05, 1.0, n_points)
    lams = r.uniform(0.1, 0.9, n_points)
    out = {}
    for tuned in (False, True):
        check = point(g0, lam0, tuned)
        t0 = time.perf_counter()
        for g, lam in zip(gs, lams):
            point(g, lam, tuned)
        out["tuned" if tuned else "default"] = dict(
            run_s=time.perf_counter() - t0,
            max_rel_diff=float(np.max(np.abs(check - ref) / np.abs(ref))),
        )
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--qutip-points", type=int, default=200)
    args = ap.parse_args(argv)
    print(f"jaxqep {jaxqep.__version__}, jax {jax.__version__}, devices {jax.devices()}")
    j = bench_jaxqep(args.points)
    q = bench_qutip(args.qutip_points, j["sample"])
    jax_pps = args.points / j["run_s"]
    print(f"\nThree-qubit chain, σ_A and σ_B, float64, batch of {args.points} (g, λ) points")
    print(f"{'':44s}{'points/s':>12s}{'jaxqep speed-up':>18s}")
    labels = {
        "default": "QuTiP 5 defaults (steadystate, Qobj.logm)",
        "tuned": "QuTiP 5 tuned (method='svd', eigh log)",
    }
    for key, label in labels.items():
        pps = args.qutip_points / q[key]["run_s"]
        print(f"{label:44s}{pps:12.1f}{jax_pps / pps:17.0f}x")
    print(f"{'jaxqep jit(vmap), method=auto (reduced)':44s}{jax_pps:12.1f}")
    print("(target: >= 1000x QuTiP)")
    diff = max(v["max_rel_diff"] for v in q.values())
    print(f"agreement with QuTiP at a sample point: max rel. diff {diff:.2e}")
    print(
        f"compile time (forward): {j['compile_s']:.2f} s; (gradient): {j['grad_compile_s']:.2f} s"
    )
    print(
        "compiled memory of the batch: temp {:.1f} MiB, args {:.2f} MiB, outputs {:.2f} MiB".format(
            j["temp_bytes"] / 2**20, j["arg_bytes"] / 2**20, j["out_bytes"] / 2**20
        )
    )
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(
        f"reverse-mode gradient (d/dg, d/dλ of Σσ) / forward: {j['grad_s'] / j['run_s']:.2f}x "
        f"({j['grad_s']:.3f} s vs {j['run_s']:.3f} s; target <= 3x)"
    )


if __name__ == "__main__":
    main()
