"""The ``jaxqep`` command: ``reproduce`` the papers' figures, run TOML ``sweep``s, list
``models``, and print ``info`` for bug reports.

Errors a user can fix (bad config, mismatched or corrupted store) end with a one-line
``jaxqep: error: ...`` on stderr and exit status 2 (usage/config) or 1 (run-time); their
advice names this command's flags (``--overwrite``, ``--recompute-corrupt``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jaxqep",
        description="Steady states and entropy production of open quantum systems (JAX).",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    r = sub.add_parser(
        "reproduce",
        help="recompute the headline figures of both seed papers (data, PNGs, summary)",
        description="Recompute seed 004 (quantum reset models) Figs. 1, 3, 4, 5 and seed 000 "
        "(Gaussian chains) Figs. 2, 3 into DIR: data files, PNG plots, and summary.md / "
        "summary.json listing every check against the papers with pass/fail.",
    )
    r.add_argument(
        "--out",
        default="reproduce_out",
        metavar="DIR",
        help="output directory (default: %(default)s)",
    )
    r.add_argument(
        "--quick", action="store_true", help="coarser grids and smaller chains (a quick smoke run)"
    )
    r.add_argument("--only", choices=["qrm", "gaussian"], help="reproduce one seed only")
    rbar = r.add_mutually_exclusive_group()
    rbar.add_argument("--progress", dest="progress", action="store_true", default=None,
                      help="show progress bars even when stderr is not a terminal")
    rbar.add_argument("--no-progress", dest="progress", action="store_false",
                      help="no progress bars (one line per finished figure instead)")

    s = sub.add_parser(
        "sweep",
        help="run a parameter sweep described in a TOML file",
        description="Run the sweep of CONFIG (see examples/sweep_three_qubit.toml and "
        "`jaxqep models`). Results are checkpointed chunk by chunk into the output "
        "directory; rerunning an interrupted sweep resumes it. summary.json is written "
        "last, only when every point is done.",
    )
    s.add_argument("config", metavar="CONFIG.toml", help="sweep description")
    s.add_argument("--out", metavar="DIR", help="override [output] dir")
    s.add_argument("--chunk-size", type=int, metavar="N", help="override [output] chunk_size")
    bar = s.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="show the progress bar even when stderr is not a terminal")
    bar.add_argument("--no-progress", dest="progress", action="store_false",
                     help="hide the progress bar")
    s.add_argument(
        "--overwrite",
        action="store_true",
        help="discard an existing checkpoint in the output directory",
    )
    s.add_argument(
        "--recompute-corrupt",
        action="store_true",
        help="recompute corrupted chunk files instead of stopping",
    )
    s.add_argument(
        "--coordinator",
        metavar="HOST:PORT",
        help="jax.distributed coordinator (multi-process sweep)",
    )
    s.add_argument("--num-processes", type=int, metavar="N", help="processes in the job")
    s.add_argument("--process-id", type=int, metavar="I", help="rank of this process")

    i = sub.add_parser(
        "info",
        help="versions, devices, precision and XLA flags in force (paste into bug reports)",
        description="Print the versions of jaxqep and its dependencies, the JAX devices, "
        "the floating-point precision and the XLA flags in force.",
    )
    i.add_argument("--json", action="store_true", help="machine-readable output")

    sub.add_parser(
        "models",
        help="list the models a sweep can use, with their parameters",
        description="List the models a TOML sweep can name and their parameters "
        "(with the values of the papers' figures).",
    )
    return p


def _error(msg: str, code: int) -> int:
    print(f"jaxqep: error: {msg}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``jaxqep`` console script.

    Args:
        argv: arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        The exit status (0 success, 1 run-time failure, 2 usage or configuration error).

    Example:
        >>> from jaxqep._cli import main
        >>> main(["models"])  # doctest: +ELLIPSIS
        single_qubit: Single qubit with three resets ...
        0
    """
    args = _parser().parse_args(argv)
    try:
        if args.command == "models":
            return _models()
        if args.command == "info":
            return _info(args)
        if args.command == "sweep":
            return _sweep(args, argv)
        return _reproduce(args)
    except KeyboardInterrupt:
        return _error("interrupted (finished chunks are saved; rerun to resume)", 130)


