"""Sweeps: grids, chunked evaluation, failures, checkpoint/resume, devices and processes."""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import jaxqep
import jaxqep.sweep as sw

ROOT = Path(__file__).resolve().parents[1]
SQ = sw.get_model("single_qubit")
FIXED = {k: v for k, v in SQ.example_parameters().items() if k not in ("lam1", "lam2")}
MODEL = functools.partial(SQ.fn, **FIXED)
GRID = sw.Grid.cartesian(lam1=np.linspace(0.1, 0.6, 6), lam2=np.linspace(0.05, 0.35, 5))


def _done_chunks(store: Path) -> set[int]:
    """Sweep chunks marked done in a store (the files of its chunk_sha256 array)."""
    d = store / "chunk_sha256"
    return {int(f.name) for f in d.iterdir() if f.name.isdigit()} if d.exists() else set()


def _chunk_files(store: Path, ks) -> dict[str, int]:
    """mtime of every zarr chunk file of sweep chunks ``ks`` (key ``k`` or ``k.0...``)."""
    return {
        str(f.relative_to(store)): f.stat().st_mtime_ns
        for f in store.rglob("*")
        if f.is_file() and f.name.split(".")[0].isdigit() and int(f.name.split(".")[0]) in ks
    }


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def reference():
    """The uninterrupted single-device, in-memory sweep every other route must reproduce."""
    return sw.sweep(MODEL, GRID, chunk_size=7, name="sq", progress=False)


# -- grids --------------------------------------------------------------------------------


