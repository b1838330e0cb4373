"""Functions of Hermitian matrices with derivatives that stay finite at degenerate spectra.

Why one module of ~580 lines: the multiplier primitive and its JVP, transpose, batching and
lowering rules form one primitive; the matrix functions are thin users of it.

JAX differentiates ``eigh`` through its eigenvectors, whose derivative contains
``1 / (w_i - w_j)``: it is NaN or inf whenever two eigenvalues coincide (thermal states,
equilibrium steady states, ``tau ⊗ tau ⊗ tau``...).  For a *spectral function*
``f(A) = U diag(f(w)) U^†`` the derivative is nevertheless perfectly regular; it is given
by the Daleckii-Krein formula

    Df(A)[E] = U (F ∘ (U^† E U)) U^†,   F_ij = f^[1](w_i, w_j) = (f(w_i) - f(w_j)) / (w_i - w_j),

with ``F_ii = f'(w_i)`` and the divided difference replaced by its limit when
``w_i ≈ w_j``, and its own derivative by second divided differences,

    D²f(A)[E, K] = U (Σ_k f^[2](w_i, w_k, w_j) (Ê_ik K̂_kj + K̂_ik Ê_kj)) U^†,

with the confluent limits (``f''/2`` at a triple eigenvalue).  ``D f(A)`` is a
multiplication by ``F`` in the eigenbasis; such *eigenbasis multipliers* are one JAX
primitive here (:data:`_multiplier_p`), with a JVP rule (the formula above), a transpose
and a batching rule, so forward and reverse mode, and their compositions
(``jax.hessian``), are finite everywhere ``f`` is smooth.  The same primitive carries the
resolvent ``(i[K, ·] + 1)^{-1}`` of the closed-form reset steady state, whose derivative
is itself (differentiable to any order).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir
from jaxtyping import Array, ArrayLike

__all__ = [
    "hermitian_function",
    "logm_h",
    "logm_eigh",
    "sqrtm_h",
    "expm_h",
    "von_neumann_entropy",
    "relative_entropy",
    "hermitian_part",
    "commutator_resolvent",
]


def hermitian_part(a: ArrayLike) -> Array:
    """``(A + A^†) / 2``."""
    a = jnp.asarray(a)
    return 0.5 * (a + jnp.conj(jnp.swapaxes(a, -1, -2)))


def _dagger(a: Array) -> Array:
    return jnp.conj(jnp.swapaxes(a, -1, -2))


def _divided_differences(
    w: Array, fw: Array, dfw: Array, special: Callable[[Array, Array], Array] | None
) -> Array:
    """First divided differences of f on the spectrum ``w`` (real, shape (..., n))."""
    wi = w[..., :, None]
    wj = w[..., None, :]
    diff = wi - wj
    scale = jnp.maximum(jnp.maximum(jnp.abs(wi), jnp.abs(wj)), 1.0)
    # Below this relative gap the finite-difference quotient loses more digits than the
    # midpoint rule (error O(gap^2 f''')) does; 1e-6 balances the two in float64.
    eps = jnp.sqrt(jnp.finfo(w.dtype).eps) * 0.01
    close = jnp.abs(diff) <= eps * scale
    safe = jnp.where(close, 1.0, diff)
    if special is not None:
        quotient = special(jnp.broadcast_to(wi, diff.shape), jnp.broadcast_to(wj, diff.shape))
    else:
        quotient = (fw[..., :, None] - fw[..., None, :]) / safe
    limit = 0.5 * (dfw[..., :, None] + dfw[..., None, :])
    return jnp.where(close, limit, quotient)


def _log_divided(a: Array, b: Array) -> Array:
    # (log a - log b)/(a - b) computed as log1p(r)/(r b) with r = (a-b)/b, stable near a=b.
    # Only used where a, b > 0 and not "close" (the close branch is replaced by the limit).
    b_safe = jnp.where(b > 0, b, 1.0)
    a_safe = jnp.where(a > 0, a, 1.0)
    r = (a_safe - b_safe) / b_safe
    r_safe = jnp.where(r == 0, 1.0, r)
    return jnp.log1p(r_safe) / (r_safe * b_safe)


# --------------------------------------------------------------------------------------
# Derivatives of any order: eigenbasis (Schur) multipliers as a JAX primitive.
# --------------------------------------------------------------------------------------
#
# Why a primitive. A ``custom_jvp`` rule whose *tangent* is ``U (F ∘ U^† dA U) U^†`` is
# right to first order, but ``jax.hessian`` (forward over reverse) linearises that rule:
# the part that depends on the primal only (``eigh``, ``F``) is then differentiated by
# the outer JVP as ordinary code, i.e. through the eigenvectors (NaN at degenerate
# spectra), and JAX inlines any nested ``custom_jvp`` whose arguments include a tangent,
# so its rule is lost. A primitive is never inlined: ``X ↦ U (Φ(w) ∘ U^† X U) U^†`` stays
# one operation in the linearised program, its transpose is again such a multiplier,
# and the outer JVP applies *our* rule to it. The eigendecomposition ``(w, U)`` of
# ``A`` is passed in with ``stop_gradient`` (it is a cache); every derivative with respect
# to ``A`` comes from the rule, never from ``eigh``.


def _cdtype(*xs: Array):
    return jnp.result_type(*[x.dtype for x in xs])


class _Kernel:
    """A scalar function with what the divided differences need (compared by identity).

    ``derivs(x) -> (f', f'', f''', f'''')``; ``pair(x, y)``: an accurate
    ``(f(x) - f(y)) / (x - y)`` for ``x != y`` (``None``: the plain quotient);
    ``relative``: gaps are measured relative to ``max |x|`` (``log``, ``sqrt``), otherwise
    relative to ``max(|x|, 1)``.
    """

    __slots__ = ("f", "derivs", "pair", "relative", "name")

    def __init__(self, f, derivs, pair=None, relative=False, name="f"):
        self.f, self.derivs, self.pair, self.relative, self.name = f, derivs, pair, relative, name

    def __repr__(self) -> str:  # shows in jaxprs
        return f"Kernel({self.name})"


def _log_derivs(x):
    r = 1.0 / x
    return r, -r * r, 2.0 * r**3, -6.0 * r**4


def _sqrt_derivs(x):
    s = jnp.sqrt(x)
    r = 1.0 / x
    return 0.5 / s, -0.25 * r / s, 0.375 * r * r / s, -0.9375 * r**3 / s


def _exp_derivs(x):
    e = jnp.exp(x)
    return e, e, e, e


def _sqrt_pair(x, y):
    return 1.0 / (jnp.sqrt(x) + jnp.sqrt(y))


def _exp_pair(x, y):
    return jnp.exp(y) * jnp.expm1(x - y) / (x - y)


_LOG = _Kernel(jnp.log, _log_derivs, _log_divided, relative=True, name="log")
_SQRT = _Kernel(jnp.sqrt, _sqrt_derivs, _sqrt_pair, relative=True, name="sqrt")
_EXP = _Kernel(jnp.exp, _exp_derivs, _exp_pair, relative=False, name="exp")


def _elementwise_derivative(g: Callable[[Array], Array]) -> Callable[[Array], Array]:
    return lambda x: jax.jvp(g, (x,), (jnp.ones_like(x),))[1]


@functools.lru_cache(maxsize=64)
def _generic_kernel(f: Callable, df: Callable) -> _Kernel:
    d2 = _elementwise_derivative(df)
    d3 = _elementwise_derivative(d2)
    d4 = _elementwise_derivative(d3)
    return _Kernel(f, lambda x: (df(x), d2(x), d3(x), d4(x)), None, False, "user")


# Gaps below these (relative) sizes use Taylor expansions about the mean instead of the
# quotients: 1e-3 for f^[1] (quotient error ~eps/1e-3, Taylor error ~1e-12 f^(5)), 1e-4
# for f^[2] (quotient of first differences ~eps/1e-4, Taylor error ~1e-12 f^(5)).
_T1, _T2 = 1e-3, 1e-4


def _scale(kern: _Kernel, *xs: Array) -> Array:
    s = functools.reduce(jnp.maximum, [jnp.abs(x) for x in xs])
    return jnp.maximum(s, 1e-300) if kern.relative else jnp.maximum(s, 1.0)


def _dd1_pairs(kern: _Kernel, x: Array, y: Array) -> Array:
    """``f^[1](x, y)`` elementwise (arrays of the same shape), confluent limit included."""
    d = x - y
    scale = _scale(kern, x, y)
    close = jnp.abs(d) <= _T1 * scale
    m = 0.5 * (x + y)
    d1, _, d3, _ = kern.derivs(m)
    taylor = d1 + d3 * (d * d) / 24.0
    y_safe = jnp.where(close, x + scale, y)  # any point far from x: no 0/0 in either branch
    if kern.pair is not None:
        quotient = kern.pair(x, y_safe)
    else:
        quotient = (kern.f(x) - kern.f(y_safe)) / (x - y_safe)
    return jnp.where(close, taylor, quotient)


def _dd1(kern: _Kernel, w: Array) -> Array:
    """``F_ij = f^[1](w_i, w_j)`` for a spectrum ``(..., n)``."""
    x = jnp.broadcast_to(w[..., :, None], w.shape + w.shape[-1:])
    y = jnp.swapaxes(x, -1, -2)
    return _dd1_pairs(kern, x, y)


def _dd2(kern: _Kernel, w: Array) -> Array:
    """``T_ikj = f^[2](w_i, w_k, w_j)`` for a spectrum ``(..., n)``, shape ``(..., n, n, n)``.

    From the extreme arguments, ``(f^[1](hi, mid) - f^[1](mid, lo)) / (hi - lo)``; when
    all three are within ``1e-4`` (relative), the Taylor series about their mean ``m``,
    ``f''(m)/2 + f''''(m)/48 Σ (x - m)²`` (the odd term vanishes), so it tends to
    ``f''/2`` at a triple eigenvalue.
    """
    n = w.shape[-1]
    shape = w.shape[:-1] + (n, n, n)
    x = jnp.broadcast_to(w[..., :, None, None], shape)
    y = jnp.broadcast_to(w[..., None, :, None], shape)
    z = jnp.broadcast_to(w[..., None, None, :], shape)
    lo = jnp.minimum(jnp.minimum(x, y), z)
    hi = jnp.maximum(jnp.maximum(x, y), z)
    mid = jnp.maximum(jnp.minimum(x, y), jnp.minimum(jnp.maximum(x, y), z))
    spread = hi - lo
    near = spread <= _T2 * _scale(kern, lo, hi)
    far = (_dd1_pairs(kern, hi, mid) - _dd1_pairs(kern, mid, lo)) / jnp.where(near, 1.0, spread)
    m = (x + y + z) / 3.0
    _, d2, _, d4 = kern.derivs(m)
    h2 = 0.5 * ((x - m) ** 2 + (y - m) ** 2 + (z - m) ** 2)
    return jnp.where(near, 0.5 * d2 + d4 * h2 / 24.0, far)


class _DaleckiiKrein:
    """``X ↦ Df(A)[X] = U (f^[1](w) ∘ U^† X U) U^†``; its derivative in ``A`` uses ``f^[2]``."""

    __slots__ = ("kernel",)

    def __init__(self, kernel: _Kernel):
        self.kernel = kernel

    def __eq__(self, other):
        return isinstance(other, _DaleckiiKrein) and other.kernel is self.kernel

    def __hash__(self):
        return hash((_DaleckiiKrein, id(self.kernel)))

    def __repr__(self) -> str:
        return f"DaleckiiKrein({self.kernel.name})"

    def multiply(self, w: Array, xe: Array) -> Array:
        return _dd1(self.kernel, w).astype(xe.dtype) * xe

    def conj(self) -> _DaleckiiKrein:
        return self  # real multiplier

    def jvp_a(self, a, w, u, x, y, da):
        # D²f(A)[X, K] = U (Σ_k T_ikj (X_ik K_kj + K_ik X_kj)) U^† in the eigenbasis. It is
        # evaluated from a fresh eigh of A (not the stop-gradient cache): a third
        # derivative then goes through eigh (right away from degeneracies).
        del w, u, y
        w2, u2 = jnp.linalg.eigh(a)
        uh = _dagger(u2)
        t = _dd2(self.kernel, w2).astype(u2.dtype)
        xe = uh @ x @ u2
        ke = uh @ hermitian_part(da).astype(u2.dtype) @ u2
        inner = jnp.einsum("...ikj,...ik,...kj->...ij", t, xe, ke)
        inner = inner + jnp.einsum("...ikj,...ik,...kj->...ij", t, ke, xe)
        return (u2 @ inner @ uh).astype(x.dtype)


class _CommutatorResolvent:
    """``X ↦ (s i[K, ·] + 1)^{-1}(X)``, ``Φ_mn = 1/(1 + s i (w_m - w_n))`` (``s = ±1``).

    ``Y + s i[K, Y] = X`` gives ``dY = (s i[K, ·] + 1)^{-1}(dX - s i[dK, Y])``: the
    derivative is the same map again, so this is differentiable to any order.
    """

    __slots__ = ("sign",)

    def __init__(self, sign: int = 1):
        self.sign = sign

    def __eq__(self, other):
        return isinstance(other, _CommutatorResolvent) and other.sign == self.sign

    def __hash__(self):
        return hash((_CommutatorResolvent, self.sign))

    def __repr__(self) -> str:
        return f"CommutatorResolvent({self.sign:+d})"

    def multiply(self, w: Array, xe: Array) -> Array:
        diff = w[..., :, None] - w[..., None, :]
        return xe / (1.0 + (self.sign * 1j) * diff)

    def conj(self) -> _CommutatorResolvent:
        return _CommutatorResolvent(-self.sign)

    def jvp_a(self, a, w, u, x, y, da):
        da = da.astype(y.dtype)
        rhs = (-self.sign * 1j) * (da @ y - y @ da)
        return _multiplier_p.bind(a, w, u, rhs, kind=self)


def _multiplier_impl(a, w, u, x, *, kind):
    del a
    uh = _dagger(u)
    return (u @ kind.multiply(w, uh @ x @ u) @ uh).astype(x.dtype)


def _multiplier_abstract_eval(a, w, u, x, *, kind):
    del a, w, u, kind
    return x


def _multiplier_jvp(primals, tangents, *, kind):
    a, w, u, x = primals
    da, _, _, dx = tangents  # the tangents of the (w, U) cache are never used
    y = _multiplier_p.bind(a, w, u, x, kind=kind)
    terms = []
    if type(dx) is not ad.Zero:
        terms.append(_multiplier_p.bind(a, w, u, dx, kind=kind))
    if type(da) is not ad.Zero:
        terms.append(kind.jvp_a(a, w, u, x, y, da))
    if not terms:
        return y, jnp.zeros_like(y)
    return y, functools.reduce(jnp.add, terms)


def _multiplier_transpose(ct, a, w, u, x, *, kind):
    # vec form: W D W^† with W = U ⊗ conj(U); its transpose is conj(W) D conj(W)^†,
    # i.e. ct ↦ conj(U) (Φ ∘ U^T ct conj(U)) U^T = conj(multiplier_{conj Φ}(conj ct)).
    assert ad.is_undefined_primal(x)
    assert not any(ad.is_undefined_primal(v) for v in (a, w, u))
    if type(ct) is ad.Zero:
        return None, None, None, ad.Zero(x.aval)
    xt = jnp.conj(_multiplier_p.bind(a, w, u, jnp.conj(ct), kind=kind.conj()))
    return None, None, None, xt


def _multiplier_batch(args, dims, *, kind):
    size = next(arg.shape[dim] for arg, dim in zip(args, dims) if dim is not None)
    moved = [
        jnp.broadcast_to(arg, (size, *arg.shape)) if dim is None else jnp.moveaxis(arg, dim, 0)
        for arg, dim in zip(args, dims)
    ]
    return _multiplier_p.bind(*moved, kind=kind), 0


_multiplier_p = Primitive("jaxqep_eigenbasis_multiplier")
_multiplier_p.def_impl(_multiplier_impl)
_multiplier_p.def_abstract_eval(_multiplier_abstract_eval)
ad.primitive_jvps[_multiplier_p] = _multiplier_jvp
ad.primitive_transposes[_multiplier_p] = _multiplier_transpose
batching.primitive_batchers[_multiplier_p] = _multiplier_batch
mlir.register_lowering(_multiplier_p, mlir.lower_fun(_multiplier_impl, multiple_results=False))


def _frechet(kernel: _Kernel, a: Array, w: Array, u: Array, e: Array) -> Array:
    """``Df(A)[E]`` from the (stop-gradient) eigendecomposition ``(w, U)`` of ``A``."""
    dtype = _cdtype(u, e)
    return _multiplier_p.bind(
        a.astype(dtype), w, u.astype(dtype), e.astype(dtype), kind=_DaleckiiKrein(kernel)
    )


@functools.lru_cache(maxsize=64)
def _spectral_apply(kernel: _Kernel) -> Callable[[Array, Array, Array], Array]:
    """``(A, w, U) ↦ U f(w) U^†`` with the Daleckii-Krein derivative in ``A``.

    ``(w, U)`` must be ``eigh(A)`` under ``stop_gradient`` (their tangents are ignored).
    The tangent is a :data:`_multiplier_p` and the primal is this function again, so the
    rule can itself be differentiated (second derivatives finite at any degeneracy).
    """

    @jax.custom_jvp
    def apply(a, w, u):
        return (u * kernel.f(w)[..., None, :].astype(u.dtype)) @ _dagger(u)

    @apply.defjvp
    def _apply_jvp(primals, tangents):
        a, w, u = primals
        da = tangents[0]
        return apply(a, w, u), _frechet(kernel, a, w, u, hermitian_part(da))

    return apply


def _eigh_cache(a: Array, symmetrize: bool = True) -> tuple[Array, Array]:
    w, u = jnp.linalg.eigh(a, symmetrize_input=symmetrize)
    return jax.lax.stop_gradient(w), jax.lax.stop_gradient(u)


def _spectral(kernel: _Kernel, a: Array) -> Array:
    w, u = _eigh_cache(a)
    return _spectral_apply(kernel)(a, w, u)


def commutator_resolvent(k: Array, x: Array) -> Array:
    """``(i[K, ·] + 1)^{-1}(X)`` for a Hermitian ``K``: ``Y_mn = X_mn / (1 + i(k_m - k_n))``
    in the eigenbasis of ``K`` (one ``eigh``).

    Differentiable to any order in ``K`` and ``X`` (no derivative of ``eigh`` is taken, so
    it is finite when ``K`` is degenerate, e.g. ``K = 0``): the tangent is the same map
    applied to ``dX - i[dK, Y]``.

    Args:
        k: Hermitian ``(n, n)`` matrix ``K``.
        x: right-hand side ``X``, ``(n, n)``.

    Returns:
        ``Y`` with ``Y + i[K, Y] = X`` (complex).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from jaxqep._hermitian import commutator_resolvent
        >>> x = jnp.array([[0.5, 0.2], [0.2, 0.5]])
        >>> f = lambda s: commutator_resolvent(s * jnp.diag(jnp.array([1.0, -1.0])), x)[0, 1].real
        >>> float(jax.hessian(f)(0.0))  # Re 0.2 / (1 + 2is) = 0.2 / (1 + 4s²)
        -1.6
    """
    dtype = jnp.result_type(k.dtype, x.dtype, jnp.complex64)
    k = k.astype(dtype)
    w, u = _eigh_cache(k)
    return _multiplier_p.bind(k, w, u, x.astype(dtype), kind=_CommutatorResolvent(1))


def _as_matrix(a: ArrayLike) -> Array:
    a = jnp.asarray(a)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"expected a square matrix, got an array of shape {a.shape}")
    if not jnp.issubdtype(a.dtype, jnp.inexact):
        a = a.astype(jnp.result_type(float))
    return a


def logm_eigh(a: Array) -> tuple[Array, Array]:
    """``(ln A, eigenvalues of A)`` for a stack ``(..., n, n)`` of Hermitian matrices.

    One ``eigh`` per matrix serves both the logarithm and a positivity check on the
    eigenvalues (callers check them before trusting the logarithm). ``A`` must be
    Hermitian to rounding (it is not symmetrised). The logarithm has the Daleckii-Krein
    derivative of :func:`logm_h` (first and second derivatives finite at degenerate
    spectra); the eigenvalues have JAX's ``dw_i = (U^† dA U)_ii`` (finite), but a second
    derivative of an eigenvalue does not exist where it is degenerate: use them under
    ``stop_gradient`` (as checks) in anything that may be differentiated twice.

    Args:
        a: Hermitian positive-definite matrices, ``(..., n, n)``.

    Returns:
        ``(ln A, w)`` with ``w`` the ascending eigenvalues, ``(..., n)``.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep._hermitian import logm_eigh
        >>> logs, w = logm_eigh(jnp.stack([jnp.eye(2) / 2, jnp.diag(jnp.array([0.2, 0.8]))]))
        >>> float(logs[1, 0, 0]), float(w[1, 1])
        (-1.6094379124341003, 0.8)
    """
    w, u = jnp.linalg.eigh(a, symmetrize_input=False)
    cw, cu = jax.lax.stop_gradient(w), jax.lax.stop_gradient(u)
    return _spectral_apply(_LOG)(a, cw, cu), w


def hermitian_function(
    a: ArrayLike, f: Callable[[Array], Array], df: Callable[[Array], Array]
) -> Array:
    """Apply a scalar function to a Hermitian matrix, with a Daleckii-Krein derivative.

    First and second derivatives are finite at degenerate spectra (divided differences
    with their confluent limits); ``f`` must act elementwise and ``df`` must be
    differentiable by JAX (its derivatives give the confluent limits).

    Args:
        a: Hermitian matrix, shape ``(n, n)``.
        f: elementwise function of the (real) eigenvalues.
        df: its derivative, used on (near-)degenerate pairs of eigenvalues.

    Returns:
        ``U diag(f(w)) U^†`` where ``a = U diag(w) U^†``.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> jaxqep.linalg.hermitian_function(jnp.eye(2), jnp.exp, jnp.exp)[0, 0]
        Array(2.71828183, dtype=float64)
    """
    return _spectral(_generic_kernel(f, df), _as_matrix(a))


def logm_h(rho: ArrayLike) -> Array:
    """Matrix logarithm of a positive-definite Hermitian matrix.

    First and second derivatives are finite at degenerate spectra (e.g. maximally mixed
    or thermal states). A non-positive eigenvalue gives ``-inf``/NaN entries: callers
    that need a guarantee check positivity first (the entropy-production routines do).

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> float(jaxqep.linalg.logm_h(jnp.eye(2) / 2)[0, 0])  # log(1/2)
        -0.6931471805599453
    """
    return _spectral(_LOG, _as_matrix(rho))


def sqrtm_h(a: ArrayLike) -> Array:
    """Square root of a positive semi-definite Hermitian matrix (first and second
    derivatives finite where the spectrum is positive, including degenerate spectra).

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> float(jaxqep.linalg.sqrtm_h(4.0 * jnp.eye(2))[1, 1])
        2.0
    """
    return _spectral(_SQRT, _as_matrix(a))


def expm_h(a: ArrayLike) -> Array:
    """Exponential of a Hermitian matrix with a Daleckii-Krein derivative (first and
    second derivatives finite at degenerate spectra).

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> float(jaxqep.linalg.expm_h(jnp.zeros((2, 2)))[0, 0])
        1.0
    """
    return _spectral(_EXP, _as_matrix(a))


def _xlogx(w: Array) -> Array:
    return jnp.where(w > 0, w * jnp.log(jnp.where(w > 0, w, 1.0)), 0.0)


@jax.custom_jvp
def _entropy_cached(rho: Array, w: Array, u: Array) -> Array:
    return -jnp.sum(_xlogx(w), axis=-1)


@_entropy_cached.defjvp
def _entropy_cached_jvp(primals, tangents):
    rho, w, u = primals
    drho = hermitian_part(tangents[0]).astype(u.dtype)
    # dS = -tr(drho (ln rho + 1)): finite at any degeneracy, infinite only on the boundary
    # of the state space (a zero eigenvalue), as it must be. ln rho carries its own
    # Daleckii-Krein rule, so this rule can be differentiated again.
    log_rho = _spectral_apply(_LOG)(rho, w, u)
    ds = -jnp.real(
        jnp.einsum("...ab,...ba->...", drho, log_rho) + jnp.trace(drho, axis1=-2, axis2=-1)
    )
    return _entropy_cached(rho, w, u), ds.astype(w.dtype)


def von_neumann_entropy(rho: ArrayLike) -> Array:
    """Von Neumann entropy ``S(rho) = -tr(rho ln rho)`` (natural log).

    Zero eigenvalues contribute 0. The derivative ``-tr(drho (ln rho + 1))`` and the
    second derivative ``-tr(drho D ln(rho)[drho'])`` are finite at degenerate spectra.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> float(jaxqep.linalg.von_neumann_entropy(jnp.eye(2) / 2))
        0.6931471805599453
    """
    rho = _as_matrix(rho)
    w, u = _eigh_cache(rho)
    return _entropy_cached(rho, w, u)


def relative_entropy(rho: ArrayLike, sigma: ArrayLike) -> Array:
    """Umegaki relative entropy ``S(rho|sigma) = tr(rho (ln rho - ln sigma))``.

    ``sigma`` must be positive definite (otherwise the result is ``+inf`` or NaN, in
    line with eq. (2.5) of seed 004 when ``ker sigma`` is not in ``ker rho``). First and
    second derivatives are finite at degenerate spectra of either argument.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> float(jaxqep.linalg.relative_entropy(jnp.eye(2) / 2, jnp.eye(2) / 2))
        0.0
    """
    rho = _as_matrix(rho)
    sigma = _as_matrix(sigma)
    return -von_neumann_entropy(rho) - jnp.real(jnp.trace(rho @ logm_h(sigma)))
