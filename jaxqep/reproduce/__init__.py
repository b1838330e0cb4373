"""Reproduction of the seed papers' figures and claims (used by ``jaxqep reproduce``).

Not part of the physics API: :mod:`jaxqep.qrm` and :mod:`jaxqep.gaussian` hold the
library; this package holds the figure code of seed 004 (quantum reset models) and
seed 000 (Gaussian lattices) that drives it.
"""

from ._seed000 import (
    fig2_data as fig2_data,
    fig3_data as fig3_data,
    fit_exponent as fit_exponent,
    reproduce_gaussian as reproduce_gaussian,
)
from ._seed004 import reproduce_qrm as reproduce_qrm
