"""jaxqep: differentiable steady states and entropy production of open quantum systems.

Submodules:

* :mod:`jaxqep.linalg` - Hermitian matrix functions (log, entropies) with derivatives that
  stay finite at degenerate spectra, partial traces.
* :mod:`jaxqep.superop` - superoperators in row-major vectorisation.
* :mod:`jaxqep.qrm` - quantum reset models: steady states, Spohn entropy production,
  affine and tripartite splittings, perturbation theory.
* :mod:`jaxqep.models` - builders for the models of the seed papers.
* :mod:`jaxqep.gaussian` - linear bosonic networks: NESS covariance, Wigner entropy production.
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
)
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
from .qrm import (
    EntropyProduction as EntropyProduction,
    ResetModel as ResetModel,
    TripartiteResetModel as TripartiteResetModel,
)

__version__ = "0.1.0"
