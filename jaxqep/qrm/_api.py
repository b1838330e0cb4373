"""The reset-model functions of 0.1 (``jaxqep.qrm.entropy_production``, ...), kept as thin
wrappers over the problem objects and :func:`jaxqep.entropy_production`."""

from __future__ import annotations

from collections.abc import Sequence

from jaxtyping import Array, ArrayLike

from .. import _validate as val
from .._entry import call, run
from ..solvers import Auto, DenseLU, MatrixFree, Reduced
from ..solvers._base import AbstractSolver
from ._model_reset import ResetModel
from ._model_tripartite import AUTO_MAX_REDUCED, TripartiteResetModel
from ._reset import closed_form_entropy_production
from ._results import EntropyProduction
from ._spohn import dense_spohn_entropy_production

__all__ = [
    "entropy_production",
    "tripartite_entropy_production",
    "spohn_entropy_production",
    "solver_for_method",
]

_ITERATIVE_OPTIONS = {
    "tol": "rtol",
    "residual_tol": "residual_tol",
    "max_iterations": "max_steps",
    "restart": "restart",
    "stagnation_cycles": "stagnation_cycles",
}
_METHODS = ("auto", "reduced", "dense", "iterative")


def solver_for_method(method: str, d: int, solver_options: dict) -> AbstractSolver:
    """The solver object of a 0.1 ``method=`` string (and its ``**solver_options``)."""
    if method not in _METHODS:
        raise ValueError(
            f"method: must be 'auto', 'reduced', 'dense' or 'iterative', got {method!r}"
        )
    if method == "iterative" or (method == "auto" and d > AUTO_MAX_REDUCED):
        unknown = set(solver_options) - set(_ITERATIVE_OPTIONS)
        if unknown:
            raise TypeError(
                f"unexpected solver options {sorted(unknown)}; valid: {sorted(_ITERATIVE_OPTIONS)}"
            )
        return MatrixFree(**{_ITERATIVE_OPTIONS[k]: v for k, v in solver_options.items()})
    if solver_options:
        raise TypeError(
            f"unexpected solver options for method {method!r}: {sorted(solver_options)}"
        )
    return {"auto": Auto(), "reduced": Reduced(), "dense": DenseLU()}[method]


def entropy_production(
    H: ArrayLike,
    taus: ArrayLike,
    gammas: ArrayLike,
    lambdas: ArrayLike | None = None,
    rho: ArrayLike | None = None,
) -> EntropyProduction:
    """Spohn entropy production of a reset model with an affinely split Hamiltonian.

    ``L = Σ_j L_j`` with ``L_j = -i[λ_j H, ·] + γ_j (τ_j tr(·) - ·)`` and ``Σ_j λ_j = 1``
    (seed 004, Sec. 4). Every steady state is in closed form (eqs. 3.8, 4.2), so the cost
    is a few ``d x d`` eigendecompositions. Same as
    ``jaxqep.entropy_production(jaxqep.ResetModel(H, taus, gammas, lambdas))``.

    Args:
        H: Hermitian Hamiltonian, shape ``(d, d)``.
        taus: reset states ``τ_j``, shape ``(J, d, d)`` (density matrices).
        gammas: rates ``γ_j > 0``, shape ``(J,)``.
        lambdas: affine coefficients ``λ_j`` (real, summing to 1), shape ``(J,)``.
            ``None`` means ``λ_j = γ_j / Γ`` (case i of Proposition 4.3).
        rho: evaluate ``σ_j(ρ)`` at this state instead of the steady state.

    Returns:
        :class:`EntropyProduction` with ``total``, ``parts`` (``σ_j``), ``fluxes``
        (``φ_j = tr(L_j(ρ) ln ρ_j)``), ``rho``, ``partial_states`` (``ρ_j``), ``residual``.

    Raises:
        ValueError: non-Hermitian ``H``; ``τ_j`` not a density matrix; non-positive
            rates; ``λ`` not summing to 1; shape mismatches; a non-faithful state whose
            logarithm is needed (eagerly; ``equinox.EquinoxRuntimeError`` under ``jit``).
        TypeError: complex rates or ``λ``.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jnp.array([[0.0, 0.35], [0.35, 1.0]])
        >>> tau = jnp.diag(jnp.array([0.9, 0.1]))
        >>> ep = jaxqep.qrm.entropy_production(H, jnp.stack([tau] * 3),
        ...                                     jnp.array([1.0, 0.5, 1 / 3]))
        >>> abs(float(ep.total)) < 1e-12   # identical resets, λ_j = γ_j/Γ: Prop. 4.5
        True
    """
    model = ResetModel(H, taus, gammas, lambdas)
    if rho is None:
        return run("entropy_production", model, None, True)
    state = val.density_matrix(rho, "rho", model.d)
    return call(_at_state, model, state)


