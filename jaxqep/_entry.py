"""The entry points: ``steady_state`` and ``entropy_production`` of any problem.

One mechanism for every problem and solver:

* the pair ``(problem, solver)`` selects an implementation by type
  (:mod:`jaxqep._dispatch`; :class:`~jaxqep.solvers.Auto` asks the problem);
* the implementation runs inside :func:`equinox.filter_jit`, so eager calls are compiled
  once per structure and then cost one dispatch;
* failures of the solve (non-unique or non-faithful states, no NESS, no convergence,
  failing hypotheses, an ill-conditioned solve) raise with ``throw=True`` -- the message
  names the failing part and, under ``vmap``, the first failing batch element -- or are
  returned as ``result`` (a :class:`~jaxqep.RESULTS` code) with ``throw=False``;
* eager calls raise ``ValueError`` with jaxqep's message (under ``jit``: an
  ``equinox.EquinoxRuntimeError`` whose first line is the same message);
* derivatives are implicit (adjoint solves on the factorisations already computed).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import numpy as np

from ._dispatch import implementation
from ._errors import collect_results, error_if
from ._problem import AbstractProblem
from ._solution import ILL_CONDITIONED_MESSAGE, RESULTS, ill_conditioned
from .solvers import AbstractSolver, Auto

__all__ = ["steady_state", "entropy_production", "solve", "as_problem", "run", "call"]


def as_problem(problem: Any) -> AbstractProblem:
    """``problem`` itself, or a :class:`~jaxqep.SuperoperatorModel` for a matrix."""
    if isinstance(problem, AbstractProblem):
        return problem
    if isinstance(problem, (jax.Array, np.ndarray, list, tuple)) or hasattr(problem, "dims"):
        from ._superop_model import SuperoperatorModel

        return SuperoperatorModel(problem)
    raise TypeError(
        f"problem: expected a jaxqep problem (ResetModel, TripartiteResetModel, "
        f"GaussianNetwork, GKLSModel, SuperoperatorModel) or a Lindbladian matrix, got "
        f"{type(problem).__name__}"
    )


def _check_solver(solver: Any) -> AbstractSolver:
    if solver is None:
        return Auto()
    if not isinstance(solver, AbstractSolver):
        raise TypeError(
            f"solver: expected a jaxqep.solvers object (e.g. jaxqep.solvers.DenseLU()), got "
            f"{type(solver).__name__} {solver!r}"
        )
    return solver


def solve(quantity: str, problem: AbstractProblem, solver: AbstractSolver, throw: bool):
    """Run the registered implementation (not jitted: call inside ``filter_jit``)."""
    if isinstance(solver, Auto):
        solver = solver.select(problem)
    fn = implementation(quantity, problem, solver)
    # Input checks of a problem built under jit/vmap, tied to the whole problem so that
    # they run first and name the batch element over every vmapped axis.
    problem = problem.checked(problem)
    with collect_results(enabled=not throw) as col:
        out = fn(problem, solver)
    result = RESULTS.successful if col is None else col.result()
    stats = getattr(out, "stats", None)
    if stats is not None:
        # A route may offer a free indicator of κ; the full estimate in stats.condition
        # is then only computed if it is used.
        cond = getattr(out, "condition_indicator", None)
        bad = ill_conditioned(stats.condition if cond is None else cond)
        if throw and not getattr(out, "conditioning_checked", False):
            # One check per leaf, so that outputs nobody uses are still dead code (e.g. the
            # states rotated back to the original basis when only σ is used). A result
            # whose every inexact leaf already carries this check (its route made it
            # together with its own, on one proxy) says so: conditioning_checked.
            out = jax.tree_util.tree_map(
                lambda leaf: error_if(leaf, bad, ILL_CONDITIONED_MESSAGE)
                if eqx.is_inexact_array(leaf) else leaf, out
            )
        else:
            result = RESULTS.where(
                (result == RESULTS.successful) & bad, RESULTS.ill_conditioned, result
            )
    if hasattr(out, "result"):
        out = eqx.tree_at(lambda o: o.result, out, result)
    return out


@eqx.filter_jit
def _solve_jit(quantity: str, problem: AbstractProblem, solver: AbstractSolver, throw: bool):
    return solve(quantity, problem, solver, throw)


def _is_traced(tree) -> bool:
    tracer = jax.core.Tracer  # pyright: ignore[reportAttributeAccessIssue]
    return any(isinstance(x, tracer) for x in jax.tree_util.tree_leaves(tree))


def _first_line(e: BaseException) -> str:
    msg = str(e)
    for marker in ("EquinoxRuntimeError: ", "EqxRuntimeError: "):
        if marker in msg:
            msg = msg.split(marker, 1)[1]
    lines = [ln for ln in msg.strip().splitlines() if ln.strip()]
    return lines[0].strip() if lines else msg


def run(quantity: str, problem, solver, throw: bool):
    """Jitted call; eager failures become ``ValueError`` with jaxqep's message."""
    problem = as_problem(problem)
    solver = _check_solver(solver)
    if not isinstance(throw, bool):
        raise TypeError(f"throw: must be a Python bool, got {type(throw).__name__}")
    if _is_traced(problem):
        return _solve_jit(quantity, problem, solver, throw)
    try:
        return jax.block_until_ready(_solve_jit(quantity, problem, solver, throw))
    except eqx.EquinoxRuntimeError as e:
        raise ValueError(_first_line(e)) from None


