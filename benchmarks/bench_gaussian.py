"""Benchmarks of jaxqep.gaussian (prints a table; targets are reported, not asserted).

    python benchmarks/bench_gaussian.py            # full sizes (slow on 2 cores)
    python benchmarks/bench_gaussian.py --quick    # small sizes

Rows:
 1. plain Lyapunov NESS (random network, all sites damped) vs SciPy
    solve_continuous_lyapunov (target: no slower than SciPy);
 2. self-consistent chain vs the Büttiker fixed-point loop over SciPy Lyapunov solves
    (target: >= 10x faster);
 3. time vs L with a fitted exponent (target <= 3.2);
 4. L = 1000 with self-consistent reservoirs, all observables (target < 1 s).
Times are the best of a few runs after compilation; the machine load is printed.
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

import jaxqep  # noqa: F401
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--method", default="auto", choices=["auto", "eig", "sign"])
    args = ap.parse_args()
    q = args.quick
    m = args.method
    load = os.getloadavg()[0]
    print(f"backend={jax.default_backend()} method={m} cpus={os.cpu_count()} load={load:.1f}")
    rows = _Rows()

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
