"""Compatibility module: the matrix-free solver now lives in :mod:`jaxqep.qrm._matrix_free`.

Until the split this module held the whole matrix-free route (1.2k lines); every name it
defined is re-exported here unchanged, so ``from jaxqep.qrm._iterative import ...`` keeps
working. New code imports from the modules below (tests: :mod:`jaxqep.internal`):

* :mod:`jaxqep._krylov`: ``GMRES`` (``_GMRES`` here), the package's restarted GMRES;
* :mod:`jaxqep.qrm._matrix_free._packing`: ``_pack``, ``_unpack``, ``_is_real``;
* :mod:`jaxqep.qrm._matrix_free._structure`: sparsity, sectors, Krylov support;
* :mod:`jaxqep.qrm._matrix_free._resets`: ``_Resets``, the packed Lindbladian;
* :mod:`jaxqep.qrm._matrix_free._preconditioner`: the two-level preconditioner;
* :mod:`jaxqep.qrm._matrix_free._solve`: the bordered solve, ``steady_state_matrix_free``;
* :mod:`jaxqep.qrm._matrix_free._tripartite`: the tripartite drivers.

The tuning constants ``_SPARSE_MAX_FILL`` and ``_RESOLVENT_THRESHOLD`` are copies: the code
reads them in ``_structure`` and ``_preconditioner``, so patch them there.
"""

from __future__ import annotations

# Names this module imported before the split (kept importable from here).
from .._errors import error_if as error_if
from .._krylov import GMRES as _GMRES  # noqa: F401 (re-exported under its old name)
from .._solution import RESULTS as RESULTS
from ._matrix_free._packing import _is_real as _is_real, _pack as _pack, _unpack as _unpack
from ._matrix_free._preconditioner import (
    _RESOLVENT_THRESHOLD as _RESOLVENT_THRESHOLD,
    _SectorResolvent as _SectorResolvent,
    _two_level_preconditioner as _two_level_preconditioner,
)
from ._matrix_free._resets import (
    _kron_packed as _kron_packed,
    _lindblad_packed as _lindblad_packed,
    _Resets as _Resets,
    _trace_first as _trace_first,
    _trace_last as _trace_last,
)
from ._matrix_free._solve import (
    _DEFAULTS as _DEFAULTS,
    MatrixFreeSteadyState as MatrixFreeSteadyState,
    _options as _options,
    _solve_packed as _solve_packed,
    steady_state_matrix_free as steady_state_matrix_free,
)
from ._matrix_free._structure import (
    _SPARSE_MAX_FILL as _SPARSE_MAX_FILL,
    _components as _components,
    _ell_pattern as _ell_pattern,
    _invariant_support as _invariant_support,
    _is_concrete as _is_concrete,
    _matmuls as _matmuls,
    _nonzero_pattern as _nonzero_pattern,
    _pattern_reduce as _pattern_reduce,
    _pattern_trace as _pattern_trace,
    _sector_labels as _sector_labels,
)
from ._matrix_free._tripartite import (
    TripartiteSteadyStates as TripartiteSteadyStates,
    _entropy_production_from_states as _entropy_production_from_states,
    _tripartite_parts as _tripartite_parts,
    _tripartite_states as _tripartite_states,
    tripartite_entropy_production_iterative as tripartite_entropy_production_iterative,
    tripartite_steady_states_iterative as tripartite_steady_states_iterative,
)
from ._results import EntropyProduction as EntropyProduction
from ._tripartite import (
    tripartite_result as tripartite_result,
    validate_coupling as validate_coupling,
    validate_tripartite as validate_tripartite,
)

__all__ = [
    "MatrixFreeSteadyState",
    "TripartiteSteadyStates",
    "steady_state_matrix_free",
    "tripartite_steady_states_iterative",
    "tripartite_entropy_production_iterative",
]
