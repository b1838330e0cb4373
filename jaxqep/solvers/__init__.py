"""Solver objects: one algorithm each, options on the object, paired with problems by type.

Pass one to :func:`jaxqep.steady_state` or :func:`jaxqep.entropy_production`;
:class:`Auto` (the default) lets the problem choose.

* :class:`ClosedForm`: :class:`jaxqep.ResetModel` (its default).
* :class:`DenseLU`: :class:`jaxqep.SuperoperatorModel` (default),
  :class:`jaxqep.ResetModel`, :class:`jaxqep.TripartiteResetModel`.
* :class:`Reduced`: :class:`jaxqep.TripartiteResetModel` (default up to d = 32).
* :class:`MatrixFree`: :class:`jaxqep.TripartiteResetModel` (default above d = 32).
* :class:`DenseLU` also serves :class:`jaxqep.GKLSModel` (default up to d = 32);
  :class:`GKLSKrylov`: :class:`jaxqep.GKLSModel`, matrix-free (default above d = 32).
* Gaussian networks (:class:`jaxqep.GaussianNetwork`): :class:`DirectLyapunov`, :class:`Eig`,
  :class:`SignIteration`, :class:`Tridiagonal` (chains), :class:`EighKrylov` and
  :class:`EighSchur` (self-consistent reservoirs on large networks; the default from L = 48),
  :class:`KroneckerSchur` (the same on rectangular lattices ``H_x ⊗ 1 + 1 ⊗ H_y``; their
  default from L = 48).
* :class:`SqueezedLyapunov`: :class:`jaxqep.SqueezedGaussianNetwork` (its default).
"""

from ._auto import Auto as Auto
from ._base import AbstractSolver as AbstractSolver
from ._closed_form import ClosedForm as ClosedForm
from ._dense import DenseLU as DenseLU
from ._gaussian_direct import DirectLyapunov as DirectLyapunov
from ._gaussian_eig import Eig as Eig
from ._gaussian_eigh_schur import EighSchur as EighSchur
from ._gaussian_kron_schur import KroneckerSchur as KroneckerSchur
from ._gaussian_krylov import EighKrylov as EighKrylov
from ._gaussian_sign import SignIteration as SignIteration
from ._gaussian_squeezed import SqueezedLyapunov as SqueezedLyapunov
from ._gaussian_tridiagonal import Tridiagonal as Tridiagonal
from ._gkls_krylov import GKLSKrylov as GKLSKrylov
from ._matrix_free import MatrixFree as MatrixFree
from ._reduced import Reduced as Reduced
