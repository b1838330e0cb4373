"""Thermal machines: two-qubit XX pair with local baths over 10,000 (temperature,
coupling) points, jaxqep vs QuTiP 5, side by side; and the matrix-free XXZ chain rows.

Run:  python benchmarks/bench_thermal.py [--points 10000] [--qutip-points 40]
                                         [--chain 10 12] [--skip-chain] [--chain-only]
                                         [--full-space]

Per point: steady state, heat currents J_b, Clausius σ = −Σ β_b J_b, and the mean and
zero-frequency noise of the heat current exchanged with bath 0 (jumps σ⁻₁, σ⁺₁ counted
with weights −ω₁, +ω₁). jaxqep: one jitted ``vmap`` of ``thermal.current_statistics``
(one LU per point serves ρ and both cumulants) plus ``heat_currents_at``. QuTiP: what a
user writes per point -- build H and the collapse operators, ``steadystate``, the heat
currents from the dissipators, ``countstat_current_noise`` with the weighted current
superoperators -- timed on ``--qutip-points`` points and extrapolated to the batch; the
two are compared on those points (agreement printed).

Chain rows (``--chain-only`` runs only these; each in a subprocess, for its own peak
memory): N-site XXZ chain with boundary baths, ``GKLSKrylov``; one jitted
``value_and_grad`` gives ρ, J, σ and dσ/dJ (J the exchange coupling). The solve runs on
the magnetisation sectors (``C(2N, N)`` unknowns; ``--full-space`` for the ``4^N`` route).
The first call includes tracing and compilation; both calls are timed by wall clock and
``time.process_time`` (CPU seconds of the process: on a shared machine the wall time also
measures the other jobs; the load average is printed). Peak memory is the subprocess's
maximum resident set size. Under ``jit`` the chain's values are traced and the sectors are
read from the builder's static patterns; the worker passes the jump pattern read from the
(J-independent) concrete jumps, whose pattern names the lowering/raising direction.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np

import jaxqep
from jaxqep import thermal

W1, W2, GAMMAS, BETA_H = 1.0, 1.2, (0.05, 0.05), 0.3
WEIGHTS = np.array([-W1, W1, 0.0, 0.0])


def points(n: int):
    r = np.random.default_rng(0)
    return r.uniform(0.5, 3.0, n), r.uniform(0.01, 0.5, n)  # (β_cold, g)


def point_jax(beta_c, g):
    m = thermal.xx_pair(W1, W2, g, GAMMAS, (BETA_H, beta_c))
    st = thermal.current_statistics(m, jnp.asarray(WEIGHTS), order=2)
    j = thermal.heat_currents_at(m, st.rho)
    sigma = -jnp.sum(m.betas * j)
    return st.rho, j, sigma, st.cumulants


def point_qutip(qt, beta_c, g):
    sm = qt.destroy(2)
    eye = qt.qeye(2)
    s1, s2 = qt.tensor(sm, eye), qt.tensor(eye, sm)
    h = W1 * s1.dag() * s1 + W2 * s2.dag() * s2 + 2 * g * (s1.dag() * s2 + s2.dag() * s1)
    c_ops, labels = [], []
    for b, (s, w, beta) in enumerate(((s1, W1, BETA_H), (s2, W2, beta_c))):
        n = 1 / np.expm1(beta * w)
        c_ops += [np.sqrt(GAMMAS[b] * (n + 1)) * s, np.sqrt(GAMMAS[b] * n) * s.dag()]
        labels += [b, b]
    rho = qt.steadystate(h, c_ops)
    j = np.zeros(2)
    for c, b in zip(c_ops, labels):
        d_rho = c * rho * c.dag() - 0.5 * (c.dag() * c * rho + rho * c.dag() * c)
        j[b] += (h * d_rho).tr().real
    sigma = -(BETA_H * j[0] + beta_c * j[1])
    lq = qt.liouvillian(h, c_ops)
    jk = [qt.sprepost(c, c.dag()) for c in c_ops]
    i_op = sum(w * x for w, x in zip(WEIGHTS, jk) if w != 0)
    j_op = sum(w**2 * x for w, x in zip(WEIGHTS, jk) if w != 0)
    mean, noise, _ = qt.countstat_current_noise(lq, [], rhoss=rho, I_ops=[i_op], J_ops=[j_op])
    return rho.full(), j, sigma, np.array([mean[0], noise[0, 0, 0]])


def bench_pair(n_points: int, n_qutip: int):
    betas, gs = points(n_points)
    fwd = jax.jit(jax.vmap(point_jax))
    bj, gj = jnp.asarray(betas), jnp.asarray(gs)
    t0 = time.perf_counter()
    compiled = fwd.lower(bj, gj).compile()
    compile_s = time.perf_counter() - t0
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        out = jax.block_until_ready(compiled(bj, gj))
        runs.append(time.perf_counter() - t0)
    run_s = min(runs)
    mem = compiled.memory_analysis()

    import qutip as qt

    idx = np.linspace(0, n_points - 1, n_qutip).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        point_qutip(qt, betas[0], gs[0])  # warm-up
        t0 = time.perf_counter()
        ref = [point_qutip(qt, betas[i], gs[i]) for i in idx]
        qt_s = (time.perf_counter() - t0) / n_qutip * n_points
    err = dict(
        rho=max(np.abs(np.asarray(out[0][i]) - r[0]).max() for i, r in zip(idx, ref)),
        J=max(np.abs(np.asarray(out[1][i]) - r[1]).max() for i, r in zip(idx, ref)),
        sigma=max(abs(float(out[2][i]) - r[2]) for i, r in zip(idx, ref)),
        c1_c2_rel=max(
            np.abs((np.asarray(out[3][i]) - r[3]) / r[3]).max() for i, r in zip(idx, ref)
        ),
    )
    print(f"XX pair, local baths, {n_points} points (steady state + J_b + σ + c1, c2), float64")
    print(
        f"  jaxqep : {run_s:8.3f} s  ({n_points / run_s:10.0f} points/s), compile "
        f"{compile_s:.1f} s, temp memory {getattr(mem, 'temp_size_in_bytes', 0) / 1e6:.1f} MB"
    )
    print(
        f"  QuTiP 5: {qt_s:8.1f} s  ({n_points / qt_s:10.1f} points/s; {n_qutip} points "
        f"timed, extrapolated)"
    )
    print(f"  speed-up: {qt_s / run_s:.0f}x")
    print(
        "  max deviation on the QuTiP points: " + ", ".join(f"{k} {v:.1e}" for k, v in err.items())
    )


CHAIN_WORKER = """
import os, sys, time, resource, jax, numpy as np, jaxqep
from jaxqep import thermal
n, restart, sectors = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
solver = jaxqep.solvers.GKLSKrylov(restart=restart, sectors=sectors)
c0, w0 = time.process_time(), time.perf_counter()
def sigma(J):  # under jit the builder's static patterns give the magnetisation sectors
    m = thermal.xxz_chain(n, J, 0.5, 1.0, (0.2, 0.2), (0.5, 1.0))
    ep = jaxqep.entropy_production(m, solver)
    return ep.total, (ep.heat_currents, ep.stats.residual, ep.stats.iterations)
