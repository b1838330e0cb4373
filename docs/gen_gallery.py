"""Regenerate the gallery page (docs/gallery.md + docs/gallery/*.png) from ``jaxqep reproduce``.

    python docs/gen_gallery.py            # runs `jaxqep reproduce --quick` into a temp dir
    python docs/gen_gallery.py --full     # the full grids (slower)
    python docs/gen_gallery.py --from DIR # reuse the output of an earlier `jaxqep reproduce`

The page puts every figure next to the claims of the paper it reproduces, with jaxqep's
number and pass/FAIL for each (from ``summary.json``).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
FIGURES = {
    "004": [("qrm/fig1.png", "Fig. 1: single qubit, three resets"),
            ("qrm/fig2.png", "Fig. 2: F(λ, μ) of two affine splittings (eqs. 4.24–4.25)"),
            ("qrm/fig3.png", "Fig. 3: trace distance to ρ0 + gρ1"),
            ("qrm/fig4.png", "Fig. 4: σ/g² and the O(g⁴) remainder"),
            ("qrm/fig5.png", "Fig. 5: the entropy flux φ_A")],
    "000": [("gaussian/gaussian_fig2.png", "Fig. 2: occupation profiles"),
            ("gaussian/gaussian_fig3.png", "Fig. 3: Π_r and Π_sc against L"),
            ("gaussian/gaussian_eq31.png",
             "Eqs. (30)–(31): current and Π_NESS against L, ballistic vs diffusive")],
}
PAPERS = {
    "004": "seed 004 (quantum reset models: Spohn entropy production, affine and tripartite "
           "splittings, perturbation theory in g)",
    "000": "seed 000 (Gaussian bosonic chains with self-consistent reservoirs)",
}


def _cell(text) -> str:
    """Table-cell text: a literal | (as in |λ|) must not end the cell."""
    return str(text).replace("|", "\\|")


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _fig_number(text: str) -> str | None:
    """The figure a check or a gallery title belongs to: ``Fig. N``, or the eq. (30)/(31)
    comparison of Sec. IV B (its checks name eq. (31), eqs. (30)/(31) or Sec. IV B)."""
    m = re.search(r"Fig\. (\d+)", text)
    if m:
        return m.group(1)
    if re.search(r"\(31\)|Sec\. IV B", text):
        return "eq31"
    return None


def write(src: Path) -> Path:
    summary = json.loads((src / "summary.json").read_text())
    out_dir = DOCS / "gallery"
    out_dir.mkdir(exist_ok=True)
    for old in out_dir.glob("*.png"):
        old.unlink()
    lines = [
        "# Gallery of the seed papers",
        "",
        "The headline figures of both seed papers as `jaxqep reproduce` computes them, each",
        "next to what the paper claims, with jaxqep's number and whether it passes. The",
        f"checks are those of `jaxqep.reproduce` ({summary['n_checks'] - summary['n_failed']} "
        f"of {summary['n_checks']} passed in this run,",
        f"{'a `--quick` run (coarser grids)' if summary['quick'] else 'the full grids'}).",
        "Regenerate this page with `python docs/gen_gallery.py`; reproduce the figures",
        "yourself with `bash scripts/reproduce.sh`.",
        "",
        "Seed formulas that jaxqep found misprinted are listed in",
        "[Conventions and seed corrections](conventions.md).",
        "",
    ]
    for seed in ("004", "000"):
        rows = [r for r in summary["checks"] if r["seed"] == seed]
        if not rows:
            continue
        lines += [f"## Seed {seed}", "", PAPERS[seed].capitalize() + ".", ""]
        shown: set[int] = set()
        for rel, title in FIGURES[seed]:
            png = src / rel
            if not png.exists():
                continue
            name = f"{seed}_{png.name}"
            shutil.copy(png, out_dir / name)
            checks = [r for r in rows if r["status"] != "info"
                      and _fig_number(r["figure"]) == _fig_number(title)]
            shown.update(id(r) for r in checks)
            lines += [f"### {title}", "", f"![{title}](gallery/{name})", ""]
            if checks:
                lines += ["| the paper claims | check | jaxqep | result |",
                          "| --- | --- | --- | --- |"]
                lines += [f"| {_cell(r['claim'])} | `{r['check']}` | {_cell(_fmt(r['value']))} "
                          f"| {r['status']} |" for r in checks]
                lines.append("")
        rest = [r for r in rows if r["status"] != "info" and id(r) not in shown]
        if rest:
            lines += ["### Other checks", "", "| figure | the paper claims | check | jaxqep | "
                      "result |", "| --- | --- | --- | --- | --- |"]
            lines += [f"| {r['figure']} | {_cell(r['claim'])} | `{r['check']}` | "
                      f"{_cell(_fmt(r['value']))} | {r['status']} |" for r in rest]
            lines.append("")
        other = [r for r in rows if r["status"] == "info"
                 and r["check"] not in ("quick", "plots", "passed")]
        if other:
            lines += ["Other numbers reported: "
                      + "; ".join(f"`{r['check']}` = {_fmt(r['value'])}" for r in other) + ".",
                      ""]
    timing = ", ".join(f"seed {k}: {v:.0f} s" for k, v in summary["seconds"].items())
    lines += ["", f"Run time of this reproduction: {timing}."]
    page = DOCS / "gallery.md"
    page.write_text("\n".join(lines) + "\n")
    return page


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="src", metavar="DIR", help="existing reproduce output")
    ap.add_argument("--full", action="store_true", help="full grids instead of --quick")
    args = ap.parse_args()
    if args.src:
        print(write(Path(args.src)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "jaxqep._cli", "reproduce", "--out", tmp]
        if not args.full:
            cmd.append("--quick")
        code = subprocess.run(cmd).returncode
        if not (Path(tmp) / "summary.json").exists():
            return code or 1
        print(write(Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
