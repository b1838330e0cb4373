"""Gradient-based optimisation and sensitivity analysis of jaxqep quantities.

* :func:`minimize` / :func:`maximize`: optimise any scalar built from jaxqep results over a
  pytree of parameters with an optax optimiser, under constraints the physics needs.
* Constraints are *parametrisations*: each constrained leaf is written as a smooth function
  of unconstrained variables, and the optimiser works on those. :class:`AffineSimplex`
  (``Σ x = total``, any reals: the affine splittings ``Σ λ_j = 1`` of seed 004),
  :class:`ProbabilitySimplex` (``x_j > 0, Σ x = 1``), :class:`Positive` (rates),
  :class:`Interval`.
* :func:`sensitivity`: the full Jacobian (pytree) of a vector of outputs with respect to
  a pytree of parameters in one call.

Example:
    >>> import jax.numpy as jnp, optax, jaxqep
    >>> from jaxqep import optimize
    >>> res = optimize.minimize(lambda p: jnp.sum((p - jnp.array([0.2, 0.3, 0.5])) ** 2),
    ...                         jnp.array([1.0, 0.0, 0.0]),
    ...                         constraints=optimize.AffineSimplex())
    >>> bool(res.converged), bool(jnp.allclose(res.params, jnp.array([0.2, 0.3, 0.5])))
    (True, True)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.core
import jax.numpy as jnp
import numpy as np
import optax
import optimistix as optx
from jaxtyping import Array, ArrayLike, PyTree

__all__ = [
    "Constraint",
    "Unconstrained",
    "AffineSimplex",
    "ProbabilitySimplex",
    "Positive",
    "Interval",
    "OptimizeResult",
    "minimize",
    "maximize",
    "sensitivity",
]


# --------------------------------------------------------------------------------------
# Constraints as parametrisations.
# --------------------------------------------------------------------------------------


class Constraint(eqx.Module):
    """A bijection between a constrained set and an unconstrained space."""

    def to_unconstrained(self, x: Array) -> Array:
        raise NotImplementedError

    def from_unconstrained(self, u: Array) -> Array:
        raise NotImplementedError

    def check(self, x: Array) -> None:
        """Raise ``ValueError`` if a concrete ``x`` violates the constraint."""


class Unconstrained(Constraint):
    """No constraint (identity)."""

    def to_unconstrained(self, x: Array) -> Array:
        return x

    def from_unconstrained(self, u: Array) -> Array:
        return u


def _sum_zero_basis(n: int) -> np.ndarray:
    """Orthonormal basis ``(n, n-1)`` of ``{v ∈ R^n : Σ v = 0}`` (Helmert-like, via QR)."""
    m = np.eye(n)[:, 1:] - np.eye(n)[:, :1]
    q, _ = np.linalg.qr(m)
    return q


class AffineSimplex(Constraint):
    """``Σ_j x_j = total`` over the last axis, ``x_j`` any reals (affine, not convex).

    ``x = total/n + B z`` with ``B`` an orthonormal basis of the sum-zero subspace, so the
    Euclidean geometry is preserved: a gradient step in ``z`` is the projected gradient
    step in ``x``. Used for the affine splittings ``Σ λ_j = 1`` of seed 004, Sec. 4.
    """

    total: float = 1.0

    def to_unconstrained(self, x):
        n = x.shape[-1]
        return (x - self.total / n) @ jnp.asarray(_sum_zero_basis(n), dtype=x.dtype)

    def from_unconstrained(self, u):
        n = u.shape[-1] + 1
        return self.total / n + u @ jnp.asarray(_sum_zero_basis(n).T, dtype=u.dtype)

    def check(self, x):
        s = np.sum(np.asarray(x), axis=-1)
        if not np.allclose(s, self.total, rtol=1e-8, atol=1e-8):
            raise ValueError(f"AffineSimplex: the initial value must sum to {self.total}, got {s}")


class ProbabilitySimplex(Constraint):
    """``x_j > 0`` and ``Σ_j x_j = 1`` over the last axis (softmax parametrisation)."""

    def to_unconstrained(self, x):
        lx = jnp.log(x)
        return lx - jnp.mean(lx, axis=-1, keepdims=True)

    def from_unconstrained(self, u):
        return jax.nn.softmax(u, axis=-1)

    def check(self, x):
        x = np.asarray(x)
        if np.any(x <= 0) or not np.allclose(np.sum(x, axis=-1), 1.0, atol=1e-8):
            raise ValueError("ProbabilitySimplex: the initial value must be positive and sum to 1")


class Positive(Constraint):
    """``x > lower`` elementwise via ``x = lower + softplus(u)`` (e.g. reset rates)."""

    lower: float = 0.0

    def to_unconstrained(self, x):
        y = x - self.lower
        return y + jnp.log(-jnp.expm1(-y))  # inverse softplus, stable for large y

    def from_unconstrained(self, u):
        return self.lower + jax.nn.softplus(u)

    def check(self, x):
        if np.any(np.asarray(x) <= self.lower):
            raise ValueError(f"Positive: the initial value must exceed {self.lower}")


class Interval(Constraint):
    """``lower < x < upper`` elementwise via a sigmoid (e.g. reset populations ``t``)."""

    lower: float = 0.0
    upper: float = 1.0

    def to_unconstrained(self, x):
        s = (x - self.lower) / (self.upper - self.lower)
        return jnp.log(s) - jnp.log1p(-s)

    def from_unconstrained(self, u):
        return self.lower + (self.upper - self.lower) * jax.nn.sigmoid(u)

    def check(self, x):
        x = np.asarray(x)
        if np.any(x <= self.lower) or np.any(x >= self.upper):
            raise ValueError(
                f"Interval: the initial value must lie in ({self.lower}, {self.upper})"
            )


def _is_constraint_leaf(x) -> bool:
    return x is None or isinstance(x, Constraint)


def _map_constraints(fn, constraints, tree):
    if constraints is None:
        return jax.tree_util.tree_map(lambda p: fn(Unconstrained(), p), tree)
    return jax.tree_util.tree_map(
        lambda c, sub: jax.tree_util.tree_map(
            lambda p: fn(Unconstrained() if c is None else c, p), sub
        ),
        constraints,
        tree,
        is_leaf=_is_constraint_leaf,
    )


# --------------------------------------------------------------------------------------
# Optimisation loop.
# --------------------------------------------------------------------------------------


class OptimizeResult(eqx.Module):
    """Result of :func:`minimize` / :func:`maximize`.

    Attributes:
        params: the optimised parameters (constrained, same pytree as the input).
        value: objective at ``params``.
        history: objective after each iteration, shape ``(steps,)``; NaN after an early
            stop.
        grad_norm: norm of the gradient with respect to the *unconstrained* variables at
            ``params``.
        converged: ``grad_norm ≤ gtol``.
        steps: iterations performed.
    """

    params: PyTree
    value: Array
    history: Array
    grad_norm: Array
    converged: Array
    steps: Array


def _tree_norm(t) -> Array:
    leaves = jax.tree_util.tree_leaves(t)
    return jnp.sqrt(sum(jnp.sum(jnp.abs(x) ** 2) for x in leaves))


class _TrackedState(eqx.Module):
    inner: Any
    history: Array
    grad_norm: Array
    k: Array


class _GradientTolerance(optx.AbstractMinimiser):
    """An optimistix minimiser that runs ``inner`` and stops once the gradient norm is
    ``<= gtol`` (the stopping rule of :func:`minimize`), recording the objective after
    each step. The inner solver's own termination only ends the run on failure."""

    inner: optx.AbstractMinimiser
    gtol: float
    steps: int
    rtol: float = 0.0
    atol: float = 0.0
    norm: Callable = optx.max_norm

    def init(self, fn, y, args, options, f_struct, aux_struct, tags):
        inner = self.inner.init(fn, y, args, options, f_struct, aux_struct, tags)
        (_, _), g = jax.value_and_grad(lambda x: fn(x, args), has_aux=True)(y)
        hist = jnp.full((self.steps,), jnp.nan, dtype=f_struct.dtype)
        return _TrackedState(inner, hist, _tree_norm(g), jnp.asarray(0))

    def step(self, fn, y, args, options, state, tags):
        y_new, inner, aux = self.inner.step(fn, y, args, options, state.inner, tags)
        (f, _), g = jax.value_and_grad(lambda x: fn(x, args), has_aux=True)(y_new)
        k = jnp.minimum(state.k, self.steps - 1)
        hist = state.history.at[k].set(f)
        return y_new, _TrackedState(inner, hist, _tree_norm(g), state.k + 1), aux

    def terminate(self, fn, y, args, options, state, tags):
        done, result = self.inner.terminate(fn, y, args, options, state.inner, tags)
        failed = done & (result != optx.RESULTS.successful)
        return (state.grad_norm <= self.gtol) | failed, optx.RESULTS.where(
            failed, result, optx.RESULTS.successful
        )

    def postprocess(self, fn, y, aux, args, options, state, tags, result):
        return self.inner.postprocess(fn, y, aux, args, options, state.inner, tags, result)


