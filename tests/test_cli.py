"""The ``jaxqep`` command: --help, TOML sweeps (good and bad), and ``reproduce``."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

import jaxqep.sweep as sw
from jaxqep._cli import main

ROOT = Path(__file__).resolve().parents[1]

SQ_PARAMS = """
model = "single_qubit"
[parameters]
eps = 1.0
delta = 0.7
gamma2 = 0.5
gamma3 = 0.3333333333333333
t1 = 0.9
t2 = 0.9
t3 = 0.9
lam2 = 0.2727272727272727
"""


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _done_chunks(store: Path) -> int:
    d = store / "chunk_sha256"
    return sum(f.name.isdigit() for f in d.iterdir()) if d.exists() else 0


def _is_real_plot(path: Path) -> None:
    """A PNG of a real figure: decodable, a sensible size, and not a blank canvas."""
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200, img.shape
    rgb = img[..., :3].reshape(-1, 3)
    assert rgb.std() > 0.02  # axes, ticks, markers
    colours = {tuple(c) for c in np.round(rgb[:: max(1, len(rgb) // 20000)], 2)}
    assert len(colours) > 20, "a blank or near-blank image"


# -- help and installation ----------------------------------------------------------------


def test_console_script_is_declared_and_help_works_everywhere(capsys):
    eps = [e for e in metadata.entry_points(group="console_scripts") if e.name == "jaxqep"]
    assert eps and eps[0].value == "jaxqep._cli:main"
    for argv in ([], ["reproduce"], ["sweep"], ["models"]):
        with pytest.raises(SystemExit) as e:
            main([*argv, "--help"])
        assert e.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("usage: jaxqep") and len(out.splitlines()) > 3
    r = subprocess.run([sys.executable, "-m", "jaxqep._cli", "sweep", "--help"], env=_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "CONFIG.toml" in r.stdout
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "three_qubit_chain" in out and "gaussian_chain" in out and "J_alpha" in out


def test_example_config_is_valid():
    cfg = sw.load_config(ROOT / "examples" / "sweep_three_qubit.toml")
    assert cfg.model.name == "three_qubit_chain" and cfg.grid.shape == (24, 3)
    assert cfg.quantities == ["total", "parts", "fluxes", "residual"]


# -- bad configurations -------------------------------------------------------------------

BAD = {
    "unknown_model": ('model = "five_qubit_ring"\n[grid]\ng = [0.1]\n',
                      "model: unknown model 'five_qubit_ring'"),
    "missing_parameter": (SQ_PARAMS.replace("delta = 0.7\n", "") + "[grid]\nlam1 = [0.5]\n",
                          "missing delta"),
    "missing_two": (SQ_PARAMS.replace("eps = 1.0\n", "") + "[grid]\ngamma1 = [1.0]\n",
                    "missing eps, lam1"),
    "wrong_type": (SQ_PARAMS.replace("eps = 1.0", 'eps = "one"') +
                   "[grid]\nlam1 = [0.5]\ngamma1 = [1.0]\n",
                   "parameters.eps: expected a number, got string 'one'"),
    "wrong_type_in_grid": (SQ_PARAMS + "[grid]\nlam1 = [0.5, true]\ngamma1 = [1.0]\n",
                           "grid.lam1[1]: expected a number, got boolean"),
    "wrong_type_range": (SQ_PARAMS + "[grid]\nlam1 = {start=0.1, stop=0.5, num=2.5}\n"
                         "gamma1 = [1.0]\n", "grid.lam1.num: expected an integer"),
    "unknown_parameter": (SQ_PARAMS + "gama1 = 1.0\n[grid]\nlam1 = [0.5]\ngamma1 = [1.0]\n",
                          "parameters.gama1: unknown parameter for model 'single_qubit'"),
    "unknown_section": (SQ_PARAMS + "[grid]\nlam1 = [0.5]\ngamma1 = [1.0]\n[outptu]\ndir='x'\n",
                        "unknown top-level key 'outptu'"),
    "unknown_output_key": (SQ_PARAMS + "[grid]\nlam1 = [0.5]\ngamma1 = [1.0]\n"
                           "[output]\nchunksize = 3\n", "output.chunksize: unknown key"),
    "unknown_quantity": (SQ_PARAMS + "[grid]\nlam1 = [0.5]\ngamma1 = [1.0]\n"
                         "[output]\nquantities = ['total', 'entropy']\n",
                         "output.quantities: unknown quantity 'entropy'"),
    "both_fixed_and_swept": (SQ_PARAMS + "lam1 = 0.5\n[grid]\nlam1 = [0.5]\ngamma1 = [1.0]\n",
                             "lam1: given in both [parameters] and [grid]"),
    "static_parameter_swept": (
        'model = "gaussian_chain"\n[parameters]\nomega = 1.0\nlam = 1e-3\ngamma = 1e-2\n'
        "n1 = 1.0\nnL = 2.0\nGamma = 0.0\n[grid]\nL = [4, 8]\n",
        "grid.L: int parameter of model 'gaussian_chain' is static"),
    "zip_lengths": (SQ_PARAMS + "[grid]\nmode = 'zip'\nlam1 = [0.5, 0.6]\ngamma1 = [1.0]\n",
                    "equal lengths"),
    "bad_toml": ("model = \n", "invalid TOML"),
    "fixed_parameter_invalid_everywhere": (
        SQ_PARAMS.replace("gamma2 = 0.5", "gamma2 = -0.1") + "[grid]\nlam1 = [0.5]\n"
        "gamma1 = [1.0]\n",
        "parameters.gamma2: must be > 0, got -0.1 (reset rate γ_2); every point of the sweep "
        "would fail"),
    "swept_parameter_invalid_everywhere": (
        SQ_PARAMS + "[grid]\nlam1 = [0.5]\ngamma1 = [-1.0, 0.0]\n",
        "grid.gamma1: every value violates the condition (must be > 0"),
    "three_qubit_lambda_fixed_at_one": (
        'model = "three_qubit_chain"\n[parameters]\neA = 0.08\neB = 0.1\neC = 0.05\nU = 0.1\n'
        "J_alpha = 0.05\nJ_beta = 0.1\ngamma_A = 0.7\ngamma_B = 0.6\ntA = 0.95\ntB = 0.6\n"
        "lam = 1.0\n[grid]\ng = [0.1, 0.2]\n",
        "parameters.lam: must be in (0, 1), excluding 0 and 1, got 1.0"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_is_a_one_line_error_and_writes_nothing(case, tmp_path, capsys):
    text, message = BAD[case]
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    out = tmp_path / "out"
    code = main(["sweep", str(cfg), "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("jaxqep: error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert err.count("bad.toml") == 1, err  # the file is named once, first
    assert err.startswith(f"jaxqep: error: {cfg}: "), err
    assert not out.exists()


def test_missing_config_file(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "nope.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err


# -- good configurations ------------------------------------------------------------------

GOOD = SQ_PARAMS + """
[grid]
mode = "cartesian"
gamma1 = [-1.0, 0.5, 1.0]          # gamma1 < 0 is invalid: those points must fail
lam1 = {start = 0.3, stop = 0.7, num = 5}

