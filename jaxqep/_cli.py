"""The ``jaxqep`` command: ``reproduce`` the papers' figures, run TOML ``sweep``s, list ``models``.

Errors a user can fix (bad config, mismatched or corrupted checkpoint) end with a one-line
``jaxqep: error: ...`` on stderr and exit status 2 (usage/config) or 1 (run-time).
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
    s.add_argument("--no-progress", action="store_true", help="hide the progress bar")
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
        >>> from jaxqep._cli import main   # doctest: +SKIP
        >>> main(["sweep", "examples/sweep_three_qubit.toml", "--out", "/tmp/sw"])
        0
    """
    args = _parser().parse_args(argv)
    try:
        if args.command == "models":
            return _models()
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
    try:
        cfg = load_config(args.config)
        if args.out:
            cfg.out_dir = Path(args.out)
        if args.chunk_size is not None:
            if args.chunk_size < 1:
                raise ConfigError(f"--chunk-size: must be >= 1, got {args.chunk_size}")
            cfg.chunk_size = args.chunk_size
    except ConfigError as e:
        return _error(f"{args.config}: {e}", 2)
    t0 = time.perf_counter()
    try:
        ds = run_config(
            cfg,
            progress=False if args.no_progress else None,
            on_corrupt="recompute" if args.recompute_corrupt else "raise",
            overwrite=args.overwrite,
        )
    except (CheckpointError, TimeoutError) as e:
        return _error(str(e), 1)
    except ValueError as e:  # e.g. quantities unknown to the model, raised before any compute
        return _error(f"{args.config}: {e}", 2)
    n, nf = ds.attrs["n_points"], ds.attrs["n_failed"]
    print(f"{n} points, {nf} failed, {time.perf_counter() - t0:.1f} s -> {cfg.out_dir}")
    if nf:
        reasons = {}
        for r in ds["reason"].values.reshape(-1):
            if r:
                reasons[str(r)] = reasons.get(str(r), 0) + 1
        for r, c in sorted(reasons.items(), key=lambda x: -x[1])[:5]:
            print(f"  {c} x {r}")
    return 1 if nf == n else 0


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

    for seed, sub, module, func, known in jobs:
        t0 = time.perf_counter()
        print(f"[seed {seed}] {func}(quick={args.quick}) -> {out / sub}", flush=True)
        report = getattr(importlib.import_module(module), func)(str(out / sub), quick=args.quick)
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
    print(
        f"{summary['n_checks'] - n_fail}/{summary['n_checks']} checks passed; "
        f"summary in {out / 'summary.md'}"
    )
    return 0 if n_fail == 0 else 1


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