def _models() -> int:
    from jaxqep.sweep import MODELS

    for m in MODELS.values():
        print(f"{m.name}: {m.doc}")
        for k, p in m.params.items():
            print(f"    {k:<10} {p.kind:<6} {p.doc} (paper: {p.example:g})")
    return 0


_DIST_BOOT = """
import sys
import jax
jax.distributed.initialize(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                           initialization_timeout=120)
from jaxqep._cli import main
sys.exit(main(sys.argv[4:]))
"""


def _sweep(args, argv_of_process=None) -> int:
    from jaxqep.sweep import CheckpointError, ConfigError, load_config, run_config

    dist = (args.coordinator, args.num_processes, args.process_id)
    if any(x is not None for x in dist) and not all(x is not None for x in dist):
        return _error("--coordinator, --num-processes and --process-id go together", 2)
    if args.coordinator and os.environ.get("_JAXQEP_DIST_BOOTED") != "1":
        if not 0 <= args.process_id < args.num_processes:
            return _error(f"--process-id: must be in [0, {args.num_processes})", 2)
        # jax.distributed must start before the XLA backend, which importing jaxqep has
        # already created: restart Python, joining the job before jaxqep is imported.
        env = dict(os.environ, _JAXQEP_DIST_BOOTED="1")
        argv = sys.argv[1:] if argv_of_process is None else argv_of_process
        boot = [
            sys.executable,
            "-c",
            _DIST_BOOT,
            args.coordinator,
            str(args.num_processes),
            str(args.process_id),
            *argv,
        ]
        return subprocess.run(boot, env=env).returncode
    if args.chunk_size is not None and args.chunk_size < 1:
        return _error(f"--chunk-size: must be >= 1, got {args.chunk_size}", 2)
    try:
        cfg = load_config(args.config)  # its messages start with the file name
        if args.out:
            cfg.out_dir = Path(args.out)
        if args.chunk_size is not None:
            cfg.chunk_size = args.chunk_size
    except ConfigError as e:
        return _error(str(e), 2)
    t0 = time.perf_counter()
    try:
        ds = run_config(
            cfg,
            progress=args.progress,
            on_corrupt="recompute" if args.recompute_corrupt else "raise",
            overwrite=args.overwrite,
        )
    except CheckpointError as e:
        return _error(_cli_advice(str(e)), 1)
    except TimeoutError as e:
        return _error(str(e), 1)
    except ValueError as e:  # e.g. quantities unknown to the model, raised before any compute
        return _error(f"{args.config}: {e}", 2)
    n, nf = ds.attrs["n_points"], ds.attrs["n_failed"]
    seconds = time.perf_counter() - t0
    print(f"{n} points, {nf} failed, {seconds:.1f} s -> {cfg.out_dir}")
    _sweep_table(ds, cfg)
    if nf:
        reasons = {}
        for r in ds["reason"].values.reshape(-1):
            if r:
                reasons[str(r)] = reasons.get(str(r), 0) + 1
        print("failures:")
        for r, c in sorted(reasons.items(), key=lambda x: -x[1])[:5]:
            print(f"  {c} x {r}")
    return 1 if nf == n else 0


_ADVICE = {
    "pass overwrite=True": "rerun with --overwrite",
    "pass on_corrupt='recompute'": "rerun with --recompute-corrupt",
    "pass allow_incomplete=True": "rerun the sweep to finish it",
}


def _cli_advice(message: str) -> str:
    """Replace the Python-API advice of an error message by this command's flags."""
    for api, flag in _ADVICE.items():
        message = message.replace(api, flag)
    return message


