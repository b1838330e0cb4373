"""Run the benchmarks and write the benchmark page of the docs (one command).

    python benchmarks/report.py            # quick settings (a few minutes on 2 cores)
    python benchmarks/report.py --full     # the benchmarks' default sizes
    python benchmarks/report.py --render   # re-render docs/benchmarks/ from saved JSON

Each benchmark is run in a fresh process and its printed table is kept verbatim in
``docs/benchmarks/<name>.json`` (command, output, machine, load, date); this script then
parses the numbers it plots from those tables and writes ``docs/benchmarks/index.md`` and
one PNG per benchmark. (The benchmarks print tables rather than JSON; this wrapper is the
only place that parses them.)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "benchmarks"

BENCHES = {
    "bench_qrm": {
        "title": "Three-qubit chain: points per second against QuTiP",
        "quick": ["--points", "2000", "--qutip-points", "40"],
        "full": [],
        "about": "σ_A and σ_B of the three-qubit reset chain (seed 004, Sec. 8) over a batch "
                 "of (g, λ) points: one `jit(vmap)` call against a loop of QuTiP "
                 "`steadystate` + `logm` calls.",
    },
    "bench_gaussian": {
        "title": "Gaussian NESS: time against L, SciPy and the Büttiker loop",
        "quick": ["--quick"],
        "full": [],
        "about": "The NESS covariance of linear bosonic networks against SciPy's "
                 "`solve_continuous_lyapunov`, the self-consistent chain against the "
                 "Büttiker fixed-point loop a careful NumPy user writes, and the scaling "
                 "with the number of modes L.",
    },
    "bench_chain": {
        "title": "N-site reset chains against QuTiP steadystate",
        "quick": ["--quick"],
        "full": [],
        "about": "Matrix-free steady states of boundary-driven reset chains of N qubits "
                 "against QuTiP's `steadystate`.",
    },
    "bench_sweep": {
        "title": "Sweep overhead and memory",
        "quick": ["--points", "512", "--chunks", "32,128,512"],
        "full": [],
        "about": "The cost of chunking, checkpointing and labelling a sweep against one "
                 "`vmap` over the whole grid, and peak memory against the chunk size.",
    },
}


def machine() -> dict:
    out = subprocess.run([sys.executable, "-m", "jaxqep._cli", "info", "--json"],
                         capture_output=True, text=True, cwd=ROOT)
    info = json.loads(out.stdout) if out.returncode == 0 else {}
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cpu_count": os.cpu_count(), "platform": platform.platform(),
            "jaxqep": info.get("jaxqep"), "jax": info.get("versions", {}).get("jax"),
            "backend": info.get("backend"), "devices": info.get("devices")}


def run(name: str, full: bool, timeout: float) -> dict:
    spec = BENCHES[name]
    cmd = [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"),
           *(spec["full"] if full else spec["quick"])]
    load = os.getloadavg()[0]
    print("running", " ".join(cmd[1:]), flush=True)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        output, code = p.stdout, p.returncode
        if code:
            output += "\n" + p.stderr[-2000:]
    except subprocess.TimeoutExpired as e:
        output, code = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (
            e.stdout or ""), "timeout"
    return {"name": name, "command": "python " + " ".join(
        str(Path(c).relative_to(ROOT)) if c.startswith(str(ROOT)) else c for c in cmd[1:]),
        "returncode": code, "output": output, "load_before": load,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine()}


# -- parsing the printed tables -----------------------------------------------------------


def parse_qrm(text: str) -> dict | None:
    rows = re.findall(r"^(QuTiP.*?|jaxqep jit.*?)\s{2,}([\d.]+)", text, re.MULTILINE)
    return {"labels": [r[0].strip() for r in rows], "points_per_s": [float(r[1]) for r in rows]} \
        if rows else None


def parse_gaussian(text: str) -> dict | None:
    m = re.search(r"^time vs L ([\d,]+) \| ([\d.s ]+) \|", text, re.MULTILINE)
    plain = re.search(r"plain NESS L=(\d+) \| jaxqep ([\d.]+)s \| scipy ([\d.]+)s", text)
    sc = re.findall(r"sc chain L=(\d+), jaxqep (\w+).*? \| ([\d.]+)s \(max.*?Büttiker "
                    r"([\d.]+)s/sweep; contraction needs ~([\d.e+]+) sweeps", text)
    if not m:
        return None
    out = {"L": [int(x) for x in m.group(1).split(",")],
           "seconds": [float(t.rstrip("s")) for t in m.group(2).split()]}
    if plain:
        out["plain"] = {"L": int(plain.group(1)), "jaxqep": float(plain.group(2)),
                        "scipy": float(plain.group(3))}
    if sc:
        out["buttiker"] = {"L": int(sc[0][0]), "loop": float(sc[0][3]) * float(sc[0][4]),
                           "jaxqep": {label: float(t) for _, label, t, _, _ in sc}}
    return out


def parse_chain(text: str) -> dict | None:
    out: dict = {"N": [], "jaxqep": [], "qutip": []}
    for line in text.splitlines():
        cells = [c.split() for c in line.split("|")]
        if len(cells) < 3 or len(cells[0]) != 2 or not cells[0][0].isdigit():
            continue
        try:
            jx, qd = float(cells[1][0]), float(cells[2][0])
        except (ValueError, IndexError):
            continue
        out["N"].append(int(cells[0][0]))
        out["jaxqep"].append(jx)
        out["qutip"].append(qd)
    return out if out["N"] else None


def parse_sweep(text: str) -> dict | None:
    rows = re.findall(r"chunk\s+(\d+): peak RSS during the sweep\s+([\d.]+) MB", text)
    return {"chunk": [int(r[0]) for r in rows], "rss_mb": [float(r[1]) for r in rows]} \
        if rows else None


PARSERS = {"bench_qrm": parse_qrm, "bench_gaussian": parse_gaussian,
           "bench_chain": parse_chain, "bench_sweep": parse_sweep}


def plot(name: str, data: dict, path: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2 if name == "bench_gaussian" else 1, figsize=(9, 3.6),
                             squeeze=False)
    ax = axes[0, 0]
    if name == "bench_qrm":
        colors = ["tab:gray" if lab.startswith("QuTiP") else "tab:blue" for lab in data["labels"]]
        ax.barh(data["labels"], data["points_per_s"], color=colors)
        ax.set_xscale("log")
        ax.set_xlabel("points per second (log)")
    elif name == "bench_gaussian":
        ax.loglog(data["L"], data["seconds"], "o-", label="jaxqep NESS")
        c = data["seconds"][-1] / data["L"][-1] ** 3
        ax.loglog(data["L"], [c * L**3 for L in data["L"]], "k--", lw=1, label="∝ L³")
        ax.set_xlabel("L (modes)")
        ax.set_ylabel("seconds")
        ax.legend()
        bars, labels = [], []
        if "plain" in data:
            bars += [data["plain"]["jaxqep"], data["plain"]["scipy"]]
            labels += [f"jaxqep L={data['plain']['L']}", f"SciPy L={data['plain']['L']}"]
        if "buttiker" in data:
            b = data["buttiker"]
            for label, t in b["jaxqep"].items():  # a 0.000 s entry is drawn at 0.1 ms
                bars.append(max(t, 1e-4))
                labels.append(f"jaxqep sc chain L={b['L']} ({label}"
                              + (", < 0.1 ms)" if t < 1e-4 else ")"))
            bars.append(b["loop"])
            labels.append(f"Büttiker loop to 1e-10, L={b['L']}")
        colors = ["tab:gray" if lab.startswith(("SciPy", "Büttiker")) else "tab:blue"
                  for lab in labels]
        axes[0, 1].barh(labels, bars, color=colors)
        axes[0, 1].set_xscale("log")
        axes[0, 1].set_xlabel("seconds (log)")
    elif name == "bench_chain":
        ax.semilogy(data["N"], data["jaxqep"], "o-", label="jaxqep")
        ax.semilogy(data["N"], data["qutip"], "s-", c="tab:gray", label="QuTiP")
        ax.set_xlabel("N (qubits)")
        ax.set_ylabel("seconds")
        ax.legend()
    elif name == "bench_sweep":
        ax.plot(data["chunk"], data["rss_mb"], "o-")
        ax.set_xscale("log")
        ax.set_xlabel("chunk size")
        ax.set_ylabel("peak RSS (MB)")
    fig.suptitle(BENCHES[name]["title"], fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def render() -> Path:
    lines = ["# Benchmarks", "",
             "Side-by-side timings of jaxqep against the tools a physicist would otherwise use "
             "(QuTiP, SciPy, a hand-written Büttiker loop). Regenerate this page with "
             "`python benchmarks/report.py` (`--full` for the benchmarks' default sizes).",
             "Timings depend on the machine and on its load, both recorded below each table.",
             ""]
    for name, spec in BENCHES.items():
        f = OUT / f"{name}.json"
        if not f.exists():
            continue
        r = json.loads(f.read_text())
        m = r["machine"]
        lines += [f"## {spec['title']}", "", spec["about"], ""]
        data = PARSERS[name](r["output"]) if r["returncode"] == 0 else None
        if data and plot(name, data, OUT / f"{name}.png"):
            lines += [f"![{spec['title']}]({name}.png)", ""]
        lines += [f"`{r['command']}` (exit status {r['returncode']}), {r['date']}, on "
                  f"{m.get('cpu') or 'unknown CPU'} ({m.get('cpu_count')} cores, backend "
                  f"{m.get('backend')}), load average {r['load_before']:.1f} before the run; "
                  f"jaxqep {m.get('jaxqep')}, jax {m.get('jax')}.", "",
                  "```text", r["output"].rstrip(), "```", ""]
    page = OUT / "index.md"
    page.write_text("\n".join(lines) + "\n")
    return page


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="the benchmarks' default sizes")
    ap.add_argument("--render", action="store_true", help="only re-render from saved JSON")
    ap.add_argument("--only", nargs="+", choices=list(BENCHES), help="run these only")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per benchmark")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.render:
        for name in args.only or BENCHES:
            result = run(name, args.full, args.timeout)
            (OUT / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    print(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
