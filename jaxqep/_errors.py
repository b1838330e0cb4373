"""Runtime errors that say which batch element failed.

``eqx.error_if`` reduces its predicate over every ``vmap`` axis and raises one static
message, so a bad point in a 10,000-point batch is reported without saying which one.
:func:`error_if` keeps ``eqx.branched_error_if`` as the mechanism (same exception type,
same behaviour under ``jit``/``grad``/``EQX_ON_ERROR``) and only chooses the message:
a small ``custom_vmap`` function turns the predicate into an integer code that, under
``vmap``, records the flat position of each failing element; equinox raises with the
message of the *largest* code over the batch, which we arrange to be the *first* failing
element. The messages are formatted lazily (:class:`_BatchMessages`), so no list of
``batch size`` strings is ever built.

Codes: ``0`` no failure; ``1`` failure outside any ``vmap``; ``_TOP - k`` failure of the
element at flat position ``k`` over all vmapped axes (outermost first, i.e. the index into
``x.reshape(-1)`` of the stacked batch).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.custom_batching import custom_vmap
from jaxtyping import Array, ArrayLike, PyTree

__all__ = ["error_if", "collect_results", "through_proxy"]

_TOP = 2**30  # flat batch positions up to ~1e9 are told apart


@functools.cache
def _position(size: int):
    """``(pred, flat_index) -> code``; ``size`` = elements in the vmaps already seen."""

    @custom_vmap
    def position(pred, index):
        if size == 0:  # outside every vmap
            return jnp.where(pred, 1, 0).astype(jnp.int32)
        return jnp.where(pred, _TOP - index, 0).astype(jnp.int32)

    @position.def_vmap
    def _rule(axis_size, in_batched, pred, index):
        pred_b, index_b = in_batched
        if not pred_b:
            pred = jnp.broadcast_to(pred, (axis_size, *jnp.shape(pred)))
        if not index_b:
            index = jnp.broadcast_to(index, (axis_size, *jnp.shape(index)))
        # This vmap axis is outside the ones already seen: it is the most significant.
        lead = jnp.arange(axis_size, dtype=jnp.int32).reshape(
            (axis_size,) + (1,) * (index.ndim - 1)
        )
        inner = max(size, 1)
        return _position(inner * axis_size)(pred, lead * inner + index), True

    return position


class _BatchMessages(Sequence[str]):
    """``msgs[code]`` for :func:`eqx.branched_error_if`, built on demand."""

    def __init__(self, msg: str):
        self.msg = msg

    def __len__(self) -> int:
        return _TOP + 1

    def __getitem__(self, code):  # pyright: ignore[reportIncompatibleMethodOverride]
        code = int(code)
        if code <= 1:
            return self.msg
        k = _TOP - code
        return f"{self.msg} [first failing batch element: flat index {k} over the vmapped axes]"

    def __hash__(self) -> int:
        return hash((type(self), self.msg))

    def __eq__(self, other) -> bool:
        return isinstance(other, _BatchMessages) and other.msg == self.msg


class _Collector:
    """Failures recorded (instead of raised) while an entry point runs with ``throw=False``."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, Any]] = []

    def result(self):
        """The first recorded failure as a ``RESULTS`` item (``successful`` if none)."""
        from ._solution import RESULTS

        out = RESULTS.successful
        for pred, code in reversed(self.items):
            out = RESULTS.where(pred, code, out)
        return out


_COLLECTORS: list[_Collector] = []


def recorded_mark() -> int:
    """A mark of the failures recorded so far in the active ``throw=False`` context (0
    when none is active); pass it to :func:`recorded_since`."""
    col = _COLLECTORS[-1] if _COLLECTORS else None
    return 0 if col is None else len(col.items)


def recorded_since(mark: int) -> Array | None:
    """Whether a failure was recorded (``throw=False``) since ``mark``, as a traced bool;
    ``None`` where nothing was recorded (or no ``throw=False`` context is active), so a
    route can skip work that a recorded failure would make meaningless."""
    col = _COLLECTORS[-1] if _COLLECTORS else None
    if col is None or len(col.items) <= mark:
        return None
    return jnp.any(jnp.stack([jnp.any(p) for p, _ in col.items[mark:]]))