def _run(loss_fn, solver, constraints, steps, gtol, u0, args):
    def to_params(u):
        return _map_constraints(lambda c, v: c.from_unconstrained(v), constraints, u)

    def objective(u, a):
        val = jnp.asarray(loss_fn(to_params(u), *a))
        if val.shape != ():
            raise ValueError(f"minimize: loss_fn must return a scalar, got shape {val.shape}")
        if jnp.iscomplexobj(val):
            raise TypeError("minimize: loss_fn must return a real scalar")
        return val, None

    tracked = _GradientTolerance(inner=solver, gtol=gtol, steps=steps)
    sol = optx.minimise(
        objective,
        tracked,
        u0,
        args,
        has_aux=True,
        max_steps=steps,
        adjoint=optx.ImplicitAdjoint(),
        throw=False,
    )
    u = sol.value
    v, _ = objective(u, args)
    st = sol.state
    return to_params(u), v, st.grad_norm, st.k, st.history


# Compiled once per (loss_fn, solver, constraints, steps, gtol, shapes): pass model data
# through ``args`` (traced) rather than closing over it to reuse the compilation.
_run_jit = eqx.filter_jit(_run)


def _as_solver(optimizer) -> optx.AbstractMinimiser:
    """An optimistix minimiser from an optax optimiser (or an optimistix minimiser)."""
    if isinstance(optimizer, optx.AbstractMinimiser):
        return optimizer
    if isinstance(optimizer, optax.GradientTransformation):
        # Tolerances 0: the stopping rule is minimize's gradient tolerance.
        return optx.OptaxMinimiser(optimizer, rtol=0.0, atol=0.0)
    raise TypeError(
        "optimizer: expected an optax GradientTransformation or an optimistix minimiser, "
        f"got {type(optimizer).__name__}"
    )


