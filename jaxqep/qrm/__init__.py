"""Quantum reset models: steady states and Spohn entropy production (seed 004)."""

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
from ._optimal_lambda import LambdaSearch as LambdaSearch, optimal_lambda as optimal_lambda
from ._perturbation import (
    Hypotheses as Hypotheses,
    LeadingOrder as LeadingOrder,
    dlogm as dlogm,
    leading_order as leading_order,
    sigma2_minimum as sigma2_minimum,
)
from ._reset import (
    entropy_production as entropy_production,
    qrm_lindbladian_action as qrm_lindbladian_action,
    reset_steady_state as reset_steady_state,
)
from ._results import EntropyProduction as EntropyProduction
from ._spohn import spohn_entropy_production as spohn_entropy_production
from ._tripartite import (
    tripartite_entropy_production as tripartite_entropy_production,
    tripartite_lindbladians as tripartite_lindbladians,
)