f = jax.jit(jax.value_and_grad(sigma, has_aux=True))
c1, w1 = time.process_time(), time.perf_counter()
(s, (j, res, its)), g = f(1.0); jax.block_until_ready(g)
c2, w2 = time.process_time(), time.perf_counter()
(s, (j, res, its)), g = f(1.0); jax.block_until_ready(g)
c3, w3 = time.process_time(), time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
print(f"  N={n:2d} d={2**n:5d} {'sectors' if sectors else 'full   '}: first call {w2 - w1:6.1f} s "
      f"wall / {c2 - c1:6.1f} s CPU (with compilation; setup {w1 - w0:.1f} s wall), second "
      f"{w3 - w2:6.1f} s wall / {c3 - c2:6.1f} s CPU; GMRES its {int(its)} (forward), residual "
      f"{float(res):.1e}, sigma {float(s):.9e}, J_0 {float(j[0]):.9e}, dsigma/dJ "
      f"{float(g):.9e}, peak RSS {rss:.2f} GB, load {os.getloadavg()[0]:.1f}", flush=True)
"""


def bench_chain(sizes, sectors=True):
    print("XXZ chain with boundary baths, GKLSKrylov, value_and_grad of σ w.r.t. J")
    for n in sizes:
        p = subprocess.run(
            [sys.executable, "-c", CHAIN_WORKER, str(n), "40", "1" if sectors else "0"],
            capture_output=True,
            text=True,
            timeout=3000,
        )
        print(p.stdout.strip() or f"  N={n}: failed\n{p.stderr[-2000:]}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=10000)
    ap.add_argument("--qutip-points", type=int, default=40)
    ap.add_argument("--chain", type=int, nargs="*", default=[10, 12])
    ap.add_argument("--skip-chain", action="store_true")
    ap.add_argument("--chain-only", action="store_true")
    ap.add_argument("--full-space", action="store_true")
    a = ap.parse_args()
    print(f"jax {jax.__version__}, jaxqep {jaxqep.__version__}, devices {jax.devices()}")
    if not a.chain_only:
        bench_pair(a.points, a.qutip_points)
    if not a.skip_chain:
        bench_chain(a.chain, sectors=not a.full_space)
    print(
        f"peak RSS of the main process: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB"
    )


if __name__ == "__main__":
    main()
