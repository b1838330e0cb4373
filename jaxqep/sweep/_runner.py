"""Chunked, vmapped, checkpointed, sharded parameter sweeps."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import math
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from ._distributed import barrier, process_info
from ._grid import Grid
from ._store import REASON_DTYPE, ChunkStore, default_dims, to_grid

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["output_names", "sweep"]

_FAILED, _REASON = "__failed__", "__reason__"
_barrier_counter = 0


# -- output naming ------------------------------------------------------------------------


def _key_name(k) -> str:
    for attr in ("name", "key", "idx"):
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def _flatten(tree) -> dict[str, Any]:
    """Name the leaves of a pytree: ``EntropyProduction`` -> ``total``, ``parts``, ..."""
    leaves, _ = jax.tree_util.tree_flatten_with_path(tree)
    out = {}
    for path, leaf in leaves:
        name = ".".join(_key_name(k) for k in path) or "value"
        out[name] = leaf
    return out


def output_names(fn: Callable, **example) -> list[str]:
    """Names a sweep of ``fn`` would give its outputs (abstract evaluation, no compute).

    Example:
        >>> import jaxqep
        >>> from jaxqep.sweep import output_names
        >>> output_names(lambda x: {"a": x, "b": (x, x)}, x=1.0)
        ['a', 'b.0', 'b.1']
    """
    point = {k: float(v) for k, v in example.items()}
    shapes = jax.eval_shape(lambda kw: _flatten(fn(**kw)), point)
    return list(shapes)


# -- execution on the local devices -------------------------------------------------------


class _Executor:
    """Evaluate batches of points on the local devices.

    With several devices the batch is laid out with a ``NamedSharding`` over a 1-D mesh
    and each device runs the (single-device) vmapped program on its own shard; the
    shards are reassembled into one global array. Why not one GSPMD program: the
    validation ``eqx.error_if`` inside jaxqep reduces its predicate over the batch, which
    becomes a cross-device all-reduce, and on XLA:CPU that all-reduce deadlocks against
    the batched LAPACK thread pool (observed at 128 points per device). ``shard_map`` and
    ``pmap`` are ruled out by lineax, which rejects their manual-axis vector types.
    """

    def __init__(self, point_fn: Callable, devices: Sequence, chunk_size: int):
        self.devices = list(devices)
        nd = len(self.devices)
        self.padded = math.ceil(chunk_size / nd) * nd
        # filter_jit: a failed eqx.error_if then raises EquinoxRuntimeError with its message.
        self.batched = eqx.filter_jit(jax.vmap(point_fn))
        self.single = eqx.filter_jit(point_fn)
        self.sharding = NamedSharding(Mesh(np.array(self.devices), ("d",)), P("d"))

    def run_batch(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = len(next(iter(params.values())))
        # Pad with copies of the last point: one compiled shape, no spurious failures.
        extra = self.padded - n
        pad = {k: np.concatenate([v, np.repeat(v[-1:], extra)]) for k, v in params.items()}
        if len(self.devices) == 1:
            out = self.batched(jax.device_put(pad, self.devices[0]))
            return {k: np.array(v[:n]) for k, v in out.items()}
        inputs = {k: jax.device_put(v, self.sharding) for k, v in pad.items()}
        shards = {k: {s.device: s.data for s in v.addressable_shards} for k, v in inputs.items()}
        per_device = {d: self.batched({k: shards[k][d] for k in inputs}) for d in self.devices}
        out = {}
        for name, leaf in per_device[self.devices[0]].items():
            glob = jax.make_array_from_single_device_arrays(
                (self.padded, *leaf.shape[1:]),
                self.sharding,
                [per_device[d][name] for d in self.devices],
            )
            out[name] = np.array(glob)[:n]
        return out

    def run_point(self, point: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = self.single(jax.device_put(point, self.devices[0]))
        return {k: np.asarray(v) for k, v in out.items()}


def _reason(e: BaseException) -> str:
    """One line saying why a point failed (jaxqep messages name the argument)."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    for ln in lines:  # an error_if message wrapped in a callback traceback
        if "EquinoxRuntimeError: " in ln:
            return ln.split("EquinoxRuntimeError: ", 1)[1][:300]
    kind = "" if isinstance(e, eqx.EquinoxRuntimeError) else f"{type(e).__name__}: "
    return (kind + (lines[0] if lines else "")).strip()[:300]