def _sweep_table(ds, cfg) -> None:
    """A short table: where the results are, and the range of each scalar quantity."""
    import numpy as np

    grid = " x ".join(f"{k}[{v.size}]" for k, v in cfg.grid.axes.items())
    rows = [("model", cfg.model.name), ("grid", f"{cfg.grid.mode}: {grid}"),
            ("store", f"{cfg.out_dir} (zarr; xarray.open_zarr or jaxqep.sweep.open_results)"),
            ("files", "results.csv, results.npz" + (", results.png" if cfg.plot else "")
             + ", summary.json")]
    for q in ds.data_vars:
        if q in ("failed", "reason"):
            continue
        vals = np.real(ds[q].values)
        ok = vals[np.isfinite(vals)]
        if ok.size == 0:
            rows.append((q, "no finite value"))
            continue
        dims = [d for d in ds[q].dims if d not in cfg.grid.names and d != "point"]
        shape = f" over {', '.join(dims)}" if dims else ""
        rows.append((q, f"min {ok.min():.6g}, max {ok.max():.6g}{shape}"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")


def _info(args) -> int:
    import platform
    from importlib import metadata

    import jax

    import jaxqep

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    deps = ["jax", "jaxlib", "equinox", "lineax", "optax", "diffrax", "numpy", "xarray",
            "zarr", "tqdm", "scipy", "qutip", "matplotlib"]
    devices = jax.devices()
    flags = os.environ.get("XLA_FLAGS", "")
    body = {
        "jaxqep": getattr(jaxqep, "__version__", "unknown"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {d: version(d) for d in deps},
        "backend": jax.default_backend(),
        "devices": [str(d) for d in devices],
        "cpu_count": os.cpu_count(),
        "x64": bool(jax.config.read("jax_enable_x64")),
        "JAXQEP_ENABLE_X64": os.environ.get("JAXQEP_ENABLE_X64", "(unset)"),
        "XLA_FLAGS": flags,
        "deadlock_workaround": "--xla_cpu_enable_concurrency_optimized_scheduler=false" in flags,
    }
    if args.json:
        print(json.dumps(body, indent=1))
        return 0
    print(f"jaxqep {body['jaxqep']} on Python {body['python']} ({body['platform']})")
    for d, v in body["versions"].items():
        print(f"  {d:<11} {v}")
    print(f"backend     {body['backend']}: {len(devices)} device(s): {', '.join(body['devices'])}")
    print(f"cpu cores   {body['cpu_count']}")
    prec = "float64/complex128 (x64 on)" if body["x64"] else "float32 (x64 off)"
    print(f"precision   {prec}; JAXQEP_ENABLE_X64={body['JAXQEP_ENABLE_X64']}")
    print(f"XLA_FLAGS   {flags or '(none)'}")
    workaround = "applied" if body["deadlock_workaround"] else "NOT applied"
    print(f"XLA CPU deadlock workaround (concurrency-optimised scheduler off): {workaround}")
    return 0


# -- reproduce ----------------------------------------------------------------------------


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _reproduce(args) -> int:
    import matplotlib

    from .reproduce._checks import (
        GAUSSIAN_CHECKS as _GAUSSIAN_CHECKS,
        QRM_CHECKS as _QRM_CHECKS,
        evaluate_checks,
    )

    matplotlib.use("Agg")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("summary.md", "summary.json"):  # only a finished run leaves a summary
        (out / stale).unlink(missing_ok=True)
    rows, timings = [], {}
    jobs = []
    if args.only in (None, "qrm"):
        jobs.append(("004", "qrm", "jaxqep.reproduce._seed004", "reproduce_qrm", _QRM_CHECKS))
    if args.only in (None, "gaussian"):
        jobs.append(
            ("000", "gaussian", "jaxqep.reproduce._seed000", "reproduce_gaussian", _GAUSSIAN_CHECKS)
        )
    import importlib

    show = sys.stderr.isatty() if getattr(args, "progress", None) is None else args.progress
    figure_times: dict[str, float] = {}
    for seed, sub, module, func, known in jobs:
        t0 = time.perf_counter()
        print(f"[seed {seed}] {func}(quick={args.quick}) -> {out / sub}", flush=True)
        mod = importlib.import_module(module)
        with _figure_progress(mod, seed, show, figure_times):
            report = getattr(mod, func)(str(out / sub), quick=args.quick)
        timings[seed] = time.perf_counter() - t0
        rows += evaluate_checks(seed, report, known)
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    n_fail = sum(r["status"] in ("FAIL", "MISSING") for r in rows)
    summary = {
        "complete": True,
        "quick": args.quick,
        "passed": n_fail == 0,
        "n_checks": sum(r["status"] != "info" for r in rows),
        "n_failed": n_fail,
        "seconds": timings,
        "checks": rows,
        "files": files + ["summary.md", "summary.json"],
    }
    _write_markdown(out / "summary.md", summary)
    tmp = out / ".summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=1, default=str))
    os.replace(tmp, out / "summary.json")
    _reproduce_table(rows, timings)
    print(
        f"{summary['n_checks'] - n_fail}/{summary['n_checks']} checks passed; "
        f"summary in {out / 'summary.md'}"
    )
    return 0 if n_fail == 0 else 1


class _figure_progress:
    """One progress bar per seed, advancing figure by figure (the module's ``fig*``
    functions are wrapped while it runs), with tqdm's ETA; or, when bars are off, one
    line per finished figure (readable in batch logs)."""

    def __init__(self, mod, seed: str, show: bool, times: dict):
        import re

        self.mod, self.seed, self.show, self.times = mod, seed, show, times
        self.names = [n for n in vars(mod) if re.match(r"^_?fig\d\w*$", n)
                      and callable(getattr(mod, n))]
        self.saved: dict = {}
        self.bar = None

    def __enter__(self):
        from tqdm.auto import tqdm

        if self.show and self.names:
            self.bar = tqdm(total=len(self.names), unit="fig", desc=f"seed {self.seed}",
                            file=sys.stderr)
        for n in self.names:
            self.saved[n] = fn = getattr(self.mod, n)
            setattr(self.mod, n, self._wrap(n, fn))
        return self

    def _wrap(self, name, fn):
        import functools

        label = name.lstrip("_").removesuffix("_data")

        @functools.wraps(fn)
        def run(*a, **k):
            if self.bar is not None:
                self.bar.set_postfix_str(label)
            t0 = time.perf_counter()
            result = fn(*a, **k)
            dt = time.perf_counter() - t0
            self.times[f"{self.seed} {label}"] = dt
            if self.bar is not None:
                self.bar.update(1)
            else:
                print(f"  [seed {self.seed}] {label} done in {dt:.1f} s", flush=True)
            return result

        return run

    def __exit__(self, *exc):
        for n, fn in self.saved.items():
            setattr(self.mod, n, fn)
        if self.bar is not None:
            if self.bar.n < self.bar.total:
                self.bar.total = self.bar.n
            self.bar.close()
        return False


def _reproduce_table(rows: list, timings: dict) -> None:
    """seed | figure | checks passed | failed checks, then the time per seed."""
    table: dict = {}
    for r in rows:
        if r["status"] == "info":
            continue
        t = table.setdefault((r["seed"], r["figure"]), [0, 0, []])
        t[1] += 1
        if r["status"] == "pass":
            t[0] += 1
        else:
            t[2].append(r["check"])
    if not table:
        return
    w = max(len(f) for _, f in table) + 2
    print(f"  {'figure':<{w}}{'checks':<9}failed")
    for (_, fig), (ok, n, bad) in table.items():
        print(f"  {fig:<{w}}{f'{ok}/{n}':<9}{', '.join(bad) or '-'}")
    print("  time: " + ", ".join(f"seed {k} {v:.1f} s" for k, v in timings.items()))


def _write_markdown(path: Path, s: dict) -> None:
    lines = [
        "# jaxqep reproduce: summary",
        "",
        f"{'Quick' if s['quick'] else 'Full'} run; {s['n_checks'] - s['n_failed']} of "
        f"{s['n_checks']} checks against the papers passed. Time: "
        + ", ".join(f"seed {k} {v:.0f} s" for k, v in s["seconds"].items())
        + ".",
        "",
        "| seed | figure | paper's claim | check | jaxqep | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in s["checks"]:
        if r["status"] != "info":
            lines.append(
                f"| {r['seed']} | {r['figure']} | {r['claim']} | `{r['check']}` | "
                f"{_fmt(r['value'])} | {r['status']} |"
            )
    info = [r for r in s["checks"] if r["status"] == "info"]
    if info:
        lines += [
            "",
            "Other reported numbers: "
            + "; ".join(f"`{r['check']}` = {_fmt(r['value'])}" for r in info)
            + ".",
        ]
    lines += ["", "Files: " + ", ".join(f"`{f}`" for f in s["files"]) + "."]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
