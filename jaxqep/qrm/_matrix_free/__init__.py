"""Matrix-free steady states and entropy production of large tripartite reset models.

For an N-qubit chain with resets on its end sites the Liouvillian has ``4^N x 4^N``
entries; nothing here builds it. One concept per module, each documenting the measured
design decisions of its code:

* :mod:`._packing`: Hermitian matrices stored as real ones (real Krylov vectors);
* :mod:`._structure`: static structure of a concrete ``H`` read at trace time (sparse ELL
  products, sectors of a conserved quantity, the invariant Krylov support);
* :mod:`._resets`: the reset structure ``_Resets`` on ``H_A ⊗ H_C ⊗ H_B`` and the packed
  Lindbladian ``conj ∘ L``;
* :mod:`._preconditioner`: the two-level (fast space / slow space) preconditioner;
* :mod:`._solve`: the bordered solve ``L(x) + u tr(x) = u`` by the package's GMRES
  (:class:`jaxqep._krylov.GMRES`), :func:`steady_state_matrix_free`;
* :mod:`._tripartite`: the three solves of a tripartite model and its entropy production,
  with the measured iteration counts and timings.

``jaxqep.qrm._iterative`` re-exports every name these modules had there before the split.
"""

from ._solve import (
    MatrixFreeSteadyState as MatrixFreeSteadyState,
    steady_state_matrix_free as steady_state_matrix_free,
)
from ._tripartite import (
    TripartiteSteadyStates as TripartiteSteadyStates,
    tripartite_entropy_production_iterative as tripartite_entropy_production_iterative,
    tripartite_steady_states_iterative as tripartite_steady_states_iterative,
)

__all__ = [
    "MatrixFreeSteadyState",
    "TripartiteSteadyStates",
    "steady_state_matrix_free",
    "tripartite_steady_states_iterative",
    "tripartite_entropy_production_iterative",
]
