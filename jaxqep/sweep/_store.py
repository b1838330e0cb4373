"""On-disk checkpoint of a sweep: a JSON manifest plus one ``.npz`` file per chunk.

Layout of a store directory::

    manifest.json                     format, the sweep spec and its SHA-256
    chunks/c000012-<sha16>.npz        outputs of chunk 12, <sha16> = SHA-256 of the file

Every file is written to a temporary name, fsynced and ``os.replace``-d into place, so a
chunk file either exists complete or not at all, whatever moment the process dies. The
checksum lives in the file *name*: one atomic rename publishes data and checksum
together, and a later bit flip or truncation is caught by re-hashing. Processes of a
multi-host sweep write disjoint chunks into the same directory without coordination.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, cast

import numpy as np

__all__ = ["CheckpointError", "ChunkStore"]

FORMAT = "jaxqep-sweep/1"
_CHUNK_RE = re.compile(r"^c(\d{6,})-([0-9a-f]{16})\.npz$")


class CheckpointError(RuntimeError):
    """A checkpoint store is corrupted or belongs to a different sweep."""


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    try:
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


def spec_hash(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


class ChunkStore:
    """A directory holding the finished chunks of one sweep.

    Opening a directory that already has a manifest checks that it describes the same
    sweep (else :class:`CheckpointError` naming the differing fields); a missing or empty
    directory is initialised.

    Args:
        path: the store directory.
        spec: JSON-able description of the sweep (function, grid, chunking, outputs,
            jaxqep version). Its hash identifies the sweep.
        n_chunks: number of chunks of the sweep.
    """

    def __init__(self, path: str | os.PathLike, spec: dict, n_chunks: int):
        self.path = Path(path)
        self.chunk_dir = self.path / "chunks"
        self.spec = spec
        self.hash = spec_hash(spec)
        self.n_chunks = int(n_chunks)
        manifest = self.path / "manifest.json"
        if not manifest.exists():
            # Ignore "chunks" and temp files: another process may be creating this store.
            foreign = self.path.exists() and any(
                p.name not in ("chunks", "manifest.json") and not p.name.startswith(".tmp-")
                for p in self.path.iterdir()
            )
            if foreign:
                raise CheckpointError(
                    f"{self.path}: directory is not empty and has no manifest.json; refusing "
                    "to use it as a sweep checkpoint (choose a new or empty directory)"
                )
            if self.chunk_dir.exists() and any(self.chunk_dir.glob("c*.npz")):
                raise CheckpointError(f"{self.path}: chunk files present but manifest.json missing")
            self.chunk_dir.mkdir(parents=True, exist_ok=True)
            # Deterministic content: processes racing to create it write the same bytes.
            body = {"format": FORMAT, "spec_sha256": self.hash, "n_chunks": self.n_chunks,
                    "spec": spec}
            _atomic_write(manifest, json.dumps(body, indent=1, sort_keys=True).encode())
        self._check_manifest(manifest)
        self.chunk_dir.mkdir(exist_ok=True)

    def _check_manifest(self, manifest: Path) -> None:
        try:
            body = json.loads(manifest.read_text())
            fmt, old_hash, old_spec = body["format"], body["spec_sha256"], body["spec"]
        except (ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"{manifest}: unreadable or corrupted manifest ({e})") from None
        if fmt != FORMAT:
            raise CheckpointError(f"{manifest}: unknown store format {fmt!r} (expected {FORMAT})")
        if spec_hash(old_spec) != old_hash:
            raise CheckpointError(f"{manifest}: corrupted manifest (spec does not match its hash)")
        if old_hash != self.hash:
            keys = sorted(
                k for k in set(old_spec) | set(self.spec) if old_spec.get(k) != self.spec.get(k)
            )
            raise CheckpointError(
                f"{self.path}: checkpoint belongs to a different sweep (differs in: "
                f"{', '.join(keys)}); use another directory or pass overwrite=True"
            )

    # -- chunks -----------------------------------------------------------------------

    def _listing(self) -> dict[int, list[Path]]:
        out: dict[int, list[Path]] = {}
        for p in self.chunk_dir.iterdir():
            m = _CHUNK_RE.match(p.name)
            if m:
                out.setdefault(int(m.group(1)), []).append(p)
        return out

    def _read_verified(self, p: Path) -> bytes:
        data = p.read_bytes()
        expected = _CHUNK_RE.match(p.name).group(2)  # type: ignore[union-attr]
        if hashlib.sha256(data).hexdigest()[:16] != expected:
            raise CheckpointError(
                f"{p}: corrupted chunk (checksum mismatch); delete it to recompute, or "
                "pass on_corrupt='recompute'"
            )
        return data

    def completed(self, on_corrupt: str = "raise") -> set[int]:
        """Indices of chunks saved intact. Verifies every checksum.

        Args:
            on_corrupt: ``"raise"`` (:class:`CheckpointError`) or ``"recompute"`` (delete
                the corrupted file so its chunk is computed again).
        """
        done = set()
        for k, paths in self._listing().items():
            if not 0 <= k < self.n_chunks:
                raise CheckpointError(
                    f"{paths[0]}: chunk index {k} out of range for a sweep of "
                    f"{self.n_chunks} chunks (mismatched checkpoint)"
                )
            for p in paths:
                try:
                    self._read_verified(p)
                    done.add(k)
                except CheckpointError:
                    if on_corrupt != "recompute":
                        raise
                    p.unlink(missing_ok=True)
        return done

    def write_chunk(self, k: int, arrays: dict[str, np.ndarray]) -> Path:
        """Atomically save chunk ``k`` (a dict of arrays)."""
        buf = io.BytesIO()
        np.savez(buf, **cast(dict[str, Any], arrays))
        data = buf.getvalue()
        path = self.chunk_dir / f"c{k:06d}-{hashlib.sha256(data).hexdigest()[:16]}.npz"
        _atomic_write(path, data)
        return path

    def read_chunk(self, k: int) -> dict[str, np.ndarray]:
        """Load chunk ``k`` after verifying its checksum."""
        paths = self._listing().get(k)
        if not paths:
            raise CheckpointError(f"{self.chunk_dir}: chunk {k} is missing")
        data = self._read_verified(sorted(paths)[0])
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                return {name: z[name] for name in z.files}
        except Exception as e:  # checksum fine but unreadable: written by something else
            raise CheckpointError(f"chunk {k} in {self.chunk_dir}: unreadable ({e})") from None
