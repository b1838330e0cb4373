"""Registration shared by the Gaussian solvers: every route serves ``steady_state`` and
``entropy_production`` of a :class:`jaxqep.GaussianNetwork` the same way (implicit
derivatives, the residual guarantee, one condition estimate)."""

from __future__ import annotations

from collections.abc import Callable

from .._dispatch import register
from .._solution import RESULTS, make_stats
from ..gaussian._model import GaussianNetwork
from ..gaussian._ness import solve_ness
from ..gaussian._observables import GaussianSteadyState, entropy_production_of

__all__ = ["register_gaussian"]


def register_gaussian(solver_type: type, routes: Callable) -> None:
    """Register ``solver_type`` for Gaussian networks.

    ``routes(problem, solver)`` returns ``dict(route=..., transpose_route=..., name=...,
    failure=..., hint=...)`` for :func:`jaxqep.gaussian._ness.solve_ness`.
    """

    def _solve(problem: GaussianNetwork, solver):
        # The ill-conditioning check in solve_ness's chain (one proxy of C for all).
        return solve_ness(problem, **routes(problem, solver), conditioning=True)

    @register("steady_state", GaussianNetwork, solver_type)
    def _ss(problem: GaussianNetwork, solver):
        C, residual, condition, steps = _solve(problem, solver)
        return GaussianSteadyState(
            covariance=C,
            result=RESULTS.successful,
            stats=make_stats(residual, condition, steps),
            conditioning_checked=True,
        )

    @register("entropy_production", GaussianNetwork, solver_type)
    def _ep(problem: GaussianNetwork, solver):
        C, residual, condition, steps = _solve(problem, solver)
        return entropy_production_of(problem, C, residual, condition, steps,
                                     conditioning_checked=True)