@contextlib.contextmanager
def _quiet_callback_errors():
    """Failed points are expected: keep jax from logging each error_if traceback."""
    logger = logging.getLogger("jax._src.callback")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _evaluate_chunk(ex: _Executor, params: dict[str, np.ndarray], struct: dict) -> dict:
    n = len(next(iter(params.values())))
    failed = np.zeros(n, bool)
    reasons = np.full(n, "", dtype=object)
    try:
        outs = ex.run_batch(params)
    except Exception:
        # One bad point fails the whole vmapped batch (error_if reduces over it): isolate.
        outs = {
            k: np.full((n, *s.shape), np.nan if np.issubdtype(s.dtype, np.inexact) else 0, s.dtype)
            for k, s in struct.items()
        }
        for i in range(n):
            try:
                res = ex.run_point({k: v[i] for k, v in params.items()})
            except Exception as e:
                failed[i], reasons[i] = True, _reason(e)
                continue
            for k, v in res.items():
                outs[k][i] = v
    for k, v in outs.items():
        if not np.issubdtype(v.dtype, np.inexact):
            continue
        bad = ~np.isfinite(v.reshape(n, -1)).all(axis=1) & ~failed
        failed |= bad
        reasons[bad] = f"non-finite result in {k!r}"
    for v in outs.values():
        if np.issubdtype(v.dtype, np.inexact):
            v[failed] = np.nan
    outs[_FAILED] = failed
    outs[_REASON] = reasons.astype(str)
    return outs


# Repeated sweeps of the same function reuse its traced shapes and compiled programs
# (a fresh jit wrapper per call would recompile every time). Small, strong-ref caches.
_CACHE_SIZE = 8
_structs: dict = {}
_executors: dict = {}


def _cached(cache: dict, key, make):
    try:
        hit = cache.get(key)
    except TypeError:  # unhashable function: no caching
        return make()
    if hit is None:
        hit = cache[key] = make()
        while len(cache) > _CACHE_SIZE:
            cache.pop(next(iter(cache)))
    return hit


def _output_struct(fn: Callable, dtypes: tuple) -> dict:
    example = {k: jax.ShapeDtypeStruct((), np.dtype(d)) for k, d in dtypes}
    return _cached(_structs, (fn, dtypes),
                   lambda: jax.eval_shape(lambda kw: _flatten(fn(**kw)), example))


def _executor(fn: Callable, keep: tuple, devices: tuple, chunk_size: int) -> _Executor:
    def point_fn(kw):
        out = _flatten(fn(**kw))
        return {k: out[k] for k in keep}

    return _cached(_executors, (fn, keep, devices, chunk_size),
                   lambda: _Executor(point_fn, devices, chunk_size))


# -- the public entry point ---------------------------------------------------------------


def _callable_id(fn: Callable) -> str:
    if isinstance(fn, functools.partial):
        bound = hashlib.sha256(repr((fn.args, sorted(fn.keywords.items()))).encode()).hexdigest()
        return f"partial({_callable_id(fn.func)}, {bound[:16]})"
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _version() -> str:
    import jaxqep

    return str(getattr(jaxqep, "__version__", "unknown"))


