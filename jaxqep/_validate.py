"""Input validation shared by every public entry point.

Two kinds of checks:

* *static* (shapes, dtypes, Python constants): ``ValueError``/``TypeError`` at trace time;
* *value* checks (Hermiticity, positivity, normalisation, rates, λ constraints): when the
  value is concrete (eager call) a ``ValueError`` is raised at once; under ``jit``/``vmap``
  the check is an ``eqx.error_if`` (via ``_errors.error_if``, which also names the
  first failing batch element under ``vmap``) whose return value is threaded back into the
  computation, so it fires at run time with the same message.

Every message names the argument and the violated condition.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from ._errors import error_if

# Tolerances are relative to the scale of the input and generous enough for float32 input.
HERM_RTOL = 1e-8
TRACE_TOL = 1e-8
POS_TOL = 1e-10


def _is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)  # pyright: ignore[reportAttributeAccessIssue]


class DeferredChecks:
    """Traced value checks recorded while a problem object is constructed.

    A problem built under ``jit``/``vmap`` cannot raise at construction; it keeps the
    predicates (:meth:`jaxqep.AbstractProblem.checked`) and the entry points raise them
    on their *output*, which is batched along every ``vmap`` axis of the computation, so
    the reported batch element is the right one under any nesting (a bad argument batched
    on the outer axis only is reported at its first element over all axes).
    """

    def __init__(self) -> None:
        self.preds: list = []
        self.messages: list[str] = []

    def stacked(self):
        if not self.preds:
            return None, ()
        return jnp.stack([jnp.any(p) for p in self.preds]), tuple(self.messages)


_DEFERRED: list[DeferredChecks] = []


class deferred_checks:
    """Context manager: traced :func:`check` calls inside record into a DeferredChecks."""

    def __enter__(self) -> DeferredChecks:
        self.checks = DeferredChecks()
        _DEFERRED.append(self.checks)
        return self.checks

    def __exit__(self, *exc) -> None:
        _DEFERRED.pop()


def check(x: Array, bad: Array | bool, message: str, result=None) -> Array:
    """Raise ``ValueError(message)`` if ``bad`` (eagerly) or attach an ``error_if`` (traced).

    ``result``: the :class:`jaxqep.RESULTS` code recorded instead of raising when an entry
    point runs with ``throw=False`` (for failures of a solve, not for bad input). Inside
    :class:`deferred_checks` (problem construction) a traced check is recorded instead.
    """
    if _is_concrete(bad):
        if bool(np.any(np.asarray(bad))):
            raise ValueError(message)
        return x
    if result is None and _DEFERRED:
        _DEFERRED[-1].preds.append(bad)
        _DEFERRED[-1].messages.append(message)
        return x
    return error_if(x, bad, message, result)


def as_inexact(x: ArrayLike, name: str) -> Array:
    # qutip.Qobj operators (or lists of them) are accepted anywhere an array is.
    from .interop import from_qobj

    x = from_qobj(x)
    try:
        arr = jnp.asarray(x)
    except TypeError as e:  # pragma: no cover - exotic inputs
        raise TypeError(f"{name}: expected a numeric array ({e})") from None
    if arr.dtype == jnp.bool_ or not (jnp.issubdtype(arr.dtype, jnp.number)):
        raise TypeError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    if not jnp.issubdtype(arr.dtype, jnp.inexact):
        arr = arr.astype(jnp.result_type(float))
    return arr


def square_matrix(x: ArrayLike, name: str, d: int | None = None) -> Array:
    arr = as_inexact(x, name)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name}: expected a square matrix, got shape {arr.shape}")
    if d is not None and arr.shape[0] != d:
        raise ValueError(f"{name}: expected shape ({d}, {d}), got {arr.shape}")
    return arr


def finite(x: Array, name: str) -> Array:
    return check(x, ~jnp.all(jnp.isfinite(x)), f"{name}: contains NaN or inf")


def hermitian(h: ArrayLike, name: str, d: int | None = None) -> Array:
    """Validate a Hermitian matrix; returns it as an inexact array."""
    h = finite(square_matrix(h, name, d), name)
    scale = jnp.maximum(jnp.max(jnp.abs(h)), 1.0)
    err = jnp.max(jnp.abs(h - jnp.conj(h.T)))
    return check(h, err > HERM_RTOL * scale, f"{name}: must be Hermitian (H = H^†)")


def density_matrix(rho: ArrayLike, name: str, d: int | None = None) -> Array:
    """Validate a density matrix: square, Hermitian, unit trace, positive semi-definite."""
    rho = hermitian(rho, name, d)
    tr = jnp.trace(rho)
    rho = check(
        rho,
        jnp.abs(tr - 1.0) > TRACE_TOL,
        f"{name}: is not a density matrix: its trace must be 1",
    )
    wmin = jnp.min(jnp.linalg.eigvalsh(0.5 * (rho + jnp.conj(rho.T))))
    return check(
        rho,
        wmin < -POS_TOL,
        f"{name}: is not a density matrix: it has a negative eigenvalue",
    )


def density_stack(taus: ArrayLike, name: str) -> Array:
    arr = as_inexact(taus, name)
    if arr.ndim != 3 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name}: expected a stack of density matrices (J, d, d), got {arr.shape}")
    return jnp.stack([density_matrix(arr[j], f"{name}[{j}]") for j in range(arr.shape[0])])


def positive(x: ArrayLike, name: str, strict: bool = True) -> Array:
    arr = finite(as_inexact(x, name), name)
    if jnp.iscomplexobj(arr):
        raise TypeError(f"{name}: must be real, got dtype {arr.dtype}")
    bad = arr <= 0 if strict else arr < 0
    cond = "positive" if strict else "non-negative"
    return check(arr, jnp.any(bad), f"{name}: must be {cond}")


def nonzero_scalar(x: ArrayLike, name: str) -> Array:
    arr = finite(as_inexact(x, name), name)
    if arr.ndim != 0:
        raise ValueError(f"{name}: must be a scalar, got shape {arr.shape}")
    if jnp.iscomplexobj(arr):
        raise TypeError(f"{name}: must be real, got dtype {arr.dtype}")
    return check(arr, arr == 0, f"{name}: must be non-zero")


def real_scalar(x: ArrayLike, name: str) -> Array:
    arr = finite(as_inexact(x, name), name)
    if arr.ndim != 0:
        raise ValueError(f"{name}: must be a scalar, got shape {arr.shape}")
    if jnp.iscomplexobj(arr):
        raise TypeError(f"{name}: must be real, got dtype {arr.dtype}")
    return arr


def faithful(rho: Array, name: str) -> Array:
    """Check that a state is positive definite (its logarithm is finite)."""
    from ._solution import RESULTS

    w = jnp.linalg.eigvalsh(rho)
    scale = jnp.maximum(jnp.max(jnp.abs(w)), 1e-300)
    return check(
        rho,
        ~(jnp.min(w) > 1e-14 * scale),
        f"{name}: is not faithful (it has a zero eigenvalue), so its logarithm and the "
        "entropy production are undefined",
        RESULTS.not_faithful,
    )


def dims3(dims, d: int, name: str = "dims") -> tuple[int, int, int]:
    try:
        dims = tuple(int(x) for x in dims)
    except TypeError:
        raise TypeError(f"{name}: must be a tuple of three Python ints (n_A, n_C, n_B)") from None
    if len(dims) != 3:
        raise ValueError(f"{name}: must have three entries (n_A, n_C, n_B), got {dims}")
    if any(x < 1 for x in dims):
        raise ValueError(f"{name}: entries must be positive, got {dims}")
    if dims[0] * dims[1] * dims[2] != d:
        raise ValueError(
            f"{name}: the product {dims[0]}*{dims[1]}*{dims[2]} = "
            f"{dims[0] * dims[1] * dims[2]} does not match H's size {d}"
        )
    return dims  # type: ignore[return-value]
