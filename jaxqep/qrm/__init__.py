"""Quantum reset models: steady states and Spohn entropy production (seed 004)."""

from ._api import (
    entropy_production as entropy_production,
    spohn_entropy_production as spohn_entropy_production,
    tripartite_entropy_production as tripartite_entropy_production,
)
from ._detailed_balance import (
    DetailedBalance as DetailedBalance,
    detailed_balance as detailed_balance,
)
from ._dynamics import (
    entropy_production_trajectory as entropy_production_trajectory,
    evolve as evolve,
)
from ._iterative import (
    MatrixFreeSteadyState as MatrixFreeSteadyState,
    TripartiteSteadyStates as TripartiteSteadyStates,
    steady_state_matrix_free as steady_state_matrix_free,
    tripartite_steady_states_iterative as tripartite_steady_states_iterative,
)
from ._local import (
    local_hamiltonian as local_hamiltonian,
    local_leading_order as local_leading_order,
    local_tripartite_entropy_production as local_tripartite_entropy_production,
)
from ._model_reset import ResetModel as ResetModel
from ._model_tripartite import TripartiteResetModel as TripartiteResetModel
from ._optimal_lambda import LambdaSearch as LambdaSearch, optimal_lambda as optimal_lambda
from ._perturbation import (
    Hypotheses as Hypotheses,
    LeadingOrder as LeadingOrder,
    dlogm as dlogm,
    leading_order as leading_order,
    sigma2_minimum as sigma2_minimum,
)
from ._positive_form import (
    PositiveForm as PositiveForm,
    commutator_form as commutator_form,
    sigma2_positive_form as sigma2_positive_form,
)
from ._reset import (
    qrm_lindbladian_action as qrm_lindbladian_action,
    reset_steady_state as reset_steady_state,
)
from ._results import EntropyProduction as EntropyProduction
from ._series import (
    PerturbativeExpansion as PerturbativeExpansion,
    Section7Maps as Section7Maps,
    log_series as log_series,
    perturbative_expansion as perturbative_expansion,
    section7_maps as section7_maps,
)
from ._tripartite import tripartite_lindbladians as tripartite_lindbladians
