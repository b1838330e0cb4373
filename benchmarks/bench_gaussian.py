"""Benchmarks of jaxqep.gaussian (prints a table; targets are reported, not asserted).

    python benchmarks/bench_gaussian.py            # full sizes (slow on 2 cores)
    python benchmarks/bench_gaussian.py --quick    # small sizes

    python benchmarks/bench_gaussian.py --rows lattice,lyapunov,batched   # issue-14 rows

Rows (issue 14):
 L. square lattices with Büttiker probes on every site (ω = 1, hopping 0.5, γ = 0.1 on
    two corners, n = 1, 2, Γ = 0.05; and 16×16 at Fig. 3 rates γ = 1e-6, Γ = 1e-7,
    hopping 3e-7), jaxqep (Auto -> KroneckerSchur, all observables, jitted; and the
    dense-basis EighSchur every other network gets) vs the
    eig-reusing NumPy Büttiker loop (one eig of A, four matmuls per sweep, to 1e-10),
    side by side, alternating, wall and process time; time exponent in L (target:
    >= 10x faster at every size);
 Y. jaxqep.linalg.solve_lyapunov vs scipy.linalg.solve_continuous_lyapunov (target >= 1x);
 B. a vmap over 16 probe rates of one chain (static Tridiagonal route) vs a loop.
Rows (earlier):
 1. plain Lyapunov NESS (random network, all sites damped) vs SciPy
    solve_continuous_lyapunov (target: no slower than SciPy);
 2. self-consistent chain vs the Büttiker fixed-point loop over SciPy Lyapunov solves
    (target: >= 10x faster);
 3. time vs L with a fitted exponent (target <= 3.2);
 4. L = 1000 with self-consistent reservoirs, all observables (target < 1 s).
Times are the best of a few runs after compilation; the machine load is printed. The
process keeps freed memory for reuse (``jaxqep.keep_freed_memory()``, shared by both
sides; ``--default-allocator`` to measure without it).
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

import jaxqep
from jaxqep import gaussian


class _Rows(list):
    """Prints each row as soon as it is measured (full runs take minutes per row)."""

    def append(self, row):
        print(" | ".join(map(str, row)), flush=True)
        super().append(row)


def best(f, repeat=2):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        jax.block_until_ready(f())
        ts.append(time.perf_counter() - t)
    return min(ts)


def random_problem(L, seed=0):
    r = np.random.default_rng(seed)
    a = r.normal(size=(L, L)) + 1j * r.normal(size=(L, L))
    H = (a + a.conj().T) / (2 * np.sqrt(L))
    return H, r.uniform(0.2, 1.0, L), r.uniform(0.0, 2.0, L)


def scipy_plain(H, g, n):
    A = 1j * H.T - np.diag(g) / 2
    return scipy.linalg.solve_continuous_lyapunov(A, -np.diag(g * n))


def buttiker_loop(H, g, n, Gamma, tol=1e-10, maxiter=100000):
    """The usual fixed-point loop: update ñ_k = C_kk, re-solve the Lyapunov equation.

    Returns ``(C, sweeps, deltas)`` with ``deltas[i] = max|ñ_{i+1} - ñ_i|``.
    """
    L = H.shape[0]
    A = 1j * H.T - np.diag(g + Gamma) / 2
    nt = np.full(L, np.mean(n[g > 0]))
    deltas = []
    for it in range(maxiter):
        C = scipy.linalg.solve_continuous_lyapunov(A, -np.diag(g * n + Gamma * nt))
        new = np.real(np.diag(C))
        deltas.append(float(np.max(np.abs(new - nt))))
        if deltas[-1] <= tol * np.max(np.abs(new)):
            return C, it + 1, deltas
        nt = new
    return C, maxiter, deltas


def extrapolated_sweeps(deltas, tol=1e-10, scale=1.0) -> float:
    """Sweeps a linearly converging loop needs for ``delta <= tol * scale``, from its
    observed contraction factor over the last sweeps."""
    d = np.asarray(deltas)
    k = min(len(d) - 1, 5)
    rho = (d[-1] / d[-1 - k]) ** (1.0 / k)
    if not rho < 1:
        return float("inf")
    return len(d) + np.log(tol * scale / d[-1]) / np.log(rho)


def lattice_problem(side, hop=0.5, gam=0.1, Gam=0.05):
    L = side * side
    H = np.asarray(gaussian.lattice_hamiltonian(side, side, 1.0, hop))
    g = np.zeros(L)
    g[0] = g[-1] = gam
    n = np.zeros(L)
    n[0], n[-1] = 1.0, 2.0
    return H, g, n, np.full(L, Gam)


def eig_buttiker_loop(H, g, n, Gamma, tol=1e-10, maxiter=100000):
    """The loop a careful NumPy user writes: one eig of the fixed drift A, then sweeps of
    four matrix products each (ñ ← diag C), to max|Δñ| <= tol max|ñ|."""
    L = H.shape[0]
    A = 1j * H.T - np.diag(g + Gamma) / 2
    lam, V = np.linalg.eig(A)
    W = np.linalg.inv(V)
    Wh, Vh = W.conj().T, V.conj().T
    K = 1.0 / (lam[:, None] + lam.conj()[None, :])
    nt = np.full(L, np.mean(n[g > 0]))
    for it in range(maxiter):
        C = V @ ((W @ np.diag(-(g * n + Gamma * nt)) @ Wh) * K) @ Vh
        new = np.real(np.diag(C))
        if np.max(np.abs(new - nt)) <= tol * np.max(np.abs(new)):
            return C, it + 1
        nt = new
    return C, maxiter


def solver_name(H, g, n, G):
    return type(jaxqep.GaussianNetwork(H, g, n, G).default_solver()).__name__


def _timed(f):
    """``(wall, process_time)`` of one call (``process_time`` counts every thread).

    Preceded by a 0.2 s pause: in the alternating rows the other side's thread pool
    (OpenBLAS, XLA) keeps spinning for a while after its call and would be billed to
    this one (measured: 0.028 s alone, 0.043 s right after the NumPy loop at 16 × 16).
    """
    time.sleep(0.2)
    t, p = time.perf_counter(), time.process_time()
    out = jax.block_until_ready(f())
    return time.perf_counter() - t, time.process_time() - p, out


def rows_lattice(rows, quick):
    sides = [8, 16] if quick else [8, 16, 32]
    cases = [(s, 0.5, 0.1, 0.05) for s in sides] + [(16, 3e-7, 1e-6, 1e-7)]
    times = {}
    for side, hop, gam, Gam in cases:
        H, g, n, G = lattice_problem(side, hop, gam, Gam)

        def run(G, H=H, g=g, n=n):
            net = jaxqep.GaussianNetwork(H, g, n, G)
            return jaxqep.entropy_production(net)

        f = jax.jit(run)
        out = f(jnp.asarray(G))
        jax.block_until_ready(out)
        # Side by side, alternating (the machine is shared): best of `repeat` of each (7
        # below 32 × 32: run to run, either side varies by up to 40 % on the 2-core machine).
        tj, tl = [], []
        for _ in range(1 if side >= 32 else 7):
            tj.append(_timed(lambda f=f, G=G: f(jnp.asarray(G)))[:2])
            w, p, (C_loop, sweeps) = _timed(
                lambda H=H, g=g, n=n, G=G: eig_buttiker_loop(H, g, n, G))
            tl.append((w, p))
        (t_j, p_j), (t_l, p_l) = min(tj), min(tl)
        err = np.max(np.abs(np.asarray(out.covariance) - C_loop)) / np.max(np.abs(C_loop))
        # The dense-basis route on the same lattice (what any non-lattice network gets).
        fe = jax.jit(lambda G, H=H, g=g, n=n: jaxqep.entropy_production(
            jaxqep.GaussianNetwork(H, g, n, G), jaxqep.solvers.EighSchur()))
        out_e = fe(jnp.asarray(G))
        jax.block_until_ready(out_e)
        t_e = min(_timed(lambda fe=fe, G=G: fe(jnp.asarray(G)))[0]
                  for _ in range(1 if side >= 32 else 3))
        if hop == 0.5:
            times[side * side] = t_j
        rows.append((
            f"lattice {side}x{side} hop={hop:g} γ={gam:g} Γ={Gam:g}",
            f"jaxqep {t_j:.3f}s wall/{p_j:.3f}s cpu ({solver_name(H, g, n, G)},"
            f" {int(out.iterations)} GMRES steps, residual {float(out.residual):.1e})",
            f"loop {t_l:.3f}s wall/{p_l:.3f}s cpu ({sweeps} sweeps),"
            f" max|ΔC|/max|C| {err:.1e}",
            f"speed-up {t_l / t_j:.1f}x wall, {p_l / p_j:.1f}x cpu; dense-basis EighSchur"
            f" {t_e:.3f}s ({int(out_e.iterations)} steps, {t_l / t_e:.1f}x)",
            "MET" if t_l / t_j >= 10 else "MISSED",
        ))
    Ls = sorted(times)
    expo = np.polyfit(np.log(Ls), np.log([times[k] for k in Ls]), 1)[0]
    rows.append(("lattice time vs L=" + ",".join(map(str, Ls)),
                 " ".join(f"{times[k]:.3f}s" for k in Ls), f"exponent in L {expo:.2f}", "", ""))


def rows_lyapunov(rows, quick):
    for n in ([250, 500] if quick else [250, 500, 1000, 2000]):
        r = np.random.default_rng(n)
        a = r.normal(size=(n, n)) / np.sqrt(n) + 1j * r.normal(size=(n, n)) / np.sqrt(n)
        A = a - 1.5 * np.eye(n)
        Q = -np.eye(n) + 0j
        f = jax.jit(jaxqep.linalg.solve_lyapunov)
        Aj, Qj = jnp.asarray(A), jnp.asarray(Q)
        X = f(Aj, Qj).block_until_ready()
        tj, ts = [], []
        for _ in range(4 if n <= 500 else 1):  # alternating, best of each
            tj.append(_timed(lambda f=f, Aj=Aj, Qj=Qj: f(Aj, Qj))[:2])
            w, p, ref = _timed(lambda A=A, Q=Q: scipy.linalg.solve_continuous_lyapunov(A, Q))
            ts.append((w, p))
        (t_j, p_j), (t_s, p_s) = min(tj), min(ts)
        err = np.max(np.abs(np.asarray(X) - ref)) / np.max(np.abs(ref))
        rows.append((f"solve_lyapunov n={n} (complex)", f"jaxqep {t_j:.3f}s wall/{p_j:.3f}s cpu",
                     f"scipy {t_s:.3f}s wall/{p_s:.3f}s cpu",
                     f"ratio {t_s / t_j:.2f}x wall, {p_s / p_j:.2f}x cpu (rel err {err:.1e})",
                     "MET" if t_s >= t_j else "MISSED"))


def rows_batched(rows, quick):
    L = 200 if quick else 500
    H = gaussian.chain_hamiltonian(L, 1.0, 3e-7)
    g, n = gaussian.chain_baths(L, 1e-6, 1.0, 2.0)
    rates = jnp.linspace(1e-8, 1e-6, 16)

    def total(rate):
        net = jaxqep.GaussianNetwork(H, g, n, rate * jnp.ones(L))
        return jaxqep.entropy_production(net).total

    fb = jax.jit(jax.vmap(total))
    fb(rates).block_until_ready()
    t_b = best(lambda: fb(rates))
    f1 = jax.jit(total)
    f1(rates[0]).block_until_ready()
    t_l = best(lambda: [f1(x).block_until_ready() for x in rates])
    cf = [float(gaussian.chain_closed_form(L, 3e-7, 1e-6, float(x), 1.0, 2.0)["pi_ness"])
          for x in rates]
    err = np.max(np.abs(np.asarray(fb(rates)) / np.asarray(cf) - 1))
    rows.append((f"vmap over 16 probe rates, chain L={L} (Tridiagonal)", f"batched {t_b:.3f}s",
                 f"loop of jitted calls {t_l:.3f}s", f"max rel err vs (31) {err:.1e}", ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--method", default="auto", choices=["auto", "eig", "sign"])
    ap.add_argument("--rows", default="all",
                    help="comma-separated: lattice, lyapunov, batched, legacy (default all)")
    ap.add_argument("--default-allocator", action="store_true",
                    help="do not call jaxqep.keep_freed_memory() (both sides share it)")
    args = ap.parse_args()
    q = args.quick
    m = args.method
    # Both sides run in this process and share the C allocator: keeping freed memory
    # spares every call (jaxqep's and NumPy's) page faults on fresh buffers.
    kept = False if args.default_allocator else jaxqep.keep_freed_memory()
    load = os.getloadavg()[0]
    print(f"backend={jax.default_backend()} method={m} cpus={os.cpu_count()} load={load:.1f}"
          f" freed-memory-kept={kept}")
    rows = _Rows()
    which = set(args.rows.split(",")) if args.rows != "all" else {
        "lattice", "lyapunov", "batched", "legacy"}
    if "lattice" in which:
        rows_lattice(rows, q)
    if "lyapunov" in which:
        rows_lyapunov(rows, q)
    if "batched" in which:
        rows_batched(rows, q)
    if "legacy" not in which:
        return

    ep = jax.jit(gaussian.entropy_production, static_argnames="method")
    ness = jax.jit(gaussian.ness_covariance, static_argnames="method")

    # 1. plain Lyapunov
    L1 = 200 if q else 1000
    H, g, n = random_problem(L1)
    Hj, gj, nj = map(jnp.asarray, (H, g, n))
    ness(Hj, gj, nj, method=m).block_until_ready()
    t_j = best(lambda: ness(Hj, gj, nj, method=m))
    t_s = best(lambda: scipy_plain(H, g, n), repeat=1)
    err = np.max(np.abs(np.asarray(ness(Hj, gj, nj, method=m)) - scipy_plain(H, g, n)))
    rows.append(
        (
            f"plain NESS L={L1}",
            f"jaxqep {t_j:.3f}s",
            f"scipy {t_s:.3f}s",
            f"ratio {t_s / t_j:.2f}x (max|ΔC|={err:.1e})",
            "MET" if t_j <= t_s else "MISSED",
        )
    )

    # 2. self-consistent chain vs Büttiker loop
    L2 = 100 if q else 500
    lam, gam, Gam = 1.0, 1.0, 0.5  # moderate rates: the loop contracts at a measurable rate
    Hc = np.asarray(gaussian.chain_hamiltonian(L2, 1.0, lam))
    gc, nc = map(np.asarray, gaussian.chain_baths(L2, gam, 1.0, 2.0))
    Gv = np.full(L2, Gam)
    args2 = tuple(map(jnp.asarray, (Hc, gc, nc, Gv)))
    cf = gaussian.chain_closed_form(L2, lam, gam, Gam, 1.0, 2.0)
    t2 = {}
    for mm in (m, "eig") if m == "auto" else (m,):
        ness(*args2, method=mm).block_until_ready()
        t2[mm] = best(lambda mm=mm: ness(*args2, method=mm), repeat=1 if mm != "auto" else 3)
        err = np.max(
            np.abs(
                np.real(np.diag(np.asarray(ness(*args2, method=mm))))
                - np.asarray(cf["occupations"])
            )
        )
        t2[mm + "_err"] = err
    sweeps = 30 if q else 12
    t0 = time.perf_counter()
    Cb, iters, deltas = buttiker_loop(Hc, gc, nc, Gv, maxiter=sweeps)
    t_b = time.perf_counter() - t0
    n_need = extrapolated_sweeps(deltas, scale=2.0)
    t_need = n_need * t_b / iters
    for mm in [k for k in t2 if not k.endswith("_err")]:
        label = "structured" if mm == "auto" else f"general ({mm})"
        rows.append(
            (
                f"sc chain L={L2}, jaxqep {label}",
                f"{t2[mm]:.3f}s (max|Δn| vs 29a {t2[mm + '_err']:.1e})",
                f"Büttiker {t_b / iters:.2f}s/sweep; contraction needs ~{n_need:.3g} sweeps to "
                f"1e-10 = ~{t_need:.3g}s (stopped after {iters}: {t_b:.1f}s)",
                f"speed-up ~{t_need / t2[mm]:.3g}x (>= {t_b / t2[mm]:.1f}x vs the stopped loop)",
                "MET" if t_need / t2[mm] >= 10 else "MISSED",
            )
        )

    # 3. scaling
    Ls = [100, 200, 400] if q else [250, 500, 1000, 2000, 4000]
    ts = []
    for L in Ls:
        H, g, n = random_problem(L, seed=L)
        a = tuple(map(jnp.asarray, (H, g, n)))
        ness(*a, method=m).block_until_ready()
        ts.append(best(lambda a=a: ness(*a, method=m), repeat=1))
    expo = np.polyfit(np.log(Ls), np.log(ts), 1)[0]
    rows.append(
        (
            "time vs L " + ",".join(map(str, Ls)),
            " ".join(f"{t:.2f}s" for t in ts),
            f"exponent {expo:.2f}",
            "",
            "MET" if expo <= 3.2 else "MISSED",
        )
    )

    # 4. L = 1000 with self-consistent reservoirs, all observables
    L4 = 200 if q else 1000
    Hc = gaussian.chain_hamiltonian(L4, 1.0, 3e-7)
    gc, nc = gaussian.chain_baths(L4, 1e-6, 1.0, 2.0)
    Gv = 1e-7 * jnp.ones(L4)
    ep(Hc, gc, nc, Gv, method=m).total.block_until_ready()
    t4 = best(lambda: ep(Hc, gc, nc, Gv, method=m).total, repeat=1)
    r = ep(Hc, gc, nc, Gv, method=m)
    cf = gaussian.chain_closed_form(L4, 3e-7, 1e-6, 1e-7, 1.0, 2.0)
    rel = abs(float(r.total) - float(cf["pi_ness"])) / float(cf["pi_ness"])
    rows.append(
        (
            f"sc chain L={L4} (Fig. 3 rates), all observables, method={m}",
            f"{t4:.2f}s",
            f"Π rel err vs (31) {rel:.1e}",
            "",
            "MET" if t4 < 1.0 else "MISSED",
        )
    )

    print("\nsummary")
    w = [max(len(str(r[i])) for r in rows) for i in range(5)]
    for r in rows:
        print(" | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)))


if __name__ == "__main__":
    main()
