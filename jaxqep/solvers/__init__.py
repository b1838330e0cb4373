"""Solver objects: one algorithm each, options on the object, paired with problems by type.

Pass one to :func:`jaxqep.steady_state` or :func:`jaxqep.entropy_production`;
:class:`Auto` (the default) lets the problem choose.

* :class:`ClosedForm`: :class:`jaxqep.ResetModel` (its default).
* :class:`DenseLU`: :class:`jaxqep.SuperoperatorModel` (default),
  :class:`jaxqep.ResetModel`, :class:`jaxqep.TripartiteResetModel`.
* :class:`Reduced`: :class:`jaxqep.TripartiteResetModel` (default up to d = 32).
* :class:`MatrixFree`: :class:`jaxqep.TripartiteResetModel` (default above d = 32).
"""

from ._auto import Auto as Auto
from ._base import AbstractSolver as AbstractSolver
from ._closed_form import ClosedForm as ClosedForm
from ._dense import DenseLU as DenseLU
from ._matrix_free import MatrixFree as MatrixFree
from ._reduced import Reduced as Reduced