def _at_state(model: ResetModel, state: Array) -> EntropyProduction:
    return closed_form_entropy_production(model.H, model.taus, model.gammas, model.lambdas, state)


def tripartite_entropy_production(
    H: ArrayLike,
    tau_A: ArrayLike,
    tau_B: ArrayLike,
    gamma_A: ArrayLike,
    gamma_B: ArrayLike,
    dims: Sequence[int],
    g: ArrayLike,
    lam: ArrayLike,
    method: str = "auto",
    **solver_options,
) -> EntropyProduction:
    """Entropy production of a tripartite reset model ``H_A ⊗ H_C ⊗ H_B``.

    Same as ``jaxqep.entropy_production(jaxqep.TripartiteResetModel(...), solver)`` with
    the solver named by ``method``.

    Args:
        H: Hermitian coupling Hamiltonian, shape ``(d, d)`` with ``d = n_A n_C n_B``.
        tau_A: reset state on ``H_A``, ``(n_A, n_A)``.
        tau_B: reset state on ``H_B``, ``(n_B, n_B)``.
        gamma_A: reset rate of A (> 0).
        gamma_B: reset rate of B (> 0).
        dims: ``(n_A, n_C, n_B)`` as Python ints (static).
        g: coupling constant (real, non-zero).
        lam: splitting ``λ`` (real, not 0 or 1).
        method: ``"reduced"`` (:class:`jaxqep.solvers.Reduced`), ``"dense"``
            (:class:`jaxqep.solvers.DenseLU`), ``"iterative"``
            (:class:`jaxqep.solvers.MatrixFree`) or ``"auto"`` (reduced up to ``d = 32``,
            iterative above).
        **solver_options: options of the iterative solver (``tol``, ``residual_tol``,
            ``max_iterations``, ``restart``, ``stagnation_cycles``).

    Returns:
        :class:`EntropyProduction` with parts and fluxes ordered ``(A, B)``.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jaxqep.models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
        >>> tA = jaxqep.models.diagonal_reset_state(0.95)
        >>> tB = jaxqep.models.diagonal_reset_state(0.6)
        >>> ep = jaxqep.qrm.tripartite_entropy_production(H, tA, tB, 0.7, 0.6, (2, 2, 2), 0.1, 0.3)
        >>> bool(ep.total > 0)
        True
    """
    model = TripartiteResetModel(H, tau_A, tau_B, gamma_A, gamma_B, dims, g, lam)
    solver = solver_for_method(method, model.d, solver_options)
    return run("entropy_production", model, solver, True)


def spohn_entropy_production(
    lindbladians: ArrayLike | Sequence[ArrayLike], rho: ArrayLike | None = None
) -> EntropyProduction:
    """Entropy production of ``L = Σ_j L_j`` for Lindbladians given as matrices.

    Every ``L_j`` must have a unique, faithful steady state ``ρ_j``; so must ``L`` when
    ``rho`` is not given. All steady states are obtained by one batched, implicitly
    differentiated dense solve. Same as
    ``jaxqep.entropy_production(jaxqep.SuperoperatorModel(lindbladians))``.

    Args:
        lindbladians: stack ``(J, d², d²)`` (or a sequence) of Lindbladian matrices in
            row-major vectorisation (build them with :mod:`jaxqep.superop`).
        rho: the state at which to evaluate ``σ_j(ρ)`` (eq. 2.10); defaults to the steady
            state of ``L``.

    Returns:
        :class:`EntropyProduction`.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> from jaxqep import superop
        >>> H = jnp.array([[0.0, 0.35], [0.35, 1.0]])
        >>> taus = [jnp.diag(jnp.array([0.9, 0.1])), jnp.diag(jnp.array([0.3, 0.7]))]
        >>> Ls = [superop.hamiltonian_superop(0.5 * H) + superop.reset_dissipator(t) for t in taus]
        >>> ep = jaxqep.qrm.spohn_entropy_production(jnp.stack(Ls))
        >>> bool(ep.total > 0)
        True
    """
    from .._superop_model import SuperoperatorModel

    if not isinstance(lindbladians, (list, tuple)):
        arr = val.as_inexact(lindbladians, "lindbladians")  # pyright: ignore[reportArgumentType]
        if arr.ndim != 3:
            raise ValueError(f"lindbladians: expected shape (J, d², d²), got {arr.shape}")
        lindbladians = arr
    model = SuperoperatorModel(lindbladians, name="lindbladians")
    if rho is None:
        return run("entropy_production", model, DenseLU(), True)
    state = val.density_matrix(rho, "rho", model.d)
    return call(_spohn_at_state, model, state)


def _spohn_at_state(model, state):
    return dense_spohn_entropy_production(model.parts, state)