def minimize(
    loss_fn: Callable[..., ArrayLike],
    params: PyTree,
    *,
    args: tuple = (),
    optimizer: optax.GradientTransformation | optx.AbstractMinimiser | None = None,
    steps: int = 500,
    constraints: PyTree | None = None,
    gtol: float = 1e-9,
    jit: bool = True,
) -> OptimizeResult:
    """Minimise a scalar function of a parameter pytree (optimistix, with optax inside).

    A thin layer over :func:`optimistix.minimise` with the implicit adjoint
    (:class:`optimistix.ImplicitAdjoint`): the optimum is differentiable with respect to
    everything in ``args`` (and anything ``loss_fn`` closes over) by the implicit function
    theorem at the optimum, never by backpropagating through the iterations.

    Args:
        loss_fn: ``(params, *args) -> scalar`` (real); built from any jaxqep results.
        params: initial parameters (pytree of real arrays); must satisfy the constraints.
        args: extra arguments of ``loss_fn`` (pytree). Arrays here are traced, so repeated
            calls with new data reuse one compilation (closures over data do not).
        optimizer: any optax ``GradientTransformation`` (run through
            :class:`optimistix.OptaxMinimiser`; optimisers that need the value and the
            objective, ``optax.lbfgs`` and its line search, receive them) or an optimistix
            minimiser (e.g. ``optimistix.BFGS(rtol=0.0, atol=0.0)``). Default:
            ``optax.lbfgs()``.
        steps: maximum number of iterations.
        constraints: pytree of :class:`Constraint` (or ``None`` leaves) with the structure
            of ``params`` or a prefix of it; ``None`` means unconstrained.
        gtol: stop once the gradient norm in the unconstrained variables is ``≤ gtol``.
        jit: compile the whole loop (``lax.while_loop``).

    Returns:
        :class:`OptimizeResult`.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> from jaxqep import optimize
        >>> res = optimize.minimize(lambda g: (g - 2.0) ** 2 + 1.0, jnp.array(0.5),
        ...                         constraints=optimize.Positive())
        >>> round(float(res.params), 6), round(float(res.value), 6)
        (2.0, 1.0)
    """
    if optimizer is None:
        optimizer = _default_optimizer()
    params = jax.tree_util.tree_map(jnp.asarray, params)
    for leaf in jax.tree_util.tree_leaves(params):
        if jnp.iscomplexobj(leaf):
            raise TypeError("minimize: parameters must be real (split complex ones into re/im)")

    def _check(c, p):
        if not isinstance(p, jax.core.Tracer):
            c.check(p)
        return p

    _map_constraints(_check, constraints, params)
    u0 = _map_constraints(lambda c, p: c.to_unconstrained(p), constraints, params)
    solver = _as_solver(optimizer)
    if int(steps) < 1:
        raise ValueError(f"steps: must be >= 1, got {steps}")
    runner = _run_jit if jit else _run
    p, v, gnorm, k, hist = runner(
        loss_fn, solver, constraints, int(steps), float(gtol), u0, tuple(args)
    )
    return OptimizeResult(
        params=p,
        value=v,
        history=hist,
        grad_norm=gnorm,
        converged=gnorm <= gtol,
        steps=k,
    )


