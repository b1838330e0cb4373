"""Parameter sweeps at scale: chunked vmapped evaluation, checkpoint/resume, devices, hosts.

* `sweep` evaluates a model on a `Grid` in vmapped chunks (memory bounded by
  the chunk), shards each chunk over the local devices, records failing points instead of
  aborting, checkpoints chunk by chunk to a directory (resume after any interruption) and
  returns an ``xarray.Dataset`` labelled by the parameters. The store is a zarr group
  chunked along the sweep: ``xarray.open_zarr(store)`` reads it without jaxqep, and
  `open_results` reads it back in the layout `sweep` returns.
* Several processes or machines: start a ``jax.distributed`` job (see
  `initialize_distributed`), call `sweep` with the same arguments and a shared
  ``store`` in every process.
* `load_config` / `run_config`: sweeps described in TOML (``jaxqep sweep``),
  over the models in `MODELS`.
"""

from ._config import (
    ConfigError as ConfigError,
    SweepConfig as SweepConfig,
    load_config as load_config,
    parse_config as parse_config,
    run_config as run_config,
)
from ._distributed import initialize as initialize_distributed
from ._grid import Grid as Grid
from ._models import MODELS as MODELS, SweepModel as SweepModel, get_model as get_model
from ._runner import output_names as output_names, sweep as sweep
from ._store import (
    CheckpointError as CheckpointError,
    ChunkStore as ChunkStore,
    open_results as open_results,
)

__all__ = [
    "MODELS",
    "CheckpointError",
    "ChunkStore",
    "ConfigError",
    "Grid",
    "SweepConfig",
    "SweepModel",
    "get_model",
    "initialize_distributed",
    "load_config",
    "open_results",
    "output_names",
    "parse_config",
    "run_config",
    "sweep",
]
