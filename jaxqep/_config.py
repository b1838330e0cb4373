"""Process-wide JAX settings that jaxqep needs, applied once at import.

Two things are configured here, both documented in the README:

* **Float64 by default.** Entropy production involves logarithms of nearly
  singular density matrices and small differences of large numbers; float32
  loses most digits.  ``import jaxqep`` therefore turns on
  ``jax_enable_x64`` unless the environment variable ``JAXQEP_ENABLE_X64=0``
  is set (then the user is responsible for the precision they chose).

* **No deadlock in batched LU solves.** On multi-core CPUs, XLA's
  concurrency-optimised scheduler can deadlock when a jitted function runs two
  or more independent *batched* LAPACK factorisations (``vmap`` of a solve).
  The flag ``--xla_cpu_enable_concurrency_optimized_scheduler=false`` avoids
  it.  XLA reads ``XLA_FLAGS`` when the CPU backend is first created, so we
  add the flag at import time if no backend exists yet; if one already exists
  (JAX was used before ``import jaxqep``) we warn, because the flag can no
  longer take effect in this process.
"""

from __future__ import annotations

import os
import warnings

import jax

_SCHED_FLAG_NAME = "xla_cpu_enable_concurrency_optimized_scheduler"
_SCHED_FLAG = f"--{_SCHED_FLAG_NAME}=false"


def _backends_initialised() -> bool:
    try:
        from jax._src import xla_bridge

        return bool(getattr(xla_bridge, "_backends", {}))
    except Exception:  # pragma: no cover - private API moved
        return False


def _apply_xla_scheduler_workaround() -> bool:
    """Add the scheduler flag to ``XLA_FLAGS``. Returns whether it is in force."""
    flags = os.environ.get("XLA_FLAGS", "")
    if _SCHED_FLAG_NAME in flags:
        return True
    if _backends_initialised():
        warnings.warn(
            "jaxqep was imported after JAX created its CPU backend, so the XLA flag "
            f"{_SCHED_FLAG} (which prevents a known deadlock of batched LU solves on "
            "multi-core CPUs) could not be applied. Import jaxqep before using JAX, or "
            f"set XLA_FLAGS={_SCHED_FLAG} in the environment.",
            RuntimeWarning,
            stacklevel=3,
        )
        return False
    os.environ["XLA_FLAGS"] = (flags + " " + _SCHED_FLAG).strip()
    return True


def _apply_x64() -> bool:
    if os.environ.get("JAXQEP_ENABLE_X64", "1").strip().lower() in ("0", "false", "no"):
        return bool(jax.config.jax_enable_x64)  # pyright: ignore
    jax.config.update("jax_enable_x64", True)
    return True


XLA_WORKAROUND_ACTIVE = _apply_xla_scheduler_workaround()
X64_ENABLED = _apply_x64()
