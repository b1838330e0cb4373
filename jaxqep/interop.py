"""QuTiP interoperability (optional: ``pip install jaxqep[qutip]``).

* :func:`from_qobj` turns ``qutip.Qobj`` operators (or lists of them) into JAX arrays and
  leaves anything else untouched, so it can wrap any argument.
* :func:`to_qobj` turns an array (or the ``rho`` / ``partial_states`` of a result) back into
  a ``Qobj``, optionally with tensor-product ``dims``.
* :func:`accept_qobj` decorates a function so that every ``Qobj`` argument is converted:
  ``ep = accept_qobj(jaxqep.qrm.entropy_production)(H_qobj, [tau1, tau2], gammas)``.

QuTiP is imported only when a conversion to ``Qobj`` is requested; ``from_qobj`` detects
``Qobj`` by duck typing, so this module imports without QuTiP.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

__all__ = ["accept_qobj", "from_qobj", "is_qobj", "to_qobj"]


def is_qobj(x: Any) -> bool:
    """Whether ``x`` is a ``qutip.Qobj`` (without importing QuTiP)."""
    return type(x).__name__ == "Qobj" and type(x).__module__.startswith("qutip")


def from_qobj(x: Any) -> Any:
    """Convert a ``Qobj`` (or a list/tuple of them) to a JAX array; return others unchanged.

    A list of ``Qobj`` becomes a stacked array of shape ``(J, d, d)`` (e.g. the ``taus`` of
    :func:`jaxqep.qrm.entropy_production`).

    Example:
        >>> import qutip
        >>> from jaxqep.interop import from_qobj
        >>> from_qobj(qutip.sigmaz()).shape
        (2, 2)
    """
    if is_qobj(x):
        return jnp.asarray(x.full())
    if isinstance(x, list | tuple) and x and all(is_qobj(e) for e in x):
        return jnp.stack([jnp.asarray(e.full()) for e in x])
    return x


def to_qobj(x: Any, dims: Sequence[int] | None = None):
    """Convert a square array, or a stack of them, to ``qutip.Qobj`` (a list for a stack).

    Args:
        x: array of shape ``(d, d)`` or ``(J, d, d)``; or any object with a ``rho`` attribute
            (an ``EntropyProduction``), whose steady state is converted.
        dims: subsystem dimensions, e.g. ``(2, 2, 2)`` for a three-qubit chain, so the
            ``Qobj`` supports ``ptrace``. Default: one space of dimension ``d``.

    Returns:
        ``qutip.Qobj`` (or a list of them).

    Example:
        >>> import jaxqep, jax.numpy as jnp
        >>> from jaxqep.interop import to_qobj
        >>> rho = to_qobj(jnp.eye(4) / 4, dims=(2, 2))
        >>> rho.ptrace(0).tr()
        1.0
    """
    try:
        import qutip
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("to_qobj needs QuTiP: pip install 'jaxqep[qutip]'") from e
    if hasattr(x, "rho") and not hasattr(x, "shape"):
        x = x.rho
    arr = np.asarray(x)
    if arr.ndim == 3:
        return [to_qobj(a, dims) for a in arr]
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"to_qobj: expected a square matrix or a stack of them, got {arr.shape}")
    d = arr.shape[0]
    if dims is None:
        return qutip.Qobj(arr)
    dims = [int(n) for n in dims]
    if int(np.prod(dims)) != d:
        raise ValueError(f"dims: product {int(np.prod(dims))} does not match the size {d}")
    return qutip.Qobj(arr, dims=[dims, dims])


def accept_qobj(fn: Callable) -> Callable:
    """Decorate ``fn`` so that ``Qobj`` arguments (or lists of them) become JAX arrays.

    Example:
        >>> import qutip, jaxqep
        >>> from jaxqep.interop import accept_qobj
        >>> ep = accept_qobj(jaxqep.qrm.entropy_production)
        >>> tau = qutip.Qobj([[0.9, 0], [0, 0.1]])
        >>> H = 0.5 * qutip.sigmaz() + 0.35 * qutip.sigmax()
        >>> float(ep(H, [tau, tau], [1.0, 0.5]).total) < 1e-12
        True
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*(from_qobj(a) for a in args), **{k: from_qobj(v) for k, v in kwargs.items()})

    return wrapper
