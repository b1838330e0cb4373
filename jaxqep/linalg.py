"""Hermitian matrix functions and partial traces (public namespace)."""

from ._hermitian import (
    expm_h as expm_h,
    hermitian_function as hermitian_function,
    hermitian_part as hermitian_part,
    logm_h as logm_h,
    relative_entropy as relative_entropy,
    sqrtm_h as sqrtm_h,
    von_neumann_entropy as von_neumann_entropy,
)
from ._lyapunov import solve_lyapunov as solve_lyapunov, solve_sylvester as solve_sylvester
from ._superop import partial_trace as partial_trace
