"""Sweeps described in TOML files (``jaxqep sweep CONFIG.toml``).

Format::

    model = "three_qubit_chain"        # see `jaxqep models`

    [parameters]                       # fixed values
    eA = 0.08
    ...

    [grid]                             # swept values: a list or {start, stop, num[, scale]}
    mode = "cartesian"                 # or "zip"
    g = {start = 0.01, stop = 0.2, num = 20}
    lam = [0.2, 0.5]

    [output]
    dir = "out_sweep"                  # zarr store (xarray.open_zarr) + results
    chunk_size = 64
    quantities = ["total", "parts"]    # default: every output
    plot = true                        # results.png of the first quantity

Every model parameter must be given exactly once, in ``[parameters]`` or ``[grid]``.
Validation is strict: any unknown key, missing parameter or wrong type raises
`ConfigError` (a ``ValueError``) with a one-line message naming the key, before
anything is written.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

import numpy as np
import tomllib

if TYPE_CHECKING:
    import xarray as xr

from ._grid import Grid
from ._models import MODELS, SweepModel
from ._runner import sweep

__all__ = ["ConfigError", "SweepConfig", "load_config", "parse_config", "run_config"]


class ConfigError(ValueError):
    """An invalid sweep configuration (the message names the offending key)."""


@dataclasses.dataclass
class SweepConfig:
    """A validated sweep description (see the module docstring for the TOML format)."""

    model: SweepModel
    parameters: dict[str, float | int]
    grid: Grid
    out_dir: Path
    chunk_size: int = 256
    quantities: list[str] | None = None
    plot: bool = True

    def function(self):
        """The model with its fixed parameters bound (a function of the swept ones)."""
        return functools.partial(self.model.fn, **self.parameters)

    def spec_extra(self) -> dict:
        return {"model": self.model.name, "parameters": self.parameters}

    def labels(self) -> tuple[dict, dict]:
        """``(dims, coords)`` for the outputs this sweep keeps (e.g. ``reservoir = A, B``)."""
        from ._runner import output_names

        dims, coords = self.model.output_labels(self.parameters)
        example = {k: float(v[0]) for k, v in self.grid.axes.items()}
        names = output_names(self.function(), **example)
        keep = set(names if self.quantities is None else self.quantities)
        dims = {k: v for k, v in dims.items() if k in keep}
        used = {d for v in dims.values() for d in v}
        return dims, {k: v for k, v in coords.items() if k in used}


@overload
def _number(value, key: str, kind: Literal["int"]) -> int: ...
@overload
def _number(value, key: str, kind: Literal["float"]) -> float: ...
@overload
def _number(value, key: str, kind: str) -> int | float: ...
def _number(value, key: str, kind: str) -> int | float:
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {_tname(value)} {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{key}: expected a number, got {_tname(value)} {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{key}: must be finite, got {value!r}")
    return float(value)


def _tname(v) -> str:
    return {str: "string", bool: "boolean", list: "array", dict: "table"}.get(
        type(v), type(v).__name__
    )


def _table(raw: dict, key: str) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{key}]: expected a table, got {_tname(value)}")
    return value


def _axis(value, key: str) -> np.ndarray:
    if isinstance(value, list):
        if not value:
            raise ConfigError(f"{key}: empty list of values")
        return np.array([_number(v, f"{key}[{i}]", "float") for i, v in enumerate(value)])
    if isinstance(value, dict):
        allowed = {"start", "stop", "num", "scale"}
        extra = set(value) - allowed
        if extra:
            raise ConfigError(
                f"{key}: unknown key {sorted(extra)[0]!r} (allowed: start, stop, num, scale)"
            )
        missing = [k for k in ("start", "stop", "num") if k not in value]
        if missing:
            raise ConfigError(f"{key}: missing {missing[0]!r} (a range needs start, stop, num)")
        start = _number(value["start"], f"{key}.start", "float")
        stop = _number(value["stop"], f"{key}.stop", "float")
        num = _number(value["num"], f"{key}.num", "int")
        if num < 1:
            raise ConfigError(f"{key}.num: must be >= 1, got {num}")
        scale = value.get("scale", "linear")
        if scale == "linear":
            return np.linspace(start, stop, num)
        if scale == "log":
            if start <= 0 or stop <= 0:
                raise ConfigError(f"{key}: a log range needs start > 0 and stop > 0")
            return np.geomspace(start, stop, num)
        raise ConfigError(f"{key}.scale: must be 'linear' or 'log', got {scale!r}")
    return np.array([_number(value, key, "float")])


def parse_config(raw: dict, base_dir: str | os.PathLike = ".") -> SweepConfig:
    """Validate a parsed TOML document into a `SweepConfig`.

    Args:
        raw: the ``tomllib``-parsed document.
        base_dir: directory relative output paths are resolved against.

    Raises:
        ConfigError: the first problem found, naming its key.
    """
    unknown = set(raw) - {"model", "parameters", "grid", "output"}
    if unknown:
        raise ConfigError(f"unknown top-level key {sorted(unknown)[0]!r} "
                          "(allowed: model, parameters, grid, output)")
    if "model" not in raw:
        raise ConfigError(f"model: missing (one of: {', '.join(MODELS)})")
    name = raw["model"]
    if not isinstance(name, str):
        raise ConfigError(f"model: expected a string, got {_tname(name)}")
    if name not in MODELS:
        raise ConfigError(f"model: unknown model {name!r} (known: {', '.join(MODELS)})")
    model = MODELS[name]

    fixed_raw, grid_raw = _table(raw, "parameters"), _table(raw, "grid")
    out_raw = _table(raw, "output")
    grid_raw = dict(grid_raw)
    mode = grid_raw.pop("mode", "cartesian")
    if mode not in ("cartesian", "zip"):
        raise ConfigError(f"grid.mode: must be 'cartesian' or 'zip', got {mode!r}")
    for section, table in (("parameters", fixed_raw), ("grid", grid_raw)):
        for key in table:
            if key not in model.params:
                raise ConfigError(f"{section}.{key}: unknown parameter for model {name!r} "
                                  f"(known: {', '.join(model.params)})")
    both = set(fixed_raw) & set(grid_raw)
    if both:
        k = sorted(both)[0]
        raise ConfigError(f"{k}: given in both [parameters] and [grid]")
    missing = [k for k in model.params if k not in fixed_raw and k not in grid_raw]
    if missing:
        raise ConfigError(f"parameters: missing {', '.join(missing)} for model {name!r} "
                          "(give each in [parameters] or [grid])")
    if not grid_raw:
        raise ConfigError("grid: no swept parameter (put at least one parameter in [grid])")

    fixed = {k: _number(v, f"parameters.{k}", model.params[k].kind) for k, v in fixed_raw.items()}
    for k, v in fixed.items():  # a fixed value out of its domain fails every point: say so now
        why = model.params[k].violation(v)
        if why:
            raise ConfigError(f"parameters.{k}: {why}, got {v!r} ({model.params[k].doc}); "
                              "every point of the sweep would fail")
    axes = {}
    for k, v in grid_raw.items():
        if model.params[k].kind != "float":
            raise ConfigError(f"grid.{k}: {model.params[k].kind} parameter of model {name!r} "
                              "is static (it fixes array shapes) and cannot be swept")
        axes[k] = _axis(v, f"grid.{k}")
        whys = [model.params[k].violation(float(x)) for x in axes[k]]
        if all(whys):
            raise ConfigError(f"grid.{k}: every value violates the condition ({whys[0]}; "
                              f"{model.params[k].doc}); every point of the sweep would fail")
    try:
        grid = Grid(axes, mode)
    except (ValueError, TypeError) as e:
        raise ConfigError(str(e)) from None

    unknown = set(out_raw) - {"dir", "chunk_size", "quantities", "plot"}
    if unknown:
        raise ConfigError(f"output.{sorted(unknown)[0]}: unknown key "
                          "(allowed: dir, chunk_size, quantities, plot)")
    out_dir = out_raw.get("dir", "sweep_out")
    if not isinstance(out_dir, str) or not out_dir:
        raise ConfigError(f"output.dir: expected a non-empty string, got {_tname(out_dir)}")
    chunk = _number(out_raw.get("chunk_size", 256), "output.chunk_size", "int")
    if chunk < 1:
        raise ConfigError(f"output.chunk_size: must be >= 1, got {chunk}")
    quantities = out_raw.get("quantities")
    if quantities is not None and (
        not isinstance(quantities, list) or not all(isinstance(q, str) for q in quantities)
    ):
        raise ConfigError("output.quantities: expected an array of strings")
    plot = out_raw.get("plot", True)
    if not isinstance(plot, bool):
        raise ConfigError(f"output.plot: expected a boolean, got {_tname(plot)}")
    cfg = SweepConfig(model, fixed, grid, Path(base_dir) / out_dir, chunk, quantities, plot)
    if quantities is not None:
        from ._runner import output_names

        example = {k: float(v[0]) for k, v in axes.items()}
        try:
            names = output_names(cfg.function(), **example)
        except Exception as e:  # a model that cannot even be traced with these values
            raise ConfigError(f"parameters: model {name!r} rejects them ({e})") from None
        bad = [q for q in quantities if q not in names]
        if bad:
            raise ConfigError(f"output.quantities: unknown quantity {bad[0]!r} "
                              f"(available: {', '.join(names)})")
    return cfg


def load_config(path: str | os.PathLike, base_dir: str | os.PathLike = ".") -> SweepConfig:
    """Read and validate a TOML sweep file.

    Args:
        path: the TOML file.
        base_dir: directory a relative ``output.dir`` is resolved against (default: the
            current working directory, as for ``jaxqep sweep``).

    Returns:
        The validated `SweepConfig`.

    Raises:
        ConfigError: the file cannot be read, is not TOML, or fails validation. Every
            message starts with the file name, once.

    Example:
        >>> import pathlib, tempfile
        >>> from jaxqep.sweep import load_config
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
        >>> _ = p.write_text('model = "three_qubit"')
        >>> load_config(p)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        jaxqep.sweep._config.ConfigError: ...s.toml: model: unknown model 'three_qubit' (...)
    """
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML ({e})") from None
    try:
        return parse_config(raw, base_dir)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def run_config(cfg: SweepConfig, *, progress: bool | None = None, on_corrupt: str = "raise",
               overwrite: bool = False) -> xr.Dataset:
    """Run a configured sweep; write its results next to the checkpoint.

    Files in ``cfg.out_dir``: the zarr store (``.zattrs``, one folder per array),
    then, only once every chunk is done, ``results.npz`` (every quantity, with the
    parameter values), ``results.csv`` (one row per point: parameters, scalar and
    flattened vector quantities, ``failed``, ``reason``), ``results.png`` (if ``plot``)
    and, written last, ``summary.json`` with ``"complete": true``. An interrupted run
    leaves no ``summary.json``; rerunning it resumes.

    Vector outputs are labelled (``parts`` and ``fluxes`` over ``reservoir = A, B`` for
    the three-qubit chain, ``site`` for Gaussian chains). To read the results again later,
    without the config: `jaxqep.sweep.open_results` on ``cfg.out_dir``.

    Args:
        cfg: the sweep (from `load_config` or `parse_config`).
        progress: show a progress bar (``None``: when stderr is a terminal).
        on_corrupt: ``"raise"`` or ``"recompute"`` for corrupted chunks.
        overwrite: discard an existing store in ``cfg.out_dir`` first.

    Returns:
        The ``xarray.Dataset`` of `jaxqep.sweep.sweep`.
    """
    out = cfg.out_dir
    dims, coords = cfg.labels()
    # An existing summary.json is never stale: a store only ever holds one sweep (a
    # different one is refused, overwrite=True deletes the directory), and it was written
    # after that sweep completed.
    ds = sweep(
        cfg.function(),
        cfg.grid,
        chunk_size=cfg.chunk_size,
        store=out,
        quantities=cfg.quantities,
        name=f"jaxqep.sweep.models.{cfg.model.name}",
        spec_extra=cfg.spec_extra(),
        progress=progress,
        on_corrupt=on_corrupt,
        overwrite=overwrite,
        dims=dims,
        coords=coords,
    )
    import jax

    if jax.process_index() != 0:
        return ds
    files = _write_results(ds, cfg)
    failed = ds["failed"].values.reshape(-1)
    reasons = ds["reason"].values.reshape(-1)
    params = _flat_params(ds, cfg.grid)
    summary = {
        "complete": True,
        "model": cfg.model.name,
        "parameters": cfg.parameters,
        "grid": {"mode": cfg.grid.mode, "shape": list(cfg.grid.shape),
                 "names": list(cfg.grid.names)},
        "n_points": int(failed.size),
        "n_failed": int(failed.sum()),
        "failures": [
            {"index": int(i), "parameters": {k: float(v[i]) for k, v in params.items()},
             "reason": str(reasons[i])}
            for i in np.flatnonzero(failed)[:100]
        ],
        "files": files + ["summary.json"],
        "store": "zarr (xarray.open_zarr, or jaxqep.sweep.open_results)",
        "spec_sha256": ds.attrs["spec_sha256"],
    }
    from ._store import _atomic_write

    _atomic_write(out / "summary.json", json.dumps(summary, indent=1).encode())
    return ds


def _flat_params(ds, grid: Grid) -> dict[str, np.ndarray]:
    return grid.points(0, grid.size)


def _write_results(ds, cfg: SweepConfig) -> list[str]:
    from ._store import _atomic_write

    out = cfg.out_dir
    grid = cfg.grid
    params = _flat_params(ds, grid)
    qnames = [v for v in ds.data_vars if v not in ("failed", "reason")]
    n = grid.size
    flat = {q: ds[q].values.reshape(n, -1) for q in qnames}

    import io

    buf = io.BytesIO()
    np.savez(buf, **{f"param_{k}": v for k, v in params.items()},
             **{q: ds[q].values for q in qnames},
             failed=ds["failed"].values, reason=ds["reason"].values.astype(str),
             grid_shape=np.array(grid.shape), grid_mode=np.array(grid.mode))
    _atomic_write(out / "results.npz", buf.getvalue())

    cols, columns = list(params), [params[k] for k in params]
    for q, arr in flat.items():
        if np.iscomplexobj(arr):
            arr = arr.real if np.all(arr.imag == 0) else arr
        if arr.shape[1] == 1:
            cols.append(q)
            columns.append(arr[:, 0])
        elif arr.shape[1] <= 16:  # small vectors (parts, fluxes) get one column each
            da = ds[q]
            extra = [d for d in da.dims if d not in grid.names and d != "point"]
            if len(extra) == 1 and extra[0] in da.coords:
                cols += [f"{q}[{lab}]" for lab in da.coords[extra[0]].values]
            else:
                cols += [f"{q}[{i}]" for i in range(arr.shape[1])]
            columns += list(arr.T)
    lines = [",".join(cols + ["failed", "reason"])]
    fails, reasons = ds["failed"].values.reshape(-1), ds["reason"].values.reshape(-1)
    for i in range(n):
        row = [repr(complex(c[i])) if np.iscomplexobj(c) else repr(float(c[i])) for c in columns]
        reason = str(reasons[i]).replace('"', "'")
        lines.append(",".join(row + [str(bool(fails[i])).lower(), f'"{reason}"']))
    _atomic_write(out / "results.csv", ("\n".join(lines) + "\n").encode())
    files = [".zattrs", "results.npz", "results.csv"]  # .zattrs: the zarr store
    if cfg.plot and qnames:
        _plot(ds, cfg, qnames, out / "results.png")
        files.append("results.png")
    return files


def _plot(ds, cfg: SweepConfig, qnames: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q = "total" if "total" in qnames else qnames[0]
    da = ds[q]
    extra = [d for d in da.dims if d not in cfg.grid.names and d != "point"]
    if extra:  # vector quantity: plot its first component
        da = da.isel({d: 0 for d in extra})
    da = np.real(da)
    fig, ax = plt.subplots(figsize=(6, 4))
    grid = cfg.grid
    if grid.mode == "zip" or len(grid.names) == 1:
        x = grid.names[0]
        xs = grid.axes[x]
        ax.plot(xs, np.asarray(da).reshape(-1), "o-", ms=3)
        ax.set_xlabel(x)
    else:  # first parameter on the x axis, one curve per value of the others (at most 12)
        x = grid.names[0]
        other = da.stack(curve=list(grid.names[1:])).transpose(x, "curve")
        for j in range(min(other.sizes["curve"], 12)):
            label = ", ".join(f"{k}={float(other['curve'].values[j][i]):.3g}"
                              for i, k in enumerate(grid.names[1:]))
            ax.plot(grid.axes[x], other.values[:, j], "o-", ms=3, label=label)
        ax.legend(fontsize=7)
        ax.set_xlabel(x)
    ax.set_ylabel(q)
    ax.set_title(f"{cfg.model.name}: {q}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