def sweep(
    fn: Callable[..., Any],
    grid: Grid,
    *,
    chunk_size: int = 256,
    store: str | os.PathLike | None = None,
    quantities: Sequence[str] | None = None,
    name: str | None = None,
    spec_extra: dict | None = None,
    devices: Sequence | None = None,
    progress: bool | None = None,
    on_corrupt: str = "raise",
    overwrite: bool = False,
    barrier_timeout: float = 3600.0,
    dims: Mapping[str, Sequence[str]] | None = None,
    coords: Mapping[str, Sequence] | None = None,
) -> xr.Dataset:
    """Evaluate ``fn`` on every point of ``grid`` in vmapped chunks; return labelled results.

    ``fn(**params)`` takes one point's parameters as scalar keyword arguments and returns
    a pytree of arrays (e.g. an ``EntropyProduction``); it must be jit/vmap friendly.
    Points are evaluated ``chunk_size`` at a time, so peak memory is set by the chunk, not
    by the grid.

    * **Failures**: a point whose evaluation raises (a jaxqep validation error, under jit
      an ``EquinoxRuntimeError``) or gives a non-finite output is recorded as failed, with
      the reason, and its outputs set to NaN; the rest of the sweep goes on. (An error
      fails a whole vmapped chunk, so that chunk is re-run point by point.)
    * **Store**: with ``store``, results go to a zarr store in that directory, chunked
      along the sweep (one zarr chunk per sweep chunk), which ``xarray.open_zarr`` reads
      without jaxqep and `open_results` reads back in the layout returned here.
      Every finished chunk is saved and checksummed; calling ``sweep`` again with the
      same arguments resumes, recomputing nothing saved, and returns exactly the numbers
      of an uninterrupted run. A store of a different sweep or a corrupted chunk raises
      `CheckpointError` and nothing is overwritten.
    * **Devices**: each chunk is sharded over ``devices`` (default: all local devices).
    * **Processes**: inside a ``jax.distributed`` job, process ``p`` of ``n`` computes the
      chunks ``k`` with ``k % n == p`` into the shared ``store`` (required), then all
      processes wait at a barrier and return the full result.

    Args:
        fn: the model, ``fn(**point) -> pytree``.
        grid: the points (`Grid`).
        chunk_size: points per vmapped batch (and per checkpoint file).
        store: store directory (zarr), or ``None`` to keep everything in memory.
        quantities: output names to keep (default all; see `output_names`).
        name: identifies ``fn`` in the checkpoint spec (default: its qualified name).
        spec_extra: JSON-able data added to the checkpoint spec (e.g. fixed parameters).
        devices: JAX devices to shard chunks over (default ``jax.local_devices()``).
        progress: show a tqdm progress bar (default: when stderr is a terminal).
        on_corrupt: ``"raise"`` or ``"recompute"`` for corrupted chunk files.
        overwrite: delete an existing checkpoint in ``store`` first (single process only).
        barrier_timeout: seconds to wait for the other processes of a distributed job.
        dims: names of the extra (non-grid) dimensions of vector outputs, e.g.
            ``{"parts": ["reservoir"], "rho": ["row", "col"]}`` (default
            ``<name>_dim<i>``).
        coords: labels of those dimensions, e.g. ``{"reservoir": ["A", "B"]}``.

    Returns:
        An ``xarray.Dataset``: one variable per output (extra dimensions from ``dims``)
        plus ``failed`` (bool) and ``reason`` (str). Cartesian grids have one dimension
        per parameter, zipped grids a ``point`` dimension; parameter values are the
        coordinates. ``attrs`` hold ``n_points``, ``n_failed``, ``spec_sha256``,
        ``n_devices``, ``n_processes`` and ``n_computed_chunks`` (by this call).

    Example:
        >>> import jaxqep, jaxqep.sweep as sw
        >>> from jaxqep.models import three_qubit_chain, diagonal_reset_state
        >>> H = three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
        >>> tA, tB = diagonal_reset_state(0.95), diagonal_reset_state(0.6)
        >>> def model(g, lam):
        ...     return jaxqep.qrm.tripartite_entropy_production(H, tA, tB, 0.7, 0.6,
        ...                                                     (2, 2, 2), g, lam)
        >>> ds = sw.sweep(model, sw.Grid.cartesian(g=[0.05, 0.1], lam=[0.3, 1.0]),
        ...               chunk_size=4, quantities=["total"])
        >>> ds.total.shape, int(ds.attrs["n_failed"])    # lam = 1 is invalid
        ((2, 2), 2)
    """
    global _barrier_counter
    if not isinstance(grid, Grid):
        raise TypeError(f"grid: expected a jaxqep.sweep.Grid, got {type(grid).__name__}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size: must be a positive int, got {chunk_size!r}")
    if on_corrupt not in ("raise", "recompute"):
        raise ValueError(f"on_corrupt: must be 'raise' or 'recompute', got {on_corrupt!r}")

    dtypes = tuple((k, str(v.dtype)) for k, v in grid.axes.items())
    full = _output_struct(fn, dtypes)  # static errors (shapes, types) surface here
    keep = list(full) if quantities is None else list(quantities)
    unknown = [q for q in keep if q not in full]
    if unknown:
        raise ValueError(f"quantities: unknown {unknown} (available: {', '.join(full)})")
    struct = {k: full[k] for k in keep}

    out_dims = _output_dims(struct, grid, dims, coords)
    labels = {k: np.asarray(v) for k, v in (coords or {}).items()}
    n_points = grid.size
    n_chunks = math.ceil(n_points / chunk_size)
    spec = {
        "function": name or _callable_id(fn),
        "grid": grid.spec(),
        "chunk_size": chunk_size,
        "outputs": {k: [list(s.shape), str(s.dtype)] for k, s in struct.items()},
        "jaxqep_version": _version(),
        "extra": spec_extra or {},
    }
    if dims or coords:  # labels change the store's layout: part of its identity
        spec["labels"] = {"dims": {k: list(v) for k, v in out_dims.items() if v},
                          "coords": {k: v.tolist() for k, v in labels.items()}}

    pidx, pcount = process_info()
    if pcount > 1 and store is None:
        raise ValueError("store: a multi-process sweep needs a shared store directory")
    chunk_store = None
    if store is not None:
        if overwrite:
            if pcount > 1:
                raise ValueError("overwrite: not allowed in a multi-process sweep")
            if (Path(store) / ".zattrs").exists():
                shutil.rmtree(store)
        layout = {
            "n_points": n_points,
            "chunk_size": chunk_size,
            "params": grid.points(0, n_points),
            "outputs": {k: (s.shape, s.dtype, out_dims[k]) for k, s in struct.items()},
            "coords": labels,
            "grid": {"mode": grid.mode, "names": list(grid.names),
                     "shape": list(grid.shape)},
        }
        if pcount == 1:
            chunk_store = ChunkStore(store, spec, n_chunks, layout)
        else:  # process 0 creates (or checks) the store, the others open it after a barrier
            error = None
            if pidx == 0:
                try:
                    chunk_store = ChunkStore(store, spec, n_chunks, layout)
                except Exception as e:  # noqa: BLE001 - re-raised after the barrier
                    error = e
            _barrier_counter += 1
            barrier(f"jaxqep-sweep-open-{_barrier_counter}", barrier_timeout)
            if error is not None:
                raise error
            if pidx != 0:
                chunk_store = ChunkStore(store, spec, n_chunks, layout, create=False)
    done = chunk_store.completed(on_corrupt) if chunk_store else set()

    mine = [k for k in range(n_chunks) if k % pcount == pidx]
    todo = [k for k in mine if k not in done]
    size = lambda k: min(chunk_size, n_points - k * chunk_size)
    ex = _executor(fn, tuple(keep), tuple(devices or jax.local_devices()), chunk_size)
    memory: dict[int, dict] = {}

    from tqdm.auto import tqdm

    bar = tqdm(
        total=sum(size(k) for k in mine),
        initial=sum(size(k) for k in mine if k in done),
        unit="pt",
        desc="sweep" if pcount == 1 else f"sweep[{pidx}/{pcount}]",
        disable=not (sys.stderr.isatty() if progress is None else progress),
    )
    n_failed_here = 0
    with bar, _quiet_callback_errors():
        for k in todo:
            params = grid.points(k * chunk_size, (k + 1) * chunk_size)
            outs = _evaluate_chunk(ex, params, struct)
            if chunk_store is not None:
                chunk_store.write_chunk(k, outs)
            else:
                memory[k] = outs
            n_failed_here += int(outs[_FAILED].sum())
            bar.update(size(k))
            if n_failed_here:
                bar.set_postfix(failed=n_failed_here)

    if pcount > 1:
        _barrier_counter += 1
        barrier(f"jaxqep-sweep-{chunk_store.hash[:16]}-{_barrier_counter}", barrier_timeout)  # type: ignore[union-attr]

    def load(k):
        return memory[k] if chunk_store is None else chunk_store.read_chunk(k)

    ds = _assemble(grid, struct, load, n_chunks, chunk_size, spec, chunk_store, out_dims,
                   labels)
    ds.attrs.update(n_devices=len(ex.devices), n_processes=pcount, n_computed_chunks=len(todo))
    return ds


