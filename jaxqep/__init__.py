"""jaxqep: differentiable steady states and entropy production of open quantum systems.

Submodules:

* :mod:`jaxqep.linalg` - Hermitian matrix functions (log, entropies) with derivatives that
  stay finite at degenerate spectra, partial traces.
* :mod:`jaxqep.superop` - superoperators in row-major vectorisation.
* :mod:`jaxqep.qrm` - quantum reset models: steady states, Spohn entropy production,
  affine and tripartite splittings, perturbation theory.
* :mod:`jaxqep.models` - builders for the models of the seed papers.
* :mod:`jaxqep.gaussian` - linear bosonic networks: NESS covariance, Wigner entropy production.
* :mod:`jaxqep.thermal` - GKLS models with thermal baths: heat currents, Clausius/Spohn
  entropy production, efficiency, counting statistics (``GKLSModel``, ``heat_currents``,
  ``current_cumulants``).
"""

from . import (
    _config as _config,  # must come first: sets XLA flags and x64
    gaussian as gaussian,
    interop as interop,
    linalg as linalg,
    models as models,
    optimize as optimize,
    qrm as qrm,
    solvers as solvers,
    superop as superop,
    sweep as sweep,
    thermal as thermal,
)
from ._allocator import keep_freed_memory as keep_freed_memory
from ._entry import entropy_production as entropy_production, steady_state as steady_state
from ._problem import AbstractProblem as AbstractProblem
from ._solution import (
    RESULTS as RESULTS,
    Stats as Stats,
    SteadyStateSolution as SteadyStateSolution,
)
from ._superop_api import (
    SteadyState as SteadyState,
    steady_state_from_superop as steady_state_from_superop,
)
from ._superop_model import SuperoperatorModel as SuperoperatorModel
from .gaussian import (
    GaussianNetwork as GaussianNetwork,
    SqueezedGaussianNetwork as SqueezedGaussianNetwork,
)
from .qrm import (
    EntropyProduction as EntropyProduction,
    ResetModel as ResetModel,
    TripartiteResetModel as TripartiteResetModel,
)
from .thermal import (
    CurrentStatistics as CurrentStatistics,
    GKLSModel as GKLSModel,
    HeatCurrents as HeatCurrents,
    ThermalEntropyProduction as ThermalEntropyProduction,
    current_cumulants as current_cumulants,
    heat_currents as heat_currents,
)

__version__ = "0.1.0"
