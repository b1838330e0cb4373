"""Pairing of problems and solvers by type (no strings).

An algorithm registers, for each problem type it serves, one implementation per quantity
(``"steady_state"``, ``"entropy_production"``, ...). The entry points look the pair up
along both classes' MROs; a pair that is not registered is a ``TypeError`` that lists the
solvers which do serve the problem.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["register", "implementation", "solvers_for"]

_REGISTRY: dict[tuple[str, type, type], Callable] = {}


def register(quantity: str, problem_type: type, solver_type: type) -> Callable:
    """Decorator: ``fn(problem, solver)`` computes ``quantity`` for this pair of types."""

    def deco(fn: Callable) -> Callable:
        _REGISTRY[(quantity, problem_type, solver_type)] = fn
        return fn

    return deco


def solvers_for(quantity: str, problem) -> list[str]:
    """Names of the solver types registered for ``quantity`` of ``problem``'s type."""
    return sorted(
        {s.__name__ for (q, p, s) in _REGISTRY if q == quantity and isinstance(problem, p)}
    )


def implementation(quantity: str, problem, solver) -> Callable:
    """The registered implementation for ``(type(problem), type(solver))``."""
    for p in type(problem).__mro__:
        for s in type(solver).__mro__:
            fn = _REGISTRY.get((quantity, p, s))
            if fn is not None:
                return fn
    raise TypeError(
        f"solver: {type(solver).__name__} does not compute the {quantity.replace('_', ' ')} "
        f"of a {type(problem).__name__}; solvers that do: "
        f"{', '.join(solvers_for(quantity, problem)) or 'none'}"
    )