@contextlib.contextmanager
def collect_results(enabled: bool = True) -> Iterator[_Collector | None]:
    """Within this context, :func:`error_if` calls that carry a ``result`` code record it
    instead of raising (the ``throw=False`` mode of the entry points). Nested entry points
    with ``throw=True`` open a disabled context, so their failures raise again.
    """
    col = _Collector() if enabled else None
    _COLLECTORS.append(col)  # type: ignore[arg-type]
    try:
        yield col
    finally:
        _COLLECTORS.pop()


def _probe(x: PyTree):
    """An integer zero batched along every ``vmap`` axis that any leaf of ``x`` is batched
    along.

    The predicate may not depend on every vmapped axis (a bad argument batched on the
    outer axis only); its flat position still counts every axis of the computation, which
    the guarded value ``x`` (e.g. a whole problem object) carries.
    """
    out = jnp.zeros((), jnp.int32)
    for leaf in jax.tree_util.tree_leaves(x):
        if not hasattr(leaf, "dtype") or jnp.size(leaf) == 0:
            continue
        first = jnp.ravel(jnp.asarray(leaf))[0]
        out = out + (first != first).astype(jnp.int32) * 0
    return out


def error_if(x: PyTree, pred: ArrayLike, msg: str, result: Any = None) -> PyTree:
    """``eqx.error_if`` whose message names the first failing batch element under ``vmap``.

    If ``result`` (a :class:`jaxqep.RESULTS` item) is given and an entry point runs with
    ``throw=False``, the failure is recorded as that code instead of raised.

    Args:
        x: returned unchanged; the check runs when the return value is used (as for
            ``eqx.error_if``: thread it back into the computation).
        pred: boolean (any shape); an error is raised if any entry is true.
        msg: the message; under ``vmap`` it is suffixed with
            ``[first failing batch element: flat index k over the vmapped axes]``.

    Returns:
        ``x``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from jaxqep._errors import error_if
        >>> f = jax.jit(jax.vmap(lambda x: error_if(x, x < 0, "x: must be >= 0")))
        >>> f(jnp.array([1.0, 2.0]))
        Array([1., 2.], dtype=float64)
    """
    pred = jnp.any(jnp.asarray(pred))
    if result is not None and _COLLECTORS and _COLLECTORS[-1] is not None:
        _COLLECTORS[-1].items.append((pred, result))
        return x
    code = _position(0)(pred, _probe(x))
    return through_proxy(x, lambda y: eqx.branched_error_if(y, pred, code, _BatchMessages(msg)))


def through_proxy(x: PyTree, checks: Callable[[PyTree], PyTree]) -> PyTree:
    """``checks(x)`` for checks that return their operand (:func:`error_if` chains), with
    each large leaf of ``x`` passing only its first entry through them.

    equinox's check is a ``lax.cond`` returning its operand, which XLA copies (0.15 ms per
    1 MB leaf on the 2-core CPU); a large leaf gets its checked first entry back by an
    update in place, which keeps it dependent on the checks. Where the leaf has other uses
    the update is a copy too, so several checks on one array are best made as one chain
    here (one update), not one by one.
    """
    leaves, tree = jax.tree_util.tree_flatten(x)
    big = [_is_large(leaf) for leaf in leaves]
    if not any(big):
        return checks(x)
    proxy = [leaf[(0,) * leaf.ndim] if b else leaf for leaf, b in zip(leaves, big)]
    proxy = jax.tree_util.tree_leaves(checks(jax.tree_util.tree_unflatten(tree, proxy)))
    leaves = [leaf.at[(0,) * leaf.ndim].set(p) if b else p
              for leaf, p, b in zip(leaves, proxy, big)]
    return jax.tree_util.tree_unflatten(tree, leaves)


def _is_large(leaf) -> bool:
    return (isinstance(leaf, jax.Array) and leaf.ndim >= 1 and leaf.size >= 1024
            and jnp.issubdtype(leaf.dtype, jnp.inexact))