@eqx.filter_jit
def _call_jit(fn, *args):
    return fn(*args)


def call(fn, *args):
    """``fn(*args)`` jitted (``filter_jit``), with eager failures as ``ValueError``."""
    if _is_traced(args):
        return _call_jit(fn, *args)
    try:
        return jax.block_until_ready(_call_jit(fn, *args))
    except eqx.EquinoxRuntimeError as e:
        raise ValueError(_first_line(e)) from None


def steady_state(problem, solver: AbstractSolver | None = None, *, throw: bool = True):
    """The unique steady state of a problem.

    Args:
        problem: a jaxqep problem (:class:`~jaxqep.ResetModel`,
            :class:`~jaxqep.TripartiteResetModel`, :class:`~jaxqep.SuperoperatorModel`,
            :class:`~jaxqep.GaussianNetwork`, :class:`~jaxqep.GKLSModel`, ...) or a
            Lindbladian as a ``(d², d²)`` matrix (row-major vectorisation).
        solver: a :mod:`jaxqep.solvers` object; default :class:`~jaxqep.solvers.Auto`.
        throw: raise on failure (default) or return the failure as ``result``.

    Returns:
        The family's steady-state result (for Lindbladians a
        :class:`~jaxqep.SteadyStateSolution` with ``rho``, ``result``, ``stats``).

    Raises:
        ValueError / TypeError: bad input (naming the argument), and, for eager calls
            with ``throw=True``, a failed solve.
        equinox.EquinoxRuntimeError: a failed solve under ``jit``/``vmap`` with
            ``throw=True``.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> tau = jnp.diag(jnp.array([0.8, 0.2]))
        >>> L = jaxqep.superop.reset_dissipator(tau)
        >>> sol = jaxqep.steady_state(L)
        >>> sol.rho.real.diagonal(), bool(sol.result == jaxqep.RESULTS.successful)
        (Array([0.8, 0.2], dtype=float64), True)
    """
    return run("steady_state", problem, solver, throw)


def entropy_production(problem, solver: AbstractSolver | None = None, *, throw: bool = True):
    """Entropy production of a problem at its steady state.

    Reset models (single space, tripartite, superoperator decompositions): the Spohn
    entropy production of the decomposition, result with ``total``, ``parts``,
    ``fluxes``, ``rho``, ``partial_states``, ``result``, ``stats``. Gaussian networks:
    the Wigner entropy production per channel. Thermal (GKLS) models: the Clausius form.

    Args:
        problem: a jaxqep problem, or a stack ``(J, d², d²)`` of Lindbladian parts.
        solver: a :mod:`jaxqep.solvers` object; default :class:`~jaxqep.solvers.Auto`.
        throw: raise on failure (default) or return the failure as ``result``.

    Returns:
        The family's entropy-production result.

    Raises:
        ValueError / TypeError: bad input, and eager failed solves with ``throw=True``.
        equinox.EquinoxRuntimeError: a failed solve under ``jit``/``vmap``.

    Example:
        >>> import jax, jax.numpy as jnp, jaxqep
        >>> H = jaxqep.models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
        >>> tA = jaxqep.models.diagonal_reset_state(0.95)
        >>> tB = jaxqep.models.diagonal_reset_state(0.6)
        >>> def sigma(g, lam):
        ...     m = jaxqep.TripartiteResetModel(H, tA, tB, 0.7, 0.6, (2, 2, 2), g, lam)
        ...     return jaxqep.entropy_production(m).total
        >>> s = jax.jit(jax.vmap(sigma))(jnp.array([0.1, 0.2]), jnp.array([0.3, 0.3]))
        >>> bool(jnp.all(s > 0))
        True
    """
    return run("entropy_production", problem, solver, throw)
