"""What tests (and curious users) need beyond the public API, under stable names here.

Nothing in this namespace is public API: signatures may change with the implementation,
but tests import internals from here rather than from private modules, so that moving
code between modules changes this file and not the tests. Every name is an alias of the
object named in its line below.

Errors and process settings:

* :func:`error_if` (``jaxqep._errors.error_if``): raise ``msg`` where ``pred`` holds,
  eagerly and under ``jit``/``vmap`` (naming the batch element);
* ``XLA_WORKAROUND_ACTIVE`` (``jaxqep._config``): whether the XLA scheduler flag that
  avoids the batched-LU deadlock was applied at import (set once, at import).

Dense linear algebra:

* :func:`solve_bordered` (``jaxqep._steady``): steady state of a Lindbladian matrix by the
  bordered system, optionally with its condition estimate;
* :func:`lu_condition` (``jaxqep._condition``): 1-norm condition estimate from an LU.

Krylov solver: :class:`GMRES` (``jaxqep._krylov.GMRES``).

Matrix-free reset models (``jaxqep.qrm._matrix_free``):

* packing: :func:`pack`, :func:`unpack` (Hermitian ``X`` <-> real ``Re X + Im X``);
* static structure: :func:`nonzero_pattern`, :func:`ell_pattern`, :func:`matmuls`,
  :func:`sector_labels`, :func:`invariant_support`, and :func:`sparse_max_fill` (a context
  manager that changes the fill below which products with ``H`` are sparse gathers);
* resets and operators: :class:`Resets`, :func:`lindblad_packed`,
  :class:`SectorResolvent`, :func:`two_level_preconditioner`;
* drivers: :func:`matrix_free_options` (defaults and checks of ``**solver_options``),
  :func:`tripartite_parts`, :func:`tripartite_states`,
  :func:`entropy_production_from_states`.

Example:
    >>> import jax.numpy as jnp
    >>> from jaxqep import internal
    >>> x = jnp.array([[1.0, 2j], [-2j, 3.0]])
    >>> bool(jnp.all(internal.unpack(internal.pack(x)) == x))
    True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ._condition import lu_condition as lu_condition
from ._config import XLA_WORKAROUND_ACTIVE as XLA_WORKAROUND_ACTIVE
from ._errors import error_if as error_if
from ._krylov import GMRES as GMRES
from ._steady import solve_bordered as solve_bordered
from .qrm._matrix_free import _structure
from .qrm._matrix_free._packing import _pack as pack, _unpack as unpack
from .qrm._matrix_free._preconditioner import (
    _SectorResolvent as SectorResolvent,
    _two_level_preconditioner as two_level_preconditioner,
)
from .qrm._matrix_free._resets import _lindblad_packed as lindblad_packed, _Resets as Resets
from .qrm._matrix_free._solve import _options as matrix_free_options
from .qrm._matrix_free._structure import (
    _ell_pattern as ell_pattern,
    _invariant_support as invariant_support,
    _matmuls as matmuls,
    _nonzero_pattern as nonzero_pattern,
    _sector_labels as sector_labels,
)
from .qrm._matrix_free._tripartite import (
    _entropy_production_from_states as entropy_production_from_states,
    _tripartite_parts as tripartite_parts,
    _tripartite_states as tripartite_states,
)

__all__ = [
    "XLA_WORKAROUND_ACTIVE",
    "GMRES",
    "Resets",
    "SectorResolvent",
    "ell_pattern",
    "entropy_production_from_states",
    "error_if",
    "invariant_support",
    "lindblad_packed",
    "lu_condition",
    "matmuls",
    "matrix_free_options",
    "nonzero_pattern",
    "pack",
    "sector_labels",
    "solve_bordered",
    "sparse_max_fill",
    "tripartite_parts",
    "tripartite_states",
    "two_level_preconditioner",
    "unpack",
]


@contextlib.contextmanager
def sparse_max_fill(fill: float) -> Iterator[None]:
    """Temporarily set the largest fill (non-zeros per row / ``d``) of a concrete ``H``
    for which the matrix-free solver multiplies by ``H`` through sparse ELL gathers
    (default ``1/16``). Affects functions traced inside the ``with`` block only.

    Args:
        fill: the threshold, e.g. ``1.0`` to force the sparse products on a small model.

    Yields:
        None; the previous threshold is restored on exit.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep import internal
        >>> h = jnp.array([[0.0, 1.0], [1.0, 0.0]])
        >>> internal.ell_pattern(internal.nonzero_pattern(h)) is None
        True
        >>> with internal.sparse_max_fill(1.0):
        ...     internal.ell_pattern(internal.nonzero_pattern(h)) is None
        False
    """
    old = _structure._SPARSE_MAX_FILL
    _structure._SPARSE_MAX_FILL = float(fill)
    try:
        yield
    finally:
        _structure._SPARSE_MAX_FILL = old
