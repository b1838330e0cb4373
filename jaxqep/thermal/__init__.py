"""Open quantum systems with thermal baths: GKLS models, heat currents, entropy
production (Clausius and Spohn forms), power, efficiency and COP with their Carnot
bounds, and the full counting statistics of jump currents -- all jitted, vmapped and
differentiable.

* :class:`GKLSModel` -- the problem (``jaxqep.steady_state``, ``jaxqep.entropy_production``,
  :func:`heat_currents`, :func:`current_cumulants`).
* Builders: :func:`local_jumps`, :func:`davies_jumps` (global, secular) and the standard
  models :func:`qubit_two_baths`, :func:`xx_pair`, :func:`three_level_maser`,
  :func:`absorption_refrigerator`, :func:`xxz_chain`, :func:`resonant_level`.
* Solvers: :class:`jaxqep.solvers.DenseLU` (``d ≤ 32``, the default) and the matrix-free
  :class:`jaxqep.solvers.GKLSKrylov`.
"""

from . import _krylov as _krylov  # registers GKLSKrylov for GKLSModel
from ._builders import (
    absorption_refrigerator as absorption_refrigerator,
    bose as bose,
    davies_jumps as davies_jumps,
    local_jumps as local_jumps,
    qubit_two_baths as qubit_two_baths,
    resonant_level as resonant_level,
    site_operator as site_operator,
    three_level_maser as three_level_maser,
    xx_pair as xx_pair,
    xxz_chain as xxz_chain,
)
from ._fcs import (
    current_cumulants as current_cumulants,
    current_statistics as current_statistics,
    tilted_generator as tilted_generator,
)
from ._model import GKLSModel as GKLSModel
from ._results import (
    CurrentStatistics as CurrentStatistics,
    HeatCurrents as HeatCurrents,
    ThermalEntropyProduction as ThermalEntropyProduction,
)
from ._thermo import (
    carnot_cop as carnot_cop,
    carnot_efficiency as carnot_efficiency,
    cooling_cop as cooling_cop,
    efficiency as efficiency,
    heat_currents as heat_currents,
    heat_currents_at as heat_currents_at,
    spohn_entropy_production as spohn_entropy_production,
)
