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
    assert ds.parts.dims == ("lam1", "lam2", "parts_dim0")
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
            if len(list((store / "chunks").glob("c*.npz"))) >= 2 if store.exists() else False:
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
    saved = {p.name: p.stat().st_mtime_ns for p in (store / "chunks").glob("c*.npz")}
    assert 2 <= len(saved) < 5, "the kill must land mid-way (5 chunks in all)"

    written = []
    orig = sw.ChunkStore.write_chunk
    monkeypatch.setattr(sw.ChunkStore, "write_chunk",
                        lambda self, k, a: written.append(k) or orig(self, k, a))
    monkeypatch.setenv("SLOW", "0")
    ds = sw.sweep(mod.model, mod.GRID, chunk_size=7, store=store, name="sq")
    saved_idx = {int(n[1:7]) for n in saved}
    assert sorted(written) == sorted(set(range(5)) - saved_idx)  # nothing recomputed
    assert ds.attrs["n_computed_chunks"] == 5 - len(saved)
    for name, mtime in saved.items():  # saved chunks untouched
        assert (store / "chunks" / name).stat().st_mtime_ns == mtime
    for v in reference.data_vars:  # bit-for-bit the uninterrupted run
        np.testing.assert_array_equal(ds[v].values, reference[v].values)
    # A third call computes nothing and reads the same numbers back.
    again = sw.sweep(mod.model, mod.GRID, chunk_size=7, store=store, name="sq")
    assert again.attrs["n_computed_chunks"] == 0
    np.testing.assert_array_equal(again.total.values, reference.total.values)


def test_corrupted_and_mismatched_checkpoints_are_detected(tmp_path, reference):
    store = tmp_path / "store"
    sw.sweep(MODEL, GRID, chunk_size=7, store=store, name="sq")
    chunk = sorted((store / "chunks").glob("c000002-*.npz"))[0]
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped bit in the middle of the file
    chunk.write_bytes(bytes(data))
    with pytest.raises(sw.CheckpointError, match="c000002.*corrupted chunk"):
        sw.sweep(MODEL, GRID, chunk_size=7, store=store, name="sq")
    ds = sw.sweep(MODEL, GRID, chunk_size=7, store=store, name="sq", on_corrupt="recompute")
    assert ds.attrs["n_computed_chunks"] == 1
    np.testing.assert_array_equal(ds.total.values, reference.total.values)

    # Truncated file (e.g. a disk filled up before the data hit it): also caught.
    chunk = sorted((store / "chunks").glob("c000001-*.npz"))[0]
    chunk.write_bytes(chunk.read_bytes()[:100])
    with pytest.raises(sw.CheckpointError, match="corrupted chunk"):
        sw.sweep(MODEL, GRID, chunk_size=7, store=store, name="sq")
    chunk.unlink()

    # A different sweep (grid, chunk size, function, quantities) must not reuse the store.
    other = sw.Grid.cartesian(lam1=np.linspace(0.1, 0.6, 6), lam2=np.linspace(0.05, 0.3, 5))
    with pytest.raises(sw.CheckpointError, match=r"different sweep \(differs in: grid\)"):
        sw.sweep(MODEL, other, chunk_size=7, store=store, name="sq")
    with pytest.raises(sw.CheckpointError, match="chunk_size"):
        sw.sweep(MODEL, GRID, chunk_size=8, store=store, name="sq")
    with pytest.raises(sw.CheckpointError, match="function"):
        sw.sweep(MODEL, GRID, chunk_size=7, store=store, name="other")
    with pytest.raises(sw.CheckpointError, match="outputs"):
        sw.sweep(MODEL, GRID, chunk_size=7, store=store, name="sq", quantities=["total"])
    # overwrite=True starts afresh.
    ds = sw.sweep(MODEL, GRID, chunk_size=8, store=store, name="sq", overwrite=True)
    np.testing.assert_allclose(ds.total, reference.total, rtol=1e-13)

    # A hand-edited manifest and a foreign directory are refused.
    manifest = store / "manifest.json"
    body = json.loads(manifest.read_text())
    body["spec"]["chunk_size"] = 7
    manifest.write_text(json.dumps(body))
    with pytest.raises(sw.CheckpointError, match="corrupted manifest"):
        sw.sweep(MODEL, GRID, chunk_size=8, store=store, name="sq")
    manifest.write_text("{not json")
    with pytest.raises(sw.CheckpointError, match="unreadable or corrupted manifest"):
        sw.sweep(MODEL, GRID, chunk_size=8, store=store, name="sq")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("x")
    with pytest.raises(sw.CheckpointError, match="not empty"):
        sw.sweep(MODEL, GRID, chunk_size=8, store=foreign, name="sq")


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
    assert len(list((store / "chunks").glob("c*.npz"))) == 5
