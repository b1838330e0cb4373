"""The base of every problem object (``jaxqep.ResetModel``, ``jaxqep.GaussianNetwork``, ...).

A problem is an ``eqx.Module`` holding validated JAX arrays (its leaves: ``vmap`` over
them, differentiate with respect to them) and static structure (dimensions, sparsity
patterns). It knows which solver suits it (:meth:`AbstractProblem.default_solver`, used
by :class:`jaxqep.solvers.Auto`); what it does not know is how to solve it: that belongs
to the solver objects of :mod:`jaxqep.solvers`, paired with problems by type
(:mod:`jaxqep._dispatch`).
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

import equinox as eqx
import numpy as np

if TYPE_CHECKING:
    from .solvers import AbstractSolver

__all__ = ["AbstractProblem", "StaticPattern"]


class AbstractProblem(eqx.Module):
    """Base class of jaxqep's problems.

    Subclasses validate in ``__init__`` inside ``jaxqep._validate.deferred_checks()`` and
    store the result with :meth:`_store_checks`: concrete bad input raises at once;
    traced checks are kept (``validation``) and raised by the entry points on their
    output (:meth:`checked`).
    """

    validation: Any = eqx.field(default=None, kw_only=True)
    validation_messages: tuple[str, ...] = eqx.field(default=(), static=True, kw_only=True)

    def _store_checks(self, checks) -> None:
        preds, messages = checks.stacked()
        object.__setattr__(self, "validation", preds)
        object.__setattr__(self, "validation_messages", messages)

    def checked(self, out):
        """``out`` with the deferred input checks attached (raise on use)."""
        if self.validation is None:
            return out
        from ._errors import error_if

        for k, msg in enumerate(self.validation_messages):
            out = error_if(out, self.validation[k], msg)
        return out

    @abc.abstractmethod
    def default_solver(self) -> AbstractSolver:
        """The solver :class:`jaxqep.solvers.Auto` picks for this problem (static choice)."""


class StaticPattern:
    """A hashable wrapper of a boolean numpy array, for static fields of problems (e.g. the
    non-zero pattern of a concrete Hamiltonian, read once at construction)."""

    __slots__ = ("array", "_key")

    def __init__(self, array: np.ndarray):
        self.array = np.asarray(array, dtype=bool)
        self._key = (self.array.shape, self.array.tobytes())

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other) -> bool:
        return isinstance(other, StaticPattern) and other._key == self._key

    def __repr__(self) -> str:
        return f"StaticPattern(shape={self.array.shape}, nnz={int(self.array.sum())})"
