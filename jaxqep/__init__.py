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
    superop as superop,
    sweep as sweep,
)
from ._steady import (
    SteadyState as SteadyState,
    steady_state as steady_state,
    steady_state_from_superop as steady_state_from_superop,
)

__version__ = "0.1.0"