[output]
chunk_size = 4
quantities = ["total", "parts"]
"""


def test_sweep_from_toml_writes_complete_labelled_results(tmp_path, capsys):
    cfg_path = tmp_path / "sq.toml"
    cfg_path.write_text(GOOD)
    out = tmp_path / "out"
    assert main(["sweep", str(cfg_path), "--out", str(out), "--no-progress"]) == 0
    stdout = capsys.readouterr().out
    assert "15 points, 5 failed" in stdout and "gammas" in stdout

    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] and summary["n_points"] == 15 and summary["n_failed"] == 5
    assert all(f["parameters"]["gamma1"] == -1.0 and "gammas" in f["reason"]
               for f in summary["failures"])
    for f in summary["files"]:
        assert (out / f).exists(), f

    # results.npz holds the grid and the numbers, equal to direct evaluations.
    res = np.load(out / "results.npz")
    assert res["total"].shape == (3, 5) and res["parts"].shape == (3, 5, 3)
    assert res["failed"][0].all() and not res["failed"][1:].any()
    cfg = sw.load_config(cfg_path)
    model = cfg.function()
    for i, g1 in enumerate([0.5, 1.0], start=1):
        for j, l1 in enumerate(np.linspace(0.3, 0.7, 5)):
            direct = model(gamma1=g1, lam1=l1)
            np.testing.assert_allclose(res["total"][i, j], direct.total, rtol=1e-11, atol=1e-15)
    # σ = 0 at λ = γ/Γ: with γ = (1, 1/2, 1/3) that is λ1 = 6/11 ≈ 0.545, between grid points;
    # along λ1 the minimum sits at the grid point nearest to it (0.5).
    assert np.argmin(res["total"][2]) == 2

    # results.csv: one row per point, parameters first, failures flagged with their reason.
    lines = (out / "results.csv").read_text().splitlines()
    header = lines[0].split(",")
    # vector outputs carry their labels: parts over the reservoirs 1, 2, 3
    assert header[:6] == ["gamma1", "lam1", "total", "parts[1]", "parts[2]", "parts[3]"]
    assert header[-2:] == ["failed", "reason"]
    assert len(lines) == 16
    row = lines[1 + 5 + 2].split(",")  # gamma1 = 0.5, lam1 = 0.5
    assert float(row[0]) == 0.5 and float(row[1]) == 0.5
    np.testing.assert_allclose(float(row[2]), res["total"][1, 2], rtol=1e-15)
    assert lines[1].split(",")[-2] == "true" and "gammas" in lines[1]

    _is_real_plot(out / "results.png")
    # Results are as readable as the plot (not mkstemp's 0600); no temporary file is left.
    for f in ("results.csv", "results.npz", "summary.json", "results.png"):
        assert (out / f).stat().st_mode & 0o077 == (out / "results.png").stat().st_mode & 0o077
    assert not [f for f in out.rglob("*") if f.name.startswith(".tmp-")]

    # The store: labelled results back without the config (no paths to reset by hand).
    back = sw.open_results(out)
    assert back.parts.dims == ("gamma1", "lam1", "reservoir")
    assert back.reservoir.values.tolist() == ["1", "2", "3"]
    np.testing.assert_array_equal(back.total.values, res["total"])

    # Rerunning a finished sweep computes nothing and rewrites the same results.
    store_files = lambda: {str(p): p.stat().st_mtime_ns for p in out.rglob("*")
                           if p.is_file() and p.parent != out}
    before = store_files()
    assert main(["sweep", str(cfg_path), "--out", str(out), "--no-progress"]) == 0
    assert store_files() == before
    np.testing.assert_array_equal(np.load(out / "results.npz")["total"], res["total"])
    capsys.readouterr()

    # Same directory, different sweep: a clear error naming the mismatch, with the flag to
    # use (not the Python keyword); the old results are not touched.
    cfg_path.write_text(GOOD.replace("num = 5", "num = 6"))
    assert main(["sweep", str(cfg_path), "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "holds a different sweep (grid.shape: store has [3, 5], this sweep [3, 6]" in err
    assert "rerun with --overwrite" in err and "overwrite=True" not in err
    assert json.loads((out / "summary.json").read_text()) == summary
    assert store_files() == before

    # A corrupted chunk: the advice is the flag, and the flag repairs it.
    cfg_path.write_text(GOOD)
    chunk = out / "total" / "1"
    chunk.write_bytes(chunk.read_bytes()[:10])
    assert main(["sweep", str(cfg_path), "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "chunk 1 is corrupted" in err and "rerun with --recompute-corrupt" in err
    assert "on_corrupt" not in err
    assert main(["sweep", str(cfg_path), "--out", str(out), "--no-progress",
                 "--recompute-corrupt"]) == 0
    np.testing.assert_array_equal(np.load(out / "results.npz")["total"], res["total"])


def test_progress_bar_can_be_forced_on_in_a_batch_log(tmp_path, capsys):
    cfg_path = tmp_path / "sq.toml"
    cfg_path.write_text(GOOD)
    assert main(["sweep", str(cfg_path), "--out", str(tmp_path / "a"), "--progress"]) == 0
    captured = capsys.readouterr()
    assert "15/15" in captured.err and "pt/s" in captured.err  # per-chunk bar with its rate
    assert "store" in captured.out and "zarr" in captured.out  # the closing table
    assert main(["sweep", str(cfg_path), "--out", str(tmp_path / "b")]) == 0
    assert "pt/s" not in capsys.readouterr().err  # stderr is not a terminal: off by default
    with pytest.raises(SystemExit):
        main(["sweep", str(cfg_path), "--progress", "--no-progress"])


def test_info_reports_versions_devices_precision_and_flags(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for word in ("jaxqep 0.", "jax ", "zarr", "backend", "cpu", "float64", "XLA_FLAGS",
                 "deadlock workaround"):
        assert word in out, (word, out)
    assert main(["info", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    import jax

    assert body["x64"] is True and body["devices"] == [str(d) for d in jax.devices()]
    assert body["deadlock_workaround"] is True
    assert body["versions"]["xarray"] == metadata.version("xarray")


def test_killed_cli_sweep_leaves_no_summary_and_resumes(tmp_path):
    cfg_path = tmp_path / "sq.toml"
    cfg_path.write_text(GOOD.replace("chunk_size = 4", "chunk_size = 1")
                        .replace("num = 5", "num = 40"))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "jaxqep._cli", "sweep", str(cfg_path), "--out", str(out),
           "--no-progress"]
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if _done_chunks(out) >= 3:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    n_saved = _done_chunks(out)
    assert 3 <= n_saved < 120, "killed mid-way"
    assert not (out / "summary.json").exists() and not (out / "results.csv").exists()
    assert main(["sweep", str(cfg_path), "--out", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] and summary["n_points"] == 120 and summary["n_failed"] == 40
    full = sw.sweep(sw.load_config(cfg_path).function(), sw.load_config(cfg_path).grid,
                    chunk_size=1, quantities=["total"])
    np.testing.assert_array_equal(np.load(out / "results.npz")["total"], full.total.values)
    assert not [f for f in out.rglob("*") if f.name.startswith(".tmp-")
                or f.name.endswith(".partial")]  # the killed run's temporaries are gone


def test_gaussian_chain_model_sweeps():
    ds = sw.sweep(
        functools.partial(sw.get_model("gaussian_chain").fn, L=6, omega=1.0, gamma=1e-2,
                          n1=1.0, nL=2.0),
        sw.Grid.cartesian(lam=[1e-3, 2e-3], Gamma=[0.0, 1e-3]),
        quantities=["total", "pi_r", "pi_sc_total"],
    )
    assert not ds.failed.any()
    np.testing.assert_allclose(ds.total, ds.pi_r + ds.pi_sc_total, rtol=1e-10)
    assert np.all(ds.pi_sc_total.sel(Gamma=0.0) == 0) and np.all(ds.pi_sc_total.sel(Gamma=1e-3) > 0)


# -- reproduce ----------------------------------------------------------------------------


def test_reproduce_quick_end_to_end(tmp_path, capsys):
    out = tmp_path / "rep"
    code = main(["reproduce", "--out", str(out), "--quick", "--progress"])
    captured = capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text())
    # One bar per seed advancing figure by figure, with an ETA; then a short table.
    assert "seed 004" in captured.err and "fig" in captured.err and "<" in captured.err
    assert "figure" in captured.out and "004 Fig. 4" in captured.out and "time:" in captured.out
    assert code == 0, [c for c in summary["checks"] if c["status"] in ("FAIL", "MISSING")]
    assert summary["complete"] and summary["passed"] and summary["n_checks"] >= 12
    for f in summary["files"]:
        assert (out / f).exists(), f
    md = (out / "summary.md").read_text()
    assert md.count("| pass |") == summary["n_checks"] and "5.2273e-3" in md

    # Every promised figure: seed 004 Figs. 1, 3, 4, 5 and seed 000 Figs. 2, 3.
    pngs = ["qrm/fig1.png", "qrm/fig3.png", "qrm/fig4.png", "qrm/fig5.png",
            "gaussian/gaussian_fig2.png", "gaussian/gaussian_fig3.png"]
    for png in pngs:
        _is_real_plot(out / png)
    # ... of real data: check the numbers behind them, not just that files exist.
    for npz in sorted(out.rglob("*.npz")):
        with np.load(npz) as z:
            assert z.files and all(np.isfinite(z[k]).all() for k in z.files
                                   if np.issubdtype(z[k].dtype, np.number)), npz
    f2 = np.load(out / "gaussian" / "gaussian_fig2.npz")
    occ = f2["a0_occupations"]  # Γ = 0: ballistic, flat in the bulk (Fig. 2a)
    assert np.ptp(occ[1:-1]) < 1e-8 * occ.mean() and occ[0] < occ[1:-1].mean() < occ[-1]
    f3 = np.load(out / "gaussian" / "gaussian_fig3.npz")
    slope_r = np.polyfit(np.log(f3["L"][-3:]), np.log(f3["pi_r"][-3:]), 1)[0]
    slope_sc = np.polyfit(np.log(f3["L"][-3:]), np.log(f3["pi_sc"][-3:]), 1)[0]
    assert abs(slope_r + 2) < 0.1 and abs(slope_sc + 1) < 0.1  # Π_r ~ 1/L², Π_sc ~ 1/L
    fig4 = np.load(out / "qrm" / "fig4.npz")
    assert np.all(fig4["g"] > 0) and fig4["sigma_minus_g2sigma2"].shape[-1] == fig4["g"].size


def test_reproduce_summary_marks_failed_and_missing_checks():
    from jaxqep.reproduce._checks import GAUSSIAN_CHECKS as _GAUSSIAN_CHECKS, evaluate_checks

    rows = evaluate_checks("000", {"fig2_max_rel_err_vs_29a": 0.5, "extra": 1.0},
                           _GAUSSIAN_CHECKS)
    status = {r["check"]: r["status"] for r in rows}
    assert status["fig2_max_rel_err_vs_29a"] == "FAIL"
    assert status["fig3_pi_r_plus_pi_sc_vs_31"] == "MISSING"
    assert status["extra"] == "info"