def _output_dims(struct, grid, dims, coords) -> dict[str, tuple[str, ...]]:
    dims = dict(dims or {})
    unknown = [k for k in dims if k not in struct]
    if unknown:
        raise ValueError(f"dims: unknown output {unknown[0]!r} (outputs: {', '.join(struct)})")
    taken = set(grid.names) | set(struct) | {"point", "failed", "reason", "chunk_sha256"}
    out = {}
    for k, s in struct.items():
        names = tuple(dims.get(k, default_dims(k, s.shape)))
        if len(names) != len(s.shape) or not all(isinstance(d, str) for d in names):
            raise ValueError(f"dims.{k}: expected {len(s.shape)} dimension name(s) for an "
                             f"output of shape {tuple(s.shape)}, got {list(names)}")
        clash = [d for d in names if d in taken]
        if clash:
            raise ValueError(f"dims.{k}: dimension name {clash[0]!r} is already a parameter, "
                             "an output or a reserved name")
        out[k] = names
    sizes: dict[str, int] = {}
    for k, names in out.items():
        for d, n in zip(names, struct[k].shape):
            if sizes.setdefault(d, n) != n:
                raise ValueError(f"dims.{k}: dimension {d!r} has length {n} here and "
                                 f"{sizes[d]} in another output")
    for d, labels in (coords or {}).items():
        if d not in sizes:
            raise ValueError(f"coords.{d}: not a dimension of any output (dims: "
                             f"{', '.join(sizes) or 'none'})")
        if np.ndim(labels) != 1 or len(labels) != sizes[d]:
            raise ValueError(f"coords.{d}: expected {sizes[d]} labels, got {labels!r}")
    return out