def test_grid_cartesian_and_zip_order():
    g = sw.Grid.cartesian(a=[1, 2, 3], b=[10.0, 20.0])
    assert g.shape == (3, 2) and g.size == 6
    pts = g.points(0, 6)
    np.testing.assert_array_equal(pts["a"], [1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(pts["b"], [10, 20, 10, 20, 10, 20])
    assert pts["a"].dtype == np.float64  # ints become floats: one compiled program
    z = sw.Grid.zip(a=[1.0, 2.0], b=[3.0, 4.0])
    assert z.shape == (2,)
    np.testing.assert_array_equal(z.points(1, 5)["b"], [4.0])
    with pytest.raises(ValueError, match="equal lengths"):
        sw.Grid.zip(a=[1.0, 2.0], b=[1.0])
    with pytest.raises(ValueError, match="NaN"):
        sw.Grid.cartesian(a=[np.nan])
    assert g.spec() != sw.Grid.cartesian(a=[1, 2, 3], b=[10.0, 20.0 + 1e-13]).spec()


# -- evaluation ---------------------------------------------------------------------------


def test_sweep_matches_direct_evaluation_and_is_labelled(reference):
    ds = reference
    assert ds.total.dims == ("lam1", "lam2") and ds.total.shape == (6, 5)
    assert ds.parts.dims == ("lam1", "lam2", "parts_dim0")  # no labels given: default names
    assert ds.rho.shape == (6, 5, 2, 2)
    np.testing.assert_array_equal(ds.lam1.values, GRID.axes["lam1"])
    assert int(ds.attrs["n_failed"]) == 0 and not ds.failed.any()
    for i, j in [(0, 0), (3, 2), (5, 4)]:
        direct = MODEL(lam1=ds.lam1.values[i], lam2=ds.lam2.values[j])
        np.testing.assert_allclose(ds.total.values[i, j], direct.total, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(ds.rho.values[i, j], direct.rho, rtol=1e-12, atol=1e-15)
    # Sec. 5 of seed 004: σ vanishes at λ = γ/Γ = (6/11, 3/11), nowhere else; σ ≥ 0.
    assert np.all(ds.total.values >= -1e-14)
    zero = sw.sweep(MODEL, sw.Grid.zip(lam1=[6 / 11], lam2=[3 / 11]), quantities=["total"])
    assert abs(float(zero.total[0])) < 1e-14 and list(zero.data_vars) == ["total", "failed",
                                                                          "reason"]


def test_chunking_does_not_change_results(reference):
    for chunk in (1, 30, 64):
        ds = sw.sweep(MODEL, GRID, chunk_size=chunk, quantities=["total", "parts"])
        np.testing.assert_allclose(ds.total, reference.total, rtol=1e-13, atol=1e-16)


def test_failing_points_are_recorded_and_the_sweep_goes_on():
    """Invalid λ (three-qubit chain: λ = 1), g = 0, and a NaN output each fail one point."""
    from jaxqep.models import diagonal_reset_state, three_qubit_chain

    H = three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
    tA, tB = diagonal_reset_state(0.95), diagonal_reset_state(0.6)

    def chain(g, lam):
        ep = jaxqep.qrm.tripartite_entropy_production(H, tA, tB, 0.7, 0.6, (2, 2, 2), g, lam)
        # An artificial non-finite output at g = 0.3 (a NaN that no validation catches).
        return {"total": jnp.where(g == 0.3, jnp.nan, ep.total), "parts": ep.parts}

    grid = sw.Grid.cartesian(g=[0.05, 0.0, 0.3, 0.1], lam=[0.3, 1.0, 0.7])
    ds = sw.sweep(chain, grid, chunk_size=5)
    failed = ds.failed.values
    expected = np.zeros((4, 3), bool)
    expected[:, 1] = True  # lam = 1
    expected[1, :] = True  # g = 0
    expected[2, :] = True  # NaN output
    np.testing.assert_array_equal(failed, expected)
    assert int(ds.attrs["n_failed"]) == expected.sum()
    reasons = ds.reason.values
    assert "lam: must not be 0 or 1" in reasons[0, 1]
    assert "g: must be non-zero" in reasons[1, 0]
    assert reasons[2, 0] == "non-finite result in 'total'"
    assert np.all(reasons[~expected] == "")
    assert np.all(np.isnan(ds.total.values[expected]))
    assert np.all(np.isnan(ds.parts.values[expected]))
    good = ds.total.values[~expected]
    assert np.all(np.isfinite(good)) and np.all(good > 0)
    # Points that succeeded equal a direct evaluation (the chunk fell back to point-wise).
    direct = chain(0.05, 0.7)["total"]
    np.testing.assert_allclose(ds.total.values[0, 2], direct, rtol=1e-9, atol=1e-14)


def test_static_errors_and_bad_arguments_raise_before_computing():
    with pytest.raises(ValueError, match="quantities: unknown"):
        sw.sweep(MODEL, GRID, quantities=["nope"])
    with pytest.raises(TypeError):
        sw.sweep(lambda lam1, lam2: jnp.ones(3) @ jnp.ones(4), GRID)  # shape bug at trace time
    with pytest.raises(ValueError, match="chunk_size"):
        sw.sweep(MODEL, GRID, chunk_size=0)
    with pytest.raises(TypeError, match="Grid"):
        sw.sweep(MODEL, {"lam1": [0.1]})


# -- checkpoint: resume, corruption, mismatch ---------------------------------------------

WORKER = """
import functools, os, sys, time
import jaxqep, jax
import jaxqep.sweep as sw
import numpy as np

SQ = sw.get_model("single_qubit")
FIXED = {k: v for k, v in SQ.example_parameters().items() if k not in ("lam1", "lam2")}
GRID = sw.Grid.cartesian(lam1=np.linspace(0.1, 0.6, 6), lam2=np.linspace(0.05, 0.35, 5))

def slow(x):
    time.sleep(float(os.environ.get("SLOW", "0")))

def model(**kw):
    jax.debug.callback(slow, kw["lam1"])  # slows the run so it can be killed mid-way
    return SQ.fn(**FIXED, **kw)

if __name__ == "__main__":
    sw.sweep(model, GRID, chunk_size=7, store=sys.argv[1], name="sq", progress=False)
    print("finished", flush=True)
"""


def _load_worker(tmp_path):
    import importlib.util

    path = tmp_path / "worker.py"
    path.write_text(WORKER)
    spec = importlib.util.spec_from_file_location("sweep_worker", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return path, mod


def test_sigkill_mid_sweep_then_resume_gives_identical_results(tmp_path, reference, monkeypatch):
    worker, mod = _load_worker(tmp_path)
    store = tmp_path / "store"
    proc = subprocess.Popen(
        [sys.executable, str(worker), str(store)], env=_env(SLOW="0.05"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if len(_done_chunks(store)) >= 2:
                break
            if proc.poll() is not None:
                pytest.fail(f"worker ended early: {proc.communicate()[1].decode()[-2000:]}")
            time.sleep(0.05)
        else:
            pytest.fail("worker wrote no chunk in 120 s")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    saved_idx = _done_chunks(store)
    assert 2 <= len(saved_idx) < 5, "the kill must land mid-way (5 chunks in all)"
    saved = _chunk_files(store, saved_idx)
    assert len(saved) > 5 * len(saved_idx)  # every output array has a file per chunk

    written = []
    orig = sw.ChunkStore.write_chunk
    monkeypatch.setattr(sw.ChunkStore, "write_chunk",
                        lambda self, k, a: written.append(k) or orig(self, k, a))
    monkeypatch.setenv("SLOW", "0")
    ds = sw.sweep(mod.model, mod.GRID, chunk_size=7, store=store, name="sq")
    assert sorted(written) == sorted(set(range(5)) - saved_idx)  # nothing recomputed
    assert ds.attrs["n_computed_chunks"] == 5 - len(saved_idx)
    assert _chunk_files(store, saved_idx) == saved  # saved chunks untouched
    assert not [f for f in store.rglob("*") if f.name.endswith(".partial")
                or f.name.startswith(".tmp-")]  # nothing the killed writer left behind
    for v in reference.data_vars:  # bit-for-bit the uninterrupted run
        np.testing.assert_array_equal(ds[v].values, reference[v].values)
    # A third call computes nothing and reads the same numbers back.
    again = sw.sweep(mod.model, mod.GRID, chunk_size=7, store=store, name="sq")
    assert again.attrs["n_computed_chunks"] == 0
    np.testing.assert_array_equal(again.total.values, reference.total.values)


def test_corrupted_and_mismatched_checkpoints_are_detected(tmp_path, reference):
    store = tmp_path / "store"
    sw.sweep(MODEL, GRID, chunk_size=7, store=store, name="sq")
    chunk = store / "total" / "2"  # zarr chunk 2 of the output "total" = sweep chunk 2
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped bit in the middle of the file
    chunk.write_bytes(bytes(data))
    with pytest.raises(sw.CheckpointError, match="chunk 2 is corrupted") as e:
        sw.sweep(MODEL, GRID, chunk_size=7, store=store, name="sq")
    assert "on_corrupt='recompute'" in str(e.value) and e.value.fix == "on_corrupt"
    ds = sw.sweep(MODEL, GRID, chunk_size=7, store=store, name="sq", on_corrupt="recompute")
    assert ds.attrs["n_computed_chunks"] == 1
    np.testing.assert_array_equal(ds.total.values, reference.total.values)

    # Truncated file (e.g. a disk filled up before the data hit it): also caught.
    chunk = store / "rho" / "1.0.0"
    chunk.write_bytes(chunk.read_bytes()[:20])
    with pytest.raises(sw.CheckpointError, match="chunk 1 is corrupted"):
        sw.sweep(MODEL, GRID, chunk_size=7, store=store, name="sq")
    sw.sweep(MODEL, GRID, chunk_size=7, store=store, name="sq", on_corrupt="recompute")

    # A different sweep (grid, chunk size, function, quantities) must not reuse the store,
    # and must leave every file as it was.
    before = {str(f): f.stat().st_mtime_ns for f in store.rglob("*") if f.is_file()}
    other = sw.Grid.cartesian(lam1=np.linspace(0.1, 0.6, 6), lam2=np.linspace(0.05, 0.3, 5))
    with pytest.raises(sw.CheckpointError, match=r"different sweep \(grid.values_sha256: "
                       r"store has .*, this sweep") as e:
        sw.sweep(MODEL, other, chunk_size=7, store=store, name="sq")
    assert "pass overwrite=True" in str(e.value) and e.value.fix == "overwrite"
    with pytest.raises(sw.CheckpointError, match="chunk_size: store has 7, this sweep 8"):
        sw.sweep(MODEL, GRID, chunk_size=8, store=store, name="sq")
    with pytest.raises(sw.CheckpointError, match='function: store has "sq", this sweep "other"'):
        sw.sweep(MODEL, GRID, chunk_size=7, store=store, name="other")
    with pytest.raises(sw.CheckpointError, match="outputs"):
        sw.sweep(MODEL, GRID, chunk_size=7, store=store, name="sq", quantities=["total"])
    assert {str(f): f.stat().st_mtime_ns for f in store.rglob("*") if f.is_file()} == before
    # overwrite=True starts afresh.
    ds = sw.sweep(MODEL, GRID, chunk_size=8, store=store, name="sq", overwrite=True)
    np.testing.assert_allclose(ds.total, reference.total, rtol=1e-13)

    # Hand-edited attributes and a foreign directory are refused.
    attrs = store / ".zattrs"
    body = json.loads(attrs.read_text())
    body["jaxqep"]["spec"]["chunk_size"] = 7
    attrs.write_text(json.dumps(body))
    with pytest.raises(sw.CheckpointError, match="corrupted attributes"):
        sw.sweep(MODEL, GRID, chunk_size=8, store=store, name="sq")
    attrs.write_text("{not json")
    with pytest.raises(sw.CheckpointError, match="not a jaxqep sweep store"):
        sw.sweep(MODEL, GRID, chunk_size=8, store=store, name="sq")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("x")
    with pytest.raises(sw.CheckpointError, match="not empty"):
        sw.sweep(MODEL, GRID, chunk_size=8, store=foreign, name="sq")
    assert (foreign / "thesis.tex").read_text() == "x"


READ_WITH_XARRAY_ALONE = """
import sys
import numpy as np
import xarray as xr
ds = xr.open_zarr(sys.argv[1])
assert ds.total.encoding["chunks"] == (7,), ds.total.encoding   # chunked along the sweep
assert ds.rho.encoding["chunks"] == (7, 2, 2)
grid = ds.set_index(point=["lam1", "lam2"]).unstack("point").transpose("lam1", "lam2", ...)
np.savez(sys.argv[2], total=grid.total.values, rho=grid.rho.values, parts=grid.parts.values,
         lam1=grid.lam1.values, failed=grid.failed.values, reason=grid.reason.values,
         labels=ds.reservoir.values, parts_dims=np.array(ds.parts.dims))
assert not any(m.startswith("jaxqep") for m in sys.modules), "jaxqep was imported"
"""


def test_store_is_read_by_xarray_alone_with_the_same_numbers(tmp_path, reference):
    store = tmp_path / "store"
    ds = sw.sweep(MODEL, GRID, chunk_size=7, store=store, name="sq",
                  dims={"parts": ["reservoir"]}, coords={"reservoir": ["1", "2", "3"]})
    assert ds.parts.dims == ("lam1", "lam2", "reservoir")
    assert ds.reservoir.values.tolist() == ["1", "2", "3"]
    script = tmp_path / "read.py"
    script.write_text(READ_WITH_XARRAY_ALONE)
    out = tmp_path / "read.npz"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([sys.executable, str(script), str(store), str(out)], env=env,
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    got = np.load(out)
    # The grid's axes are sorted here, so xarray's unstack gives the sweep's order.
    np.testing.assert_array_equal(got["lam1"], GRID.axes["lam1"])
    for v in ("total", "rho", "parts", "failed"):
        np.testing.assert_array_equal(got[v], reference[v].values)
    assert got["labels"].tolist() == ["1", "2", "3"]
    assert got["parts_dims"].tolist() == ["point", "reservoir"]
    # jaxqep's own reader gives the labelled grid back, identical to what sweep returned.
    back = sw.open_results(store)
    for v in ds.data_vars:
        np.testing.assert_array_equal(back[v].values, ds[v].values)
        assert back[v].dims == ds[v].dims
    assert back.attrs["n_failed"] == 0


def test_zip_grids_failed_reasons_and_unfinished_stores(tmp_path):
    """A zipped grid keeps its order; reasons are a variable; an unfinished store says so."""
    grid = sw.Grid.zip(lam1=[0.5, 0.2, 0.4], lam2=[0.1, 0.3, 0.2])
    model = lambda lam1, lam2: {"y": jnp.where(lam1 > 0.3, lam1 * lam2, jnp.nan)}
    store = tmp_path / "z"
    ds = sw.sweep(model, grid, chunk_size=2, store=store)
    import xarray as xr

    raw = xr.open_zarr(store)
    np.testing.assert_array_equal(raw.lam1.values, [0.5, 0.2, 0.4])
    np.testing.assert_array_equal(raw.failed.values, [False, True, False])
    assert raw.reason.values.tolist() == ["", "non-finite result in 'y'", ""]
    np.testing.assert_allclose(raw.y.values, [0.05, np.nan, 0.08])
    np.testing.assert_array_equal(sw.open_results(store).y.values, ds.y.values)
    # Forget chunk 1 as if the run had been killed before it: reading refuses, unless asked.
    import zarr

    zarr.open_group(str(store), mode="r+")["chunk_sha256"][1] = ""
    with pytest.raises(sw.CheckpointError, match="unfinished sweep \\(1 of 2 chunks done\\)"):
        sw.open_results(store)
    part = sw.open_results(store, allow_incomplete=True)
    assert part.failed.values.tolist() == [False, True, True]
    assert part.reason.values[2] == "not computed (unfinished sweep)"
    with pytest.raises(sw.CheckpointError, match="no jaxqep sweep store"):
        sw.open_results(tmp_path)


def test_output_labels_are_checked(tmp_path):
    with pytest.raises(ValueError, match="dims: unknown output 'nope'"):
        sw.sweep(MODEL, GRID, dims={"nope": ["x"]})
    with pytest.raises(ValueError, match="dims.parts: expected 1 dimension name"):
        sw.sweep(MODEL, GRID, dims={"parts": ["a", "b"]})
    with pytest.raises(ValueError, match="dims.parts: dimension name 'lam1' is already"):
        sw.sweep(MODEL, GRID, dims={"parts": ["lam1"]})
    with pytest.raises(ValueError, match="dims.rho: dimension .k. has length 2 here and 3"):
        sw.sweep(MODEL, GRID, dims={"parts": ["k"], "rho": ["k", "k2"]})
    with pytest.raises(ValueError, match="coords.reservoir: expected 3 labels"):
        sw.sweep(MODEL, GRID, dims={"parts": ["reservoir"]}, coords={"reservoir": ["A", "B"]})
    with pytest.raises(ValueError, match="coords.site: not a dimension"):
        sw.sweep(MODEL, GRID, coords={"site": [1, 2, 3]})


def test_atomic_writes_have_plain_permissions_and_stale_temporaries_go(tmp_path):
    from jaxqep.sweep._store import _atomic_write, remove_stale_temporaries

    old = os.umask(0o022)
    try:
        _atomic_write(tmp_path / "results.csv", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "results.csv").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
    # A temporary file of a writer that died (pid gone) is removed; a live one is kept.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    host = socket.gethostname()
    stale = tmp_path / f".tmp-summary.json-{host}-{dead}-abc123"
    live = tmp_path / f".tmp-summary.json-{host}-{os.getpid()}-def456"
    partial = tmp_path / "total" / "3.0123abcd.partial"
    partial.parent.mkdir()
    for f in (stale, live, partial):
        f.write_bytes(b"half")
    assert sorted(remove_stale_temporaries(tmp_path)) == sorted([stale, partial])
    assert live.exists()


# -- devices and processes ----------------------------------------------------------------

SHARDED = """
import json, os, sys, functools
import jaxqep, jax
import jaxqep.sweep as sw
import numpy as np
assert len(jax.devices()) == 4, jax.devices()
SQ = sw.get_model("single_qubit")
FIXED = {k: v for k, v in SQ.example_parameters().items() if k not in ("lam1", "lam2")}
GRID = sw.Grid.cartesian(lam1=np.linspace(0.1, 0.6, 6), lam2=np.linspace(0.05, 0.35, 5))
model = functools.partial(SQ.fn, **FIXED)
ds = sw.sweep(model, GRID, chunk_size=7, quantities=["total", "parts", "rho"])
assert ds.attrs["n_devices"] == 4
# The executor lays chunks out over the 4-device mesh: check the layout it uses.
from jaxqep.sweep._runner import _Executor
ex = _Executor(lambda kw: kw, jax.devices(), 7)
arr = jax.device_put(np.arange(ex.padded, dtype=float), ex.sharding)
assert ex.padded == 8 and len({s.device for s in arr.addressable_shards}) == 4
np.savez(sys.argv[1], total=ds.total.values, parts=ds.parts.values, rho=ds.rho.values)
print("ok")
"""


def test_sharded_sweep_on_four_host_devices_matches_single_device(tmp_path, reference):
    script = tmp_path / "sharded.py"
    script.write_text(SHARDED)
    out = tmp_path / "sharded.npz"
    flags = "--xla_force_host_platform_device_count=4"
    r = subprocess.run([sys.executable, str(script), str(out)], env=_env(XLA_FLAGS=flags),
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    got = np.load(out)
    for v in ("total", "parts", "rho"):
        np.testing.assert_allclose(got[v], reference[v].values, rtol=1e-13, atol=1e-16)


DISTRIBUTED = """
import sys
import jax
port, pid, store, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
# jax.distributed must come before anything creates the XLA backend.
jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=2,
                           process_id=pid, initialization_timeout=60)
import functools
import numpy as np
import jaxqep
import jaxqep.sweep as sw
SQ = sw.get_model("single_qubit")
FIXED = {k: v for k, v in SQ.example_parameters().items() if k not in ("lam1", "lam2")}
GRID = sw.Grid.cartesian(lam1=np.linspace(0.1, 0.6, 6), lam2=np.linspace(0.05, 0.35, 5))
ds = sw.sweep(functools.partial(SQ.fn, **FIXED), GRID, chunk_size=7, store=store, name="sq",
              barrier_timeout=120)
assert ds.attrs["n_processes"] == 2 and ds.attrs["n_devices"] == 1
np.savez(out, total=ds.total.values, rho=ds.rho.values,
         computed=ds.attrs["n_computed_chunks"])
jax.distributed.shutdown()
"""


def test_two_processes_on_loopback_match_single_process(tmp_path, reference):
    script = tmp_path / "dist.py"
    script.write_text(DISTRIBUTED)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = tmp_path / "store"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(port), str(i), str(store),
             str(tmp_path / f"{i}.npz")],
            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(2)
    ]
    try:
        results = [p.communicate(timeout=240) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    errors = [f"process {i}: {err[-2000:]}" for i, (p, (_, err)) in enumerate(zip(procs, results))
              if p.returncode != 0]
    assert not errors, "\n".join(errors)
    outs = [np.load(tmp_path / f"{i}.npz") for i in range(2)]
    # 5 chunks split round-robin: process 0 computes 0, 2, 4 and process 1 computes 1, 3.
    assert [int(o["computed"]) for o in outs] == [3, 2]
    for o in outs:  # each returns the full result, bit-identical to one process
        np.testing.assert_array_equal(o["total"], reference.total.values)
        np.testing.assert_array_equal(o["rho"], reference.rho.values)
    assert _done_chunks(store) == set(range(5))
