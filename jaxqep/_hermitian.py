"""Functions of Hermitian matrices with derivatives that stay finite at degenerate spectra.

JAX differentiates ``eigh`` through its eigenvectors, whose derivative contains
``1 / (w_i - w_j)``: it is NaN or inf whenever two eigenvalues coincide (thermal states,
equilibrium steady states, ``tau ⊗ tau ⊗ tau``...).  For a *spectral function*
``f(A) = U diag(f(w)) U^†`` the derivative is nevertheless perfectly regular; it is given
by the Daleckii-Krein formula

    Df(A)[E] = U (F ∘ (U^† E U)) U^†,   F_ij = (f(w_i) - f(w_j)) / (w_i - w_j),

with ``F_ii = f'(w_i)`` and the divided difference replaced by its limit when
``w_i ≈ w_j``.  We attach that rule with ``jax.custom_jvp`` so forward and reverse mode
(JAX transposes the linear JVP) are both finite everywhere ``f`` is smooth.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
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


def _make_spectral(
    f: Callable[[Array], Array],
    df: Callable[[Array], Array],
    special: Callable[[Array, Array], Array] | None = None,
) -> Callable[[Array], Array]:
    @jax.custom_jvp
    def fun(a: Array) -> Array:
        w, u = jnp.linalg.eigh(a)
        return (u * f(w)[..., None, :]) @ jnp.conj(jnp.swapaxes(u, -1, -2))

    @fun.defjvp
    def _jvp(primals, tangents):
        (a,), (da,) = primals, tangents
        w, u = jnp.linalg.eigh(a)
        uh = _dagger(u)
        fw = f(w)
        out = (u * fw[..., None, :]) @ uh
        F = _divided_differences(w, fw, df(w), special)
        # Only the Hermitian part of the tangent is meaningful for a Hermitian argument.
        da_h = hermitian_part(da)
        dout = u @ (F * (uh @ da_h @ u)) @ uh
        return out, dout.astype(out.dtype)

    return fun


def _as_matrix(a: ArrayLike) -> Array:
    a = jnp.asarray(a)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"expected a square matrix, got an array of shape {a.shape}")
    if not jnp.issubdtype(a.dtype, jnp.inexact):
        a = a.astype(jnp.result_type(float))
    return a


_logm = _make_spectral(jnp.log, lambda w: 1.0 / w, _log_divided)


@jax.custom_jvp
def logm_eigh(a: Array) -> tuple[Array, Array]:
    """``(ln A, eigenvalues of A)`` for a stack ``(..., n, n)`` of Hermitian matrices.

    One ``eigh`` per matrix serves both the logarithm and a positivity check on the
    eigenvalues (callers check them before trusting the logarithm). ``A`` must be
    Hermitian to rounding (it is not symmetrised). The logarithm has the Daleckii-Krein
    derivative of :func:`logm_h` (finite at degenerate spectra); the eigenvalues have
    ``dw_i = (U^† dA U)_ii``.
    """
    w, u = jnp.linalg.eigh(a, symmetrize_input=False)
    return (u * jnp.log(w)[..., None, :]) @ _dagger(u), w


@logm_eigh.defjvp
def _logm_eigh_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    w, u = jnp.linalg.eigh(a, symmetrize_input=False)
    uh = _dagger(u)
    fw = jnp.log(w)
    out = (u * fw[..., None, :]) @ uh
    big_f = _divided_differences(w, fw, 1.0 / w, _log_divided)
    inner = uh @ hermitian_part(da) @ u
    dout = u @ (big_f * inner) @ uh
    dw = jnp.real(jnp.diagonal(inner, axis1=-2, axis2=-1)).astype(w.dtype)
    return (out, w), (dout.astype(out.dtype), dw)


_sqrtm = _make_spectral(jnp.sqrt, lambda w: 0.5 / jnp.sqrt(w))
_expm = _make_spectral(jnp.exp, jnp.exp)


def hermitian_function(
    a: ArrayLike, f: Callable[[Array], Array], df: Callable[[Array], Array]
) -> Array:
    """Apply a scalar function to a Hermitian matrix, with a Daleckii-Krein derivative.

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
    return _make_spectral(f, df)(_as_matrix(a))


def logm_h(rho: ArrayLike) -> Array:
    """Matrix logarithm of a positive-definite Hermitian matrix.

    The derivative is finite at degenerate spectra (e.g. maximally mixed or thermal
    states). A non-positive eigenvalue gives ``-inf``/NaN entries: callers that need a
    guarantee check positivity first (the entropy-production routines do).

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> float(jaxqep.linalg.logm_h(jnp.eye(2) / 2)[0, 0])  # log(1/2)
        -0.6931471805599453
    """
    return _logm(_as_matrix(rho))


def sqrtm_h(a: ArrayLike) -> Array:
    """Square root of a positive semi-definite Hermitian matrix (finite derivative where
    the spectrum is positive, including degenerate spectra)."""
    return _sqrtm(_as_matrix(a))


def expm_h(a: ArrayLike) -> Array:
    """Exponential of a Hermitian matrix with a Daleckii-Krein derivative."""
    return _expm(_as_matrix(a))


def _xlogx(w: Array) -> Array:
    return jnp.where(w > 0, w * jnp.log(jnp.where(w > 0, w, 1.0)), 0.0)


@jax.custom_jvp
def _entropy(rho: Array) -> Array:
    w = jnp.linalg.eigvalsh(rho)
    return -jnp.sum(_xlogx(w))


@_entropy.defjvp
def _entropy_jvp(primals, tangents):
    (rho,), (drho,) = primals, tangents
    w, u = jnp.linalg.eigh(rho)
    s = -jnp.sum(_xlogx(w))
    # dS = -tr(drho (log rho + 1)) evaluated in the eigenbasis; finite at any degeneracy,
    # infinite only on the boundary of the state space (a zero eigenvalue), as it must be.
    d_diag = jnp.real(jnp.diagonal(jnp.conj(u.T) @ hermitian_part(drho) @ u))
    ds = -jnp.sum(d_diag * (jnp.log(w) + 1.0))
    return s, ds


def von_neumann_entropy(rho: ArrayLike) -> Array:
    """Von Neumann entropy ``S(rho) = -tr(rho ln rho)`` (natural log).

    Zero eigenvalues contribute 0. The derivative ``-tr(drho (ln rho + 1))`` is finite at
    degenerate spectra.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> float(jaxqep.linalg.von_neumann_entropy(jnp.eye(2) / 2))
        0.6931471805599453
    """
    return _entropy(_as_matrix(rho))


def relative_entropy(rho: ArrayLike, sigma: ArrayLike) -> Array:
    """Umegaki relative entropy ``S(rho|sigma) = tr(rho (ln rho - ln sigma))``.

    ``sigma`` must be positive definite (otherwise the result is ``+inf`` or NaN, in
    line with eq. (2.5) of seed 004 when ``ker sigma`` is not in ``ker rho``).

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> float(jaxqep.linalg.relative_entropy(jnp.eye(2) / 2, jnp.eye(2) / 2))
        0.0
    """
    rho = _as_matrix(rho)
    sigma = _as_matrix(sigma)
    return -von_neumann_entropy(rho) - jnp.real(jnp.trace(rho @ logm_h(sigma)))