def _assemble(grid, struct, load, n_chunks, chunk_size, spec, chunk_store, out_dims, labels):
    import xarray as xr

    n = grid.size
    data = {k: np.empty((n, *s.shape), s.dtype) for k, s in struct.items()}
    failed = np.zeros(n, bool)
    reasons = np.full(n, "", dtype=object)
    for k in range(n_chunks):
        c = load(k)
        sl = slice(k * chunk_size, min(n, (k + 1) * chunk_size))
        for name in data:
            data[name][sl] = c[name]
        failed[sl] = c[_FAILED]
        reasons[sl] = c[_REASON]

    variables = {name: (("point", *out_dims[name]), arr) for name, arr in data.items()}
    variables["failed"] = (("point",), failed)
    variables["reason"] = (("point",), reasons.astype(REASON_DTYPE))
    coords = {k: ("point", v) for k, v in grid.points(0, n).items()}
    coords.update({d: (d, v) for d, v in labels.items()})
    flat = xr.Dataset(variables, coords=coords)
    ds = to_grid(flat, {"mode": grid.mode, "names": list(grid.names), "shape": list(grid.shape)})
    ds.attrs = {
        "n_points": n,
        "n_failed": int(failed.sum()),
        "function": spec["function"],
        "grid_mode": grid.mode,
        "chunk_size": chunk_size,
        "spec_sha256": chunk_store.hash if chunk_store else "",
        "store": str(chunk_store.path) if chunk_store else "",
    }
    return ds
