"""Sweep throughput and memory (figures printed, not asserted).

    python benchmarks/bench_sweep.py [--points 2048] [--chunks 64,256,1024]

1. Points per second of ``jaxqep.sweep.sweep`` (chunked, in memory, failure checks and
   xarray assembly included) against a single ``jit(vmap(f))`` over the whole grid, both
   after compilation, on the three-qubit reset chain (seed 004, Sec. 8). The chunking
   overhead is ``1 - rate(sweep) / rate(one vmap)``.
2. Peak resident memory of a sweep against its chunk size (one fresh subprocess each).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CHILD = """
import json, sys, time
import numpy as np
import jaxqep, jaxqep.sweep as sw
n, chunk = int(sys.argv[1]), int(sys.argv[2])
m = sw.get_model("three_qubit_chain")
fixed = {k: v for k, v in m.example_parameters().items() if k not in ("g", "lam")}
import functools
grid = sw.Grid.cartesian(g=np.geomspace(0.01, 0.5, n // 4), lam=[0.2, 0.4, 0.6, 0.8])
import os, threading
page = os.sysconf("SC_PAGE_SIZE") / 2**20
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page
peak, stop = [0.0], threading.Event()
def sample():  # the sweep's own peak (ru_maxrss would also count the import peak)
    while not stop.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)
rss0 = rss()
threading.Thread(target=sample, daemon=True).start()
t = time.perf_counter()
sw.sweep(functools.partial(m.fn, **fixed), grid, chunk_size=chunk, quantities=["total", "parts"])
stop.set()
print(json.dumps({"chunk": chunk, "seconds": time.perf_counter() - t,
                  "peak_rss_mb": peak[0], "rss_before_mb": rss0}))
"""


def throughput(n_points: int, chunk: int, repeats: int = 3) -> dict:
    import functools

    import jax
    import numpy as np

    import jaxqep  # noqa: F401  (XLA flags before the backend starts)
    import jaxqep.sweep as sw

    m = sw.get_model("three_qubit_chain")
    fixed = {k: v for k, v in m.example_parameters().items() if k not in ("g", "lam")}
    fn = functools.partial(m.fn, **fixed)
    grid = sw.Grid.cartesian(g=np.geomspace(0.01, 0.5, n_points // 4), lam=[0.2, 0.4, 0.6, 0.8])
    pts = grid.points(0, grid.size)

    whole = jax.jit(jax.vmap(lambda g, lam: fn(g=g, lam=lam).total))
    jax.block_until_ready(whole(pts["g"], pts["lam"]))  # compile
    t_vmap = min(_timed(lambda: np.asarray(whole(pts["g"], pts["lam"]))) for _ in range(repeats))

    run = lambda: sw.sweep(fn, grid, chunk_size=chunk, quantities=["total"], progress=False)
    run()  # compile
    t_sweep = min(_timed(run) for _ in range(repeats))
    return {
        "points": grid.size,
        "chunk": chunk,
        "one_vmap_pts_per_s": grid.size / t_vmap,
        "sweep_pts_per_s": grid.size / t_sweep,
        "overhead": 1 - t_vmap / t_sweep,
    }


def _timed(f) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=2048)
    ap.add_argument("--chunk", type=int, default=256, help="chunk size of the throughput run")
    ap.add_argument("--chunks", default="32,128,512,2048", help="chunk sizes for memory")
    args = ap.parse_args()

    r = throughput(args.points, args.chunk)
    print(f"three-qubit chain, {r['points']} points, chunk {r['chunk']}:")
    print(f"  one vmap over the grid : {r['one_vmap_pts_per_s']:9.0f} points/s")
    print(f"  chunked sweep          : {r['sweep_pts_per_s']:9.0f} points/s")
    print(f"  chunking overhead      : {100 * r['overhead']:8.1f} %")

    print(f"peak memory vs chunk size ({args.points} points, fresh process each):")
    for chunk in [int(c) for c in args.chunks.split(",")]:
        out = subprocess.run([sys.executable, "-c", CHILD, str(args.points), str(chunk)],
                             capture_output=True, text=True, timeout=900)
        if out.returncode:
            print(f"  chunk {chunk}: failed: {out.stderr.strip().splitlines()[-1]}")
            continue
        m = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  chunk {chunk:5d}: peak RSS during the sweep {m['peak_rss_mb']:6.0f} MB "
              f"(+{m['peak_rss_mb'] - m['rss_before_mb']:.0f} MB over the "
              f"{m['rss_before_mb']:.0f} MB before it), {m['seconds']:.1f} s incl. compile")


if __name__ == "__main__":
    main()
