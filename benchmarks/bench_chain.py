"""Steady state + entropy production of N-qubit reset chains: jaxqep (matrix-free) vs QuTiP 5.

Model: ``jaxqep.models.reset_chain(N)`` (seed 004, Sec. 8 extended), ``g = 1``, ``λ = 0.3``.
The task timed on both sides is the full entropy production: the three steady states
``ρ⁺_g``, ``ρ^A``, ``ρ^B`` and ``σ = σ_A + σ_B`` (three matrix logarithms). QuTiP gets the
same Lindbladians, the resets written in GKLS form with jump operators
``√(γ p_i) |i><k| ⊗ 1`` (``τ = diag(p)``), and is run with its default direct (sparse LU)
method and with ``iterative-gmres`` (ILU preconditioner on, ``rtol=1e-12``, restart
100). σ on the QuTiP side is evaluated with NumPy ``eigh``. Each measurement runs in a
fresh subprocess so that peak memory (max RSS) belongs to one method.

The jaxqep worker closes over a concrete ``H``, so the solver reads its sparsity, its
conserved quantity and the Krylov support at trace time
(``jaxqep.qrm._matrix_free._structure``); ``--worker jax N traced`` passes ``H`` as a jit
argument instead (dense products, the path of the validated public entry points).
``--repeat R`` times ``R`` steady runs of the compiled function and reports the fastest
as ``time`` (all of them in ``times``): on a loaded machine single runs vary by 2-5x.

Usage::

    python benchmarks/bench_chain.py            # N = 6, 7, 8 side by side, N = 10 jaxqep
    python benchmarks/bench_chain.py --quick    # N = 6, 7 only
    python benchmarks/bench_chain.py --worker jax 10 [traced]   # one measurement, JSON
    python benchmarks/bench_chain.py --repeat 5 --worker jax 8  # fastest of 5 steady runs
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

G, LAM = 1.0, 0.3


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux


def worker_jax(n: int, traced: bool = False, repeat: int = 1) -> dict:
    import jax
    import jax.numpy as jnp

    import jaxqep
    from jaxqep import internal

    m = jaxqep.models.reset_chain(n)
    h0, ta, tb, ga, gb, dims = m.tripartite_args()

    def run(h, g, lam):
        opts = internal.matrix_free_options({})
        st = internal.tripartite_states(h, ta, tb, ga, gb, dims, g, lam, opts, True)
        return st, internal.entropy_production_from_states(st, h, ta, tb, ga, gb, dims, g, lam)

    # Concrete H (closed over): structure read at trace time; traced H: dense products.
    call = jax.jit(run) if traced else jax.jit(lambda g, lam: run(h0, g, lam))
    args = (h0,) if traced else ()
    t0 = time.perf_counter()
    jax.block_until_ready(call(*args, jnp.asarray(G), jnp.asarray(LAM)))
    t_first = time.perf_counter() - t0
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        st, ep = jax.block_until_ready(call(*args, jnp.asarray(G), jnp.asarray(LAM)))
        times.append(time.perf_counter() - t0)
    return {
        "time": min(times),
        "times": times,
        "compile_and_first": t_first,
        "sigma": float(ep.total),
        "residual": float(ep.residual),
        "iterations": [int(x) for x in st.iterations],
        "rss_gb": _rss_gb(),
        "rho_diag": [float(x) for x in jnp.real(jnp.diagonal(ep.rho))[:8]],
    }


def _qutip_model(n: int, method: str):
    import numpy as np
    import qutip

    import jaxqep

    m = jaxqep.models.reset_chain(n)
    h = np.asarray(m.H)
    d = h.shape[0]

    def jumps(tau, gamma, left):
        ops = []
        for i in range(2):
            for k in range(2):
                e = np.zeros((2, 2))
                e[i, k] = np.sqrt(gamma * tau[i, i])
                full = np.kron(e, np.eye(d // 2)) if left else np.kron(np.eye(d // 2), e)
                ops.append(qutip.Qobj(full).to("CSR"))
        return ops

    ja = jumps(np.asarray(m.tau_A), float(m.gamma_A), True)
    jb = jumps(np.asarray(m.tau_B), float(m.gamma_B), False)
    hq = qutip.Qobj(h).to("CSR")  # sparse data layer: QuTiP's fast path
    systems = [(G * hq, ja + jb), (G * LAM * hq, ja), (G * (1 - LAM) * hq, jb)]
    return systems, h


def worker_qutip(n: int, method: str) -> dict:
    import numpy as np
    import qutip

    systems, h = _qutip_model(n, method)
    kwargs = (
        {}
        if method == "direct"
        else {"use_precond": True, "rtol": 1e-12, "restart": 100, "maxiter": 2000}
    )
    t0 = time.perf_counter()
    states = [qutip.steadystate(hq, c, method=method, **kwargs).full() for hq, c in systems]
    t_states = time.perf_counter() - t0

    def logm(r):
        w, u = np.linalg.eigh(0.5 * (r + r.conj().T))
        return (u * np.log(w)) @ u.conj().T

    rho, ra, rb = states
    liou = [qutip.liouvillian(hq, c) for hq, c in systems]
    vec = lambda x: qutip.operator_to_vector(qutip.Qobj(x))  # noqa: E731
    act = [qutip.vector_to_operator(liou[k] * vec(rho)).full() for k in (1, 2)]
    lr = logm(rho)
    sigma = sum(float(np.real(np.trace(a @ (logm(r) - lr)))) for a, r in zip(act, (ra, rb)))
    t_total = time.perf_counter() - t0
    residual = float(np.linalg.norm((liou[0] * vec(rho)).full()))
    return {
        "time": t_total,
        "time_states": t_states,
        "sigma": sigma,
        "residual": residual,
        "rss_gb": _rss_gb(),
        "rho_diag": [float(x) for x in np.real(np.diagonal(rho))[:8]],
    }


def _spawn(args: list[str], timeout: float, repeat: int = 1) -> dict:
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--repeat", str(repeat), "--worker", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1][:120]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="N = 6, 7 only")
    p.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=float, default=900.0)
    p.add_argument("--repeat", type=int, default=1, help="steady jaxqep runs (fastest kept)")
    a = p.parse_args()
    if a.worker:
        kind, n = a.worker[0], int(a.worker[1])
        if kind == "jax":
            res = worker_jax(n, traced=a.worker[2:] == ["traced"], repeat=a.repeat)
        else:
            res = worker_qutip(n, a.worker[2])
        print(json.dumps(res))
        return

    sizes = [6, 7] if a.quick else [6, 7, 8]
    rows = []
    for n in sizes:
        jx = _spawn(["jax", str(n)], a.timeout, a.repeat)
        qd = _spawn(["qutip", str(n), "direct"], a.timeout)
        qg = _spawn(["qutip", str(n), "iterative-gmres"], a.timeout)
        rows.append((n, jx, qd, qg))
    big = None if a.quick else _spawn(["jax", "10"], a.timeout, a.repeat)

    def fmt(r, key, f="{:.3g}"):
        return "-" if "error" in r else f.format(r[key])

    print(f"reset chain, g = {G}, lambda = {LAM}: steady states (rho, rho^A, rho^B) + sigma")
    hdr = (
        f"{'N':>3} {'d':>5} | {'jaxqep s':>9} {'(1st+jit)':>9} {'iters':>14} {'resid':>8} "
        f"{'RSS GB':>6} | {'qutip direct s':>14} {'RSS GB':>6} | {'qutip gmres s':>13} "
        f"{'resid':>8} | {'|Δσ|/σ':>8}"
    )
    print(hdr)
    print("-" * len(hdr))
    for n, jx, qd, qg in rows:
        dsig = "-"
        if "error" not in jx and "error" not in qd:
            dsig = f"{abs(jx['sigma'] - qd['sigma']) / abs(qd['sigma']):.1e}"
        its = "-" if "error" in jx else "/".join(str(i) for i in jx["iterations"])
        print(
            f"{n:>3} {2**n:>5} | {fmt(jx, 'time'):>9} {fmt(jx, 'compile_and_first'):>9} "
            f"{its:>14} {fmt(jx, 'residual', '{:.1e}'):>8} {fmt(jx, 'rss_gb', '{:.2f}'):>6} | "
            f"{fmt(qd, 'time'):>14} {fmt(qd, 'rss_gb', '{:.2f}'):>6} | {fmt(qg, 'time'):>13} "
            f"{fmt(qg, 'residual', '{:.1e}'):>8} | {dsig:>8}"
        )
        for name, r in (("jaxqep", jx), ("qutip direct", qd), ("qutip gmres", qg)):
            if "error" in r:
                print(f"      {name}: {r['error']}")
    if big is not None:
        if "error" in big:
            print(f" 10  1024 | jaxqep: {big['error']}")
        else:
            its = "/".join(str(i) for i in big["iterations"])
            print(
                f" 10  1024 | {big['time']:>9.3g} {big['compile_and_first']:>9.3g} {its:>14} "
                f"{big['residual']:>8.1e} {big['rss_gb']:>6.2f} | QuTiP not run at N = 10"
            )
            print(f"N = 10: sigma = {big['sigma']:.10g}, peak RSS {big['rss_gb']:.2f} GB")
    print("times: steady run of a compiled function (jaxqep) / one call (QuTiP), seconds;")
    print("iters: GMRES iterations for rho / rho^A / rho^B; resid: ‖L(ρ)‖_F of ρ⁺_g.")


if __name__ == "__main__":
    main()
