"""The base of every solver object."""

from __future__ import annotations

import equinox as eqx

__all__ = ["AbstractSolver"]


class AbstractSolver(eqx.Module):
    """Base class of jaxqep's solvers.

    A solver is a configuration object: its options are its fields (``eqx.Module``, so it
    passes through ``jit`` as static data), and which problems it serves is registered by
    type in :mod:`jaxqep._dispatch`. Pass one to :func:`jaxqep.steady_state` or
    :func:`jaxqep.entropy_production`; :class:`jaxqep.solvers.Auto` chooses one.
    """