@functools.lru_cache(maxsize=1)
def _default_optimizer() -> optx.AbstractMinimiser:
    # One shared instance, so that compilations keyed on the optimiser are reused.
    return optx.OptaxMinimiser(optax.lbfgs(), rtol=0.0, atol=0.0)


def maximize(
    objective_fn: Callable[[PyTree], ArrayLike],
    params: PyTree,
    **kwargs: Any,
) -> OptimizeResult:
    """Maximise ``objective_fn`` (same arguments as :func:`minimize`).

    ``value`` and ``history`` are reported for the objective itself (not its negative).

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep import optimize
        >>> res = optimize.maximize(lambda x: -(x - 0.3) ** 2, jnp.array(0.9),
        ...                         constraints=optimize.Interval(0.0, 1.0))
        >>> round(float(res.params), 6)
        0.3
    """
    res = minimize(lambda p: -jnp.asarray(objective_fn(p)), params, **kwargs)
    return eqx.tree_at(lambda r: (r.value, r.history), res, (-res.value, -res.history))


def sensitivity(fn: Callable[[PyTree], PyTree], params: PyTree, *, mode: str = "auto") -> PyTree:
    """Full Jacobian of every output of ``fn`` with respect to every parameter, in one call.

    Args:
        fn: ``params -> outputs`` (pytrees of real arrays), e.g. a dict of ``σ_A``,
            ``σ_B`` and the fluxes of a jaxqep model.
        params: the point of evaluation (pytree).
        mode: ``"fwd"`` (``jax.jacfwd``: cheap when there are few parameters), ``"rev"``
            (``jax.jacrev``: cheap when there are few outputs) or ``"auto"`` (chooses by
            comparing the total sizes).

    Returns:
        A nested pytree: ``jac[output_path][param_path]`` has shape
        ``output.shape + param.shape``.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep import optimize
        >>> jac = optimize.sensitivity(lambda p: {"y": p["a"] * p["b"]},
        ...                            {"a": jnp.array(2.0), "b": jnp.array(3.0)})
        >>> float(jac["y"]["a"]), float(jac["y"]["b"])
        (3.0, 2.0)
    """
    params = jax.tree_util.tree_map(jnp.asarray, params)
    if mode == "auto":
        n_in = sum(int(np.size(x)) for x in jax.tree_util.tree_leaves(params))
        out_shape = jax.eval_shape(fn, params)
        n_out = sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(out_shape))
        mode = "fwd" if n_in <= n_out else "rev"
    if mode == "fwd":
        return jax.jacfwd(fn)(params)
    if mode == "rev":
        return jax.jacrev(fn)(params)
    raise ValueError(f"mode: must be 'auto', 'fwd' or 'rev', got {mode!r}")
