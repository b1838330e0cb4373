"""Parameter grids: cartesian products or zipped lists of scalar parameters."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Literal

import numpy as np

__all__ = ["Grid"]


def _as_axis(name: str, values) -> np.ndarray:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"grid: parameter names must be Python identifiers, got {name!r}")
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"grid.{name}: expected a 1-D list of values, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"grid.{name}: must have at least one value")
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"grid.{name}: expected numbers, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.inexact):
        arr = arr.astype(np.float64)  # one compiled program for ints and floats alike
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"grid.{name}: contains NaN or inf")
    return arr


class Grid:
    """A set of parameter points, either the cartesian product of axes or zipped lists.

    Points are numbered in C order (the last axis varies fastest); chunks of a sweep are
    contiguous ranges of that numbering, so the numbering is part of the checkpoint spec.

    Args:
        axes: mapping ``name -> 1-D values`` (insertion order is the axis order).
        mode: ``"cartesian"`` (every combination) or ``"zip"`` (the i-th point takes the
            i-th value of every axis; all axes must have the same length).

    Example:
        >>> from jaxqep.sweep import Grid
        >>> grid = Grid.cartesian(g=[0.1, 0.2, 0.3], lam=[0.2, 0.5])
        >>> grid.shape, grid.size
        ((3, 2), 6)
        >>> {k: v.tolist() for k, v in grid.points(0, 3).items()}
        {'g': [0.1, 0.1, 0.2], 'lam': [0.2, 0.5, 0.2]}
    """

    def __init__(
        self, axes: Mapping[str, object], mode: Literal["cartesian", "zip"] = "cartesian"
    ):
        if mode not in ("cartesian", "zip"):
            raise ValueError(f"grid: mode must be 'cartesian' or 'zip', got {mode!r}")
        if not axes:
            raise ValueError("grid: needs at least one swept parameter")
        self.mode: str = mode
        self.axes: dict[str, np.ndarray] = {k: _as_axis(k, v) for k, v in axes.items()}
        lengths = {k: v.size for k, v in self.axes.items()}
        if mode == "zip" and len(set(lengths.values())) > 1:
            raise ValueError(f"grid: zipped parameters must have equal lengths, got {lengths}")

    @classmethod
    def cartesian(cls, **axes) -> Grid:
        """Every combination of the given axes (``Grid.cartesian(g=[...], lam=[...])``)."""
        return cls(axes, "cartesian")

    @classmethod
    def zip(cls, **axes) -> Grid:
        """Point ``i`` takes the ``i``-th value of every axis."""
        return cls(axes, "zip")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the result arrays: one dimension per axis, or ``(n,)`` when zipped."""
        if self.mode == "zip":
            return (next(iter(self.axes.values())).size,)
        return tuple(v.size for v in self.axes.values())

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def points(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Parameter values of the flat points ``start <= i < stop``."""
        idx = np.arange(start, min(stop, self.size))
        if self.mode == "zip":
            return {k: v[idx] for k, v in self.axes.items()}
        multi = np.unravel_index(idx, self.shape)
        return {k: v[m] for (k, v), m in zip(self.axes.items(), multi)}

    def spec(self) -> dict:
        """JSON-able description used in checkpoint manifests (values hashed bit-exactly)."""
        h = hashlib.sha256()
        for k, v in self.axes.items():
            h.update(k.encode())
            h.update(str(v.dtype).encode())
            h.update(np.ascontiguousarray(v).tobytes())
        return {
            "mode": self.mode,
            "names": list(self.names),
            "shape": list(self.shape),
            "values_sha256": h.hexdigest(),
        }

    def __repr__(self) -> str:
        axes = ", ".join(f"{k}[{v.size}]" for k, v in self.axes.items())
        return f"Grid({self.mode}: {axes})"
