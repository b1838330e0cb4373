"""On-disk store of a sweep: a zarr group that xarray reads directly, chunked along the sweep.

Layout of a store directory (zarr format 2, consolidated metadata)::

    .zattrs, .zgroup, .zmetadata        format, the sweep spec and its SHA-256, the grid
    point/, <parameter>/ ...            parameter values of every point (coordinates)
    <output>/                           one array per output, shape (n_points, *extra)
    failed/, reason/                    whether each point failed, and why ("" if it did not)
    chunk_sha256/                       per sweep chunk: SHA-256 of its data ("" = not done)

Every output array is chunked along the flat ``point`` dimension with the sweep's
``chunk_size``: sweep chunk ``k`` is zarr chunk ``k`` of every array. ``xarray.open_zarr``
opens the store without jaxqep (one ``point`` dimension with the parameters as
coordinates; ``ds.set_index(point=[...]).unstack("point")`` gives the grid of a cartesian
sweep, and `open_results` does that for you).

Resume and integrity: a chunk counts as done once its ``chunk_sha256`` entry is written,
which happens after all its data. On reopening, every finished chunk is read back and
re-hashed, so a truncated or altered chunk file is caught (`CheckpointError`, or
recomputed with ``on_corrupt="recompute"``). zarr writes each file to a temporary name and
renames it, so a file is complete or absent; temporary files a killed run left behind are
removed when the store is opened. Processes of a multi-host sweep write disjoint chunks.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["CheckpointError", "ChunkStore", "open_results"]

FORMAT = "jaxqep-sweep/2"
REASON_DTYPE = "<U300"
_FAILED, _REASON, _HASH = "__failed__", "__reason__", "chunk_sha256"


class CheckpointError(RuntimeError):
    """A sweep store is corrupted, incomplete or belongs to a different sweep.

    Attributes:
        fix: ``None``, or the keyword argument of `jaxqep.sweep.sweep` that resolves
            the problem (``"overwrite"`` or ``"on_corrupt"``), so that a command line can
            name its own flag instead.
    """

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.fix = fix


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, with the permissions of a plain ``open``."""
    prefix = f".tmp-{path.name}-{socket.gethostname()}-{os.getpid()}-"
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600 files; results are for sharing
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable (best effort: not every FS allows it)
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(root: Path) -> list[Path]:
    """Delete temporary files that killed writers left under ``root``; return them.

    Removed: ``.tmp-*`` files of `_atomic_write` written on this host by a process
    that no longer runs, and zarr's ``*.partial`` files (only called while no other
    process writes the store).
    """
    removed = []
    if not root.exists():
        return removed
    host = socket.gethostname()
    for p in root.rglob("*"):
        if not p.is_file():
            continue
        stale = p.name.endswith(".partial")
        if p.name.startswith(".tmp-"):
            parts = p.name.rsplit("-", 3)  # .tmp-<name>-<host>-<pid>-<random>
            try:
                stale = parts[-3].endswith(host) and not _pid_alive(int(parts[-2]))
            except (ValueError, IndexError):
                stale = False
        if stale:
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def spec_hash(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def _zarr():
    import zarr

    return zarr


def chunk_digest(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 of one chunk's arrays (names sorted, C-order bytes)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype).encode())
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


class ChunkStore:
    """A zarr store holding the finished chunks of one sweep.

    Opening a directory that already holds a sweep checks that it is the same sweep (else
    `CheckpointError` naming the differing fields, and nothing is written); a
    missing or empty directory is initialised.

    Args:
        path: the store directory.
        spec: JSON-able description of the sweep (function, grid, chunking, outputs,
            jaxqep version). Its hash identifies the sweep.
        n_chunks: number of chunks of the sweep.
        layout: the arrays to create (only used when the store is new): ``n_points``,
            ``chunk_size``, ``params`` (name -> values of every point), ``outputs``
            (name -> (extra shape, dtype, extra dimension names)), ``coords`` (label
            dimension -> labels) and ``grid`` (mode, names, shape).
        create: whether this process may create the store (in a multi-process sweep only
            process 0 does; the others open what it created).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        spec: dict,
        n_chunks: int,
        layout: dict | None = None,
        create: bool = True,
    ):
        self.path = Path(path)
        self.spec = spec
        self.hash = spec_hash(spec)
        self.n_chunks = int(n_chunks)
        zarr = _zarr()
        attrs_file = self.path / ".zattrs"
        if not attrs_file.exists():
            if not create:
                raise CheckpointError(f"{self.path}: no sweep store here (process 0 creates it)")
            if self.path.exists() and any(
                not p.name.startswith(".tmp-") for p in self.path.iterdir()
            ):
                raise CheckpointError(
                    f"{self.path}: directory is not empty and holds no jaxqep sweep; refusing "
                    "to use it as a sweep store (choose a new or empty directory)"
                )
            if layout is None:
                raise CheckpointError(f"{self.path}: no sweep store here")
            self._create(layout)
        else:
            self._check_attrs(attrs_file)
            if create:
                remove_stale_temporaries(self.path)
        self.group = zarr.open_group(str(self.path), mode="r+", zarr_format=2)
        meta: Any = self.group.attrs["jaxqep"]
        self.outputs = [str(n) for n in meta["outputs"]] + [_FAILED, _REASON]
        self.chunk_size = int(meta["chunk_size"])

    # -- creation and identity --------------------------------------------------------

    def _create(self, layout: dict) -> None:
        zarr = _zarr()
        self.path.mkdir(parents=True, exist_ok=True)
        g = zarr.open_group(str(self.path), mode="w", zarr_format=2)
        n, c = int(layout["n_points"]), int(layout["chunk_size"])

        def arr(name, shape, chunks, dtype, dims, fill):
            return g.create_array(
                name, shape=shape, chunks=chunks, dtype=dtype, fill_value=fill,
                attributes={"_ARRAY_DIMENSIONS": list(dims)},
            )

        arr("point", (n,), (c,), "i8", ["point"], None)[:] = np.arange(n)
        for name, values in layout["params"].items():
            values = np.asarray(values)
            arr(name, (n,), (c,), values.dtype, ["point"], None)[:] = values
        for dim, labels in layout["coords"].items():
            labels = np.asarray(labels)
            arr(dim, labels.shape, labels.shape, labels.dtype, [dim], None)[:] = labels
        coord_attr = {"coordinates": " ".join(layout["params"])}
        for name, (shape, dtype, dims) in layout["outputs"].items():
            dt = np.dtype(dtype)
            # NaN marks "not computed" in float outputs; other dtypes get no fill value
            # (xarray would otherwise decode every 0 of an int output as missing).
            fill = np.nan if np.issubdtype(dt, np.inexact) else None
            arr(name, (n, *shape), (c, *shape), dt, ["point", *dims], fill).attrs.update(
                coord_attr)
        arr("failed", (n,), (c,), bool, ["point"], None).attrs.update(coord_attr)
        arr("reason", (n,), (c,), REASON_DTYPE, ["point"], None).attrs.update(coord_attr)
        arr(_HASH, (self.n_chunks,), (1,), "<U64", ["sweep_chunk"], None)
        g.attrs["jaxqep"] = {
            "format": FORMAT,
            "spec_sha256": self.hash,
            "n_chunks": self.n_chunks,
            "chunk_size": c,
            "outputs": list(layout["outputs"]),
            "grid": layout["grid"],
            "spec": self.spec,
        }
        g.attrs["title"] = f"jaxqep sweep of {self.spec.get('function', '?')}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zarr: "consolidated metadata is not in spec v3"
            zarr.consolidate_metadata(str(self.path), zarr_format=2)

    def _check_attrs(self, attrs_file: Path) -> None:
        try:
            body = json.loads(attrs_file.read_text())["jaxqep"]
            fmt, old_hash, old_spec = body["format"], body["spec_sha256"], body["spec"]
        except (ValueError, KeyError, TypeError) as e:
            raise CheckpointError(
                f"{attrs_file}: not a jaxqep sweep store, or its attributes are corrupted ({e})"
            ) from None
        if fmt != FORMAT:
            raise CheckpointError(
                f"{attrs_file}: unknown store format {fmt!r} (expected {FORMAT})", "overwrite"
            )
        if spec_hash(old_spec) != old_hash:
            raise CheckpointError(f"{attrs_file}: corrupted attributes (spec does not match "
                                  "its hash)", "overwrite")
        if old_hash != self.hash:
            keys = sorted(
                k for k in set(old_spec) | set(self.spec) if old_spec.get(k) != self.spec.get(k)
            )
            detail = "; ".join(_spec_diff(k, old_spec.get(k), self.spec.get(k)) for k in keys)
            raise CheckpointError(
                f"{self.path}: the store holds a different sweep ({detail}); use another "
                "directory or pass overwrite=True",
                "overwrite",
            )

    # -- chunks -----------------------------------------------------------------------

    def _region(self, k: int) -> slice:
        n = self._array("point").shape[0]
        return slice(k * self.chunk_size, min(n, (k + 1) * self.chunk_size))

    def _array(self, name: str) -> Any:
        """The zarr array ``name`` of the store (typed loosely: zarr's stubs return a union)."""
        return self.group[name]

    def _zname(self, name: str) -> str:
        return {"__failed__": "failed", "__reason__": "reason"}.get(name, name)

    def completed(self, on_corrupt: str = "raise") -> set[int]:
        """Indices of chunks saved intact. Reads every finished chunk back and re-hashes it.

        Args:
            on_corrupt: ``"raise"`` (`CheckpointError`) or ``"recompute"`` (forget
                the corrupted chunk so that it is computed again).

        Returns:
            The set of finished chunk indices.
        """
        digests = self._array(_HASH)[:]
        done = set()
        for k in np.flatnonzero(digests != ""):
            k = int(k)
            try:
                ok = chunk_digest(self._read(k)) == digests[k]
                why = "checksum mismatch"
            except Exception as e:  # noqa: BLE001 - undecodable chunk file
                ok, why = False, f"unreadable: {type(e).__name__}"
            if ok:
                done.add(k)
                continue
            if on_corrupt != "recompute":
                raise CheckpointError(
                    f"{self.path}: chunk {k} is corrupted ({why}); delete the store to start "
                    "again, or pass on_corrupt='recompute' to recompute that chunk",
                    "on_corrupt",
                )
            self._array(_HASH)[k] = ""
        return done

    def _read(self, k: int) -> dict[str, np.ndarray]:
        sl = self._region(k)
        return {name: self._array(self._zname(name))[sl] for name in self.outputs}

    def write_chunk(self, k: int, arrays: dict[str, np.ndarray]) -> str:
        """Save chunk ``k`` (a dict of arrays), then mark it done; returns its digest."""
        sl = self._region(k)
        data = {}
        for name in self.outputs:
            target = self._array(self._zname(name))
            data[name] = np.asarray(arrays[name]).astype(target.dtype, copy=False)
            target[sl] = data[name]
        digest = chunk_digest(data)
        self._array(_HASH)[k] = digest
        return digest

    def read_chunk(self, k: int) -> dict[str, np.ndarray]:
        """Load chunk ``k`` (it must be done; verified by `completed`)."""
        if self._array(_HASH)[k] == "":
            raise CheckpointError(f"{self.path}: chunk {k} is missing")
        return self._read(k)


def _spec_diff(key: str, old, new) -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        sub = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        return ", ".join(_spec_diff(f"{key}.{k}", old.get(k), new.get(k)) for k in sub)
    short = lambda v: (s if len(s := json.dumps(v)) <= 60 else s[:57] + "...")
    return f"{key}: store has {short(old)}, this sweep {short(new)}"


def open_results(path: str | os.PathLike, *, allow_incomplete: bool = False) -> xr.Dataset:
    """Open a sweep store as the labelled ``xarray.Dataset`` that `sweep` returned.

    Needs no config and no model: the store carries its grid. (Without jaxqep,
    ``xarray.open_zarr(path)`` reads the same numbers over a flat ``point`` dimension.)

    Args:
        path: the store directory (``output.dir`` of a TOML sweep).
        allow_incomplete: return an unfinished sweep (missing points are NaN and
            ``failed``) instead of raising.

    Returns:
        An ``xarray.Dataset`` with one dimension per parameter (cartesian grids) or a
        ``point`` dimension (zipped grids), plus ``failed`` and ``reason``.

    Raises:
        CheckpointError: ``path`` holds no sweep, or the sweep is unfinished.

    Example:
        >>> import tempfile, jaxqep.sweep as sw
        >>> d = tempfile.mkdtemp() + "/store"
        >>> _ = sw.sweep(lambda x: {"y": 2 * x}, sw.Grid.cartesian(x=[1.0, 2.0]), store=d)
        >>> sw.open_results(d).y.values.tolist()
        [2.0, 4.0]
    """
    import xarray as xr

    p = Path(path)
    try:
        meta = json.loads((p / ".zattrs").read_text())["jaxqep"]
    except (OSError, ValueError, KeyError) as e:
        raise CheckpointError(f"{p}: no jaxqep sweep store here ({e})") from None
    ds = xr.open_zarr(str(p)).load()
    digests = ds[_HASH].values
    n_done = int(np.sum(digests != ""))
    if n_done < meta["n_chunks"] and not allow_incomplete:
        raise CheckpointError(
            f"{p}: unfinished sweep ({n_done} of {meta['n_chunks']} chunks done); rerun it "
            "to resume, or pass allow_incomplete=True"
        )
    ds = ds.drop_vars(_HASH)
    if n_done < meta["n_chunks"]:
        for k in np.flatnonzero(digests == ""):
            sl = slice(int(k) * meta["chunk_size"], (int(k) + 1) * meta["chunk_size"])
            ds["failed"][sl] = True
            ds["reason"][sl] = "not computed (unfinished sweep)"
    ds = to_grid(ds, meta["grid"])
    ds.attrs = {
        "n_points": int(ds["failed"].size),
        "n_failed": int(ds["failed"].values.sum()),
        "function": meta["spec"]["function"],
        "grid_mode": meta["grid"]["mode"],
        "chunk_size": meta["chunk_size"],
        "spec_sha256": meta["spec_sha256"],
        "store": str(p),
    }
    return ds


def to_grid(flat, grid: dict):
    """Reshape a dataset over ``point`` (C order) to one dimension per cartesian axis."""
    import xarray as xr

    names, shape = list(grid["names"]), tuple(grid["shape"])
    if grid["mode"] != "cartesian":
        return flat.drop_vars("point", errors="ignore")
    coords = {}
    for i, k in enumerate(names):
        idx: list[int | slice] = [0] * len(names)
        idx[i] = slice(None)
        coords[k] = np.asarray(flat[k].values).reshape(shape)[tuple(idx)]
    variables = {}
    for name, da in flat.data_vars.items():
        if "point" not in da.dims:
            continue
        rest = [d for d in da.dims if d != "point"]
        arr = da.transpose("point", *rest).values
        variables[name] = (tuple(names) + tuple(rest), arr.reshape(shape + arr.shape[1:]))
    for name, c in flat.coords.items():
        if "point" not in c.dims and name not in coords:
            coords[name] = c
    return xr.Dataset(variables, coords=coords)


def default_dims(name: str, shape: Sequence[int]) -> tuple[str, ...]:
    return tuple(f"{name}_dim{i}" for i in range(len(shape)))
