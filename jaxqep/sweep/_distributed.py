"""Multi-process sweeps on top of ``jax.distributed``.

Each process of a ``jax.distributed`` job evaluates the chunks ``k`` with
``k % process_count == process_index`` on its own local devices and writes them into a
shared store. No cross-process collective is needed (so no CPU collectives backend
either); the only synchronisation is one barrier of JAX's coordination service before
every process reads the full result back.
"""

from __future__ import annotations

import jax

__all__ = ["barrier", "initialize", "process_info"]


def initialize(
    coordinator_address: str,
    num_processes: int,
    process_id: int,
    timeout: float = 120.0,
) -> None:
    """Join a ``jax.distributed`` job (thin wrapper with a clear error message).

    Must run before the XLA backend exists in this process, i.e. before any JAX
    computation or ``jax.devices()`` call.

    Args:
        coordinator_address: ``"host:port"`` of process 0 (e.g. ``"127.0.0.1:12345"``).
        num_processes: total number of processes.
        process_id: this process's rank in ``[0, num_processes)``.
        timeout: seconds to wait for all processes to connect.

    Raises:
        ValueError: ``process_id`` is outside ``[0, num_processes)``.
        RuntimeError: JAX already created its backend in this process.

    Example:
        Each process of the job calls, before anything else touches JAX,
        ``initialize_distributed("10.0.0.1:1234", num_processes=2, process_id=rank)``.
        A rank outside the job is refused:

        >>> from jaxqep.sweep import initialize_distributed
        >>> initialize_distributed("127.0.0.1:1234", num_processes=2, process_id=2)
        Traceback (most recent call last):
        ...
        ValueError: process_id: must be in [0, 2), got 2
    """
    from jax._src import xla_bridge

    if not 0 <= process_id < num_processes:
        raise ValueError(f"process_id: must be in [0, {num_processes}), got {process_id}")
    if getattr(xla_bridge, "_backends", None):
        raise RuntimeError(
            "jax.distributed must be initialised before JAX creates its backend; something "
            "in this process already ran a JAX computation. Call jax.distributed.initialize "
            "(or jaxqep.sweep.initialize_distributed) first thing in the program."
        )
    jax.distributed.initialize(
        coordinator_address=coordinator_address,
        num_processes=num_processes,
        process_id=process_id,
        initialization_timeout=int(timeout),
    )


def process_info() -> tuple[int, int]:
    """``(process_index, process_count)`` of this process in the JAX job (``(0, 1)`` alone)."""
    return jax.process_index(), jax.process_count()


def barrier(name: str, timeout: float) -> None:
    """Block until every process of the job reached the barrier ``name``.

    Raises:
        TimeoutError: some process did not arrive within ``timeout`` seconds.
    """
    if jax.process_count() == 1:
        return
    from jax._src import distributed

    client = distributed.global_state.client
    if client is None:  # multi-process without the coordination service: nothing to wait on
        return
    try:
        client.wait_at_barrier(name, int(timeout * 1000))
    except Exception as e:  # the client raises a bare XlaRuntimeError on deadline
        raise TimeoutError(f"sweep barrier {name!r} not reached by all processes: {e}") from e
