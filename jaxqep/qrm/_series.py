"""Perturbation series in ``g`` to any order for tripartite reset models (seed 004, Sec. 7).

Why one module of ~600 lines: the order-by-order recursion, its solvability conditions and
the logarithm series are one algorithm sharing one factorisation per order.

``L_g = L0 + g L1`` with ``L0 = D_A + D_B``, ``L1 = -i[H, ·]``. For each of the three
unperturbed generators (``L0`` for ``ρ⁺_g``, ``D_A`` for ``ρ^A_μ``, ``D_B`` for ``ρ^B_μ``)
let ``P = E ∘ T`` be the projection on its kernel (``E`` embeds the reduced space,
``T`` is the matching partial trace) and ``S`` its reduced resolvent (eq. 7.10, or
``-1/γ_#`` on the complement of ``ker D_#``). The steady state ``Σ_k g^k ρ_k`` solves the
hierarchy ``L0 ρ_0 = 0``, ``L0 ρ_k = -L1 ρ_{k-1}``, ``tr ρ_0 = 1``, ``tr ρ_k = 0``:

* ``ρ_k = E x_k + R_k`` with ``R_k = -S L1 ρ_{k-1} = i S[H, ρ_{k-1}]`` (``R_0 = 0``);
* solvability of order ``k + 1`` (``T L1 ρ_k = 0``) fixes the part of ``x_k`` off the
  diagonal of ``H̄`` (``H̄^τ``, ``H̄^{τ_#}`` of eqs. 7.7, 7.15-7.16):
  ``-i[H̄, Offdiag x_k] = i Offdiag T[H, R_k]`` (hypothesis Spec: simple spectrum);
* solvability of order ``k + 2`` (its diagonal part) fixes ``Diag x_k`` through ``Φ_D``
  (eqs. 7.8-7.9, hypothesis Coup):
  ``Φ_D(Diag x_k) = -Diag T[H, S[H, E Offdiag x_k + R_k]]`` with ``tr x_k = 0``
  (``Φ_D c = 0``, ``Σ c = 1`` at ``k = 0``).

At ``k = 0, 1`` this is eqs. (7.12)-(7.14) (with the ``i`` of 7.14 dropped, see
``_perturbation``). Every order reuses one LU factorisation of the bordered ``Φ_D``.

Logarithms: ``ln(ρ_0 + Δ(g))`` with ``Δ(g) = Σ_{m ≥ 1} g^m ρ_m`` is expanded from
``ln A = ∫_0^∞ ((1 + s)⁻¹ - (A + s)⁻¹) ds``: the coefficients of the resolvent,
``Y_0 = (ρ_0 + s)⁻¹``, ``Y_k = -Y_0 Σ_{m=1}^k ρ_m Y_{k-m}``, give ``ℓ_k = -∫ Y_k ds``
(``k ≥ 1``; ``ℓ_1`` is the Daleckii-Krein ``Q1`` of eq. 7.22). The integral is a
trapezoidal rule in ``u = ln s``, exponentially convergent (the integrand is analytic in
the strip ``|Im u| < π``; nodes on ``u ∈ [-70, 40]``, step 0.4, relative error below
1e-15 for spectra above 1e-14). It needs only linear solves, so gradients never
differentiate a factorisation and stay finite at degenerate spectra of ``ρ_0``.

Entropy production: with ``C^#_k = D_#(ρ_k) - i λ_# [H, ρ_{k-1}]`` (``λ_A = λ``,
``λ_B = 1 - λ``) the coefficients of the fluxes ``φ_# = tr(L^#(ρ⁺_g) ln ρ^#)`` (eq. 7.6)
are ``φ_{#,n} = Σ_{k+m=n} λ_#^m tr(C^#_k ℓ^#_m)``; ``σ_n = φ_{A,n} + φ_{B,n}``, and the
Spohn parts ``σ_{#,n} = Σ_{k+m=n} tr(C^#_k (λ_#^m ℓ^#_m - ℓ^+_m))``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .. import _validate as val
from .._hermitian import hermitian_part, logm_h
from .._superop import apply_reset_A, apply_reset_B
from ._perturbation import (
    _CHECKS,
    COUP_TOL,
    POS_TOL,
    SPEC_TOL,
    _after,
    _Reduction,
    _reductions,
    _validate_lambda,
)
from ._tripartite import validate_tripartite

__all__ = [
    "PerturbativeExpansion",
    "perturbative_expansion",
    "Section7Maps",
    "section7_maps",
    "log_series",
]

# Relative precision the order-k coefficients must keep (see ``_order_checks``).
ORDER_TOL = 1e-3
_U_NODES = np.arange(-70.0, 40.0 + 1e-9, 0.4)


def _comm(h: Array, x: Array) -> Array:
    return h @ x - x @ h


class _Maps(NamedTuple):
    hbar: Array
    e: Array
    u: Array
    phi: Array  # Φ_D in the eigenbasis of H̄, Φ_D[k, j]
    phi_sharp: Array  # the full map Φ on B(H_red), as a matrix on row-major vec


def _maps(h: Array, red: _Reduction, previous: tuple[Array, ...], full: bool = False) -> _Maps:
    n = red.n
    dtype = h.dtype
    hbar = hermitian_part(red.ptrace(red.embed(jnp.eye(n, dtype=dtype)) @ h))
    e, u = jnp.linalg.eigh(_after(hbar, *previous))

    def k1(x):
        return red.ptrace(_comm(h, red.resolvent(_comm(h, red.embed(x)))))

    projs = jnp.einsum("aj,bj->jab", u, jnp.conj(u))
    k1p = jax.vmap(k1)(projs)
    phi = jnp.real(jnp.einsum("ak,jab,bk->kj", jnp.conj(u), k1p, u))
    if not full:
        return _Maps(hbar, e, u, phi, jnp.zeros((0, 0), dtype))
    # Φ(X) = T[H, S[H, E Diag X]] as an (n², n²) matrix (eq. 7.8 / 7.17).
    basis = jnp.eye(n * n, dtype=dtype).reshape(n * n, n, n)
    uh = jnp.conj(u.T)

    def diag_part(x):
        return u @ jnp.diag(jnp.diagonal(uh @ x @ u)) @ uh

    phi_sharp = jax.vmap(lambda b: k1(diag_part(b)).reshape(-1))(basis).T
    return _Maps(hbar, e, u, phi, phi_sharp)


def _series_states(h: Array, red: _Reduction, maps: _Maps, lu, order: int):
    """``[ρ_0, ..., ρ_order]`` for one reduction, and the solvability residuals."""
    n = red.n
    dtype = h.dtype
    e, u = maps.e, maps.u
    uh = jnp.conj(u.T)
    gaps = e[:, None] - e[None, :]
    off = ~jnp.eye(n, dtype=bool)
    border = jnp.full((n,), 1.0 / n, dtype=e.dtype)

    def k_sr(y):  # T[H, S[H, y]]
        return red.ptrace(_comm(h, red.resolvent(_comm(h, y))))

    def solve(r_k, x_off, rhs):
        dvec = jax.scipy.linalg.lu_solve(lu, rhs)
        x = u @ (x_off + jnp.diag(dvec.astype(dtype))) @ uh
        rho = hermitian_part(red.embed(x) + r_k)
        # Solvability of order k + 1 and of the diagonal of order k + 2 (both must vanish).
        s1 = uh @ red.ptrace(_comm(h, rho)) @ u
        s2 = jnp.diagonal(uh @ k_sr(rho) @ u)
        return rho, jnp.maximum(jnp.max(jnp.abs(s1)), jnp.max(jnp.abs(s2)))

    rho0, res0 = solve(jnp.zeros_like(h), jnp.zeros((n, n), dtype=dtype), border)

    def step(prev, _):
        r_k = red.resolvent(1j * _comm(h, prev))
        f = uh @ red.ptrace(_comm(h, r_k)) @ u
        x_off = jnp.where(off, -f / jnp.where(off, gaps, 1.0), 0.0)
        y = red.embed(u @ x_off @ uh) + r_k
        rhs = -jnp.real(jnp.diagonal(uh @ k_sr(y) @ u))
        rho, res = solve(r_k, x_off, rhs)
        return rho, (rho, res)

    if order == 0:
        return rho0[None], res0[None]
    _, (rhos, resid) = jax.lax.scan(step, rho0, None, length=order)
    return jnp.concatenate([rho0[None], rhos]), jnp.concatenate([res0[None], resid])


def _log_coeffs(rhos: Array) -> Array:
    """``ℓ_1..ℓ_K`` of ``ln(Σ_k g^k ρ_k)`` (``rhos`` of shape ``(K+1, d, d)``), ``(K, d, d)``."""
    kmax = rhos.shape[0] - 1
    d = rhos.shape[-1]
    if kmax == 0:
        return jnp.zeros((0, d, d), rhos.dtype)
    s = jnp.asarray(np.exp(_U_NODES))
    eye = jnp.eye(d, dtype=rhos.dtype)
    y0 = jnp.linalg.inv(rhos[0][None] + s[:, None, None].astype(rhos.dtype) * eye)
    ys = [y0]
    for k in range(1, kmax + 1):
        acc = sum(rhos[m] @ ys[k - m] for m in range(1, k + 1))
        ys.append(-(y0 @ acc))
    w = (0.4 * s).astype(rhos.dtype)[:, None, None]
    out = jnp.stack([-jnp.sum(w * yk, axis=0) for yk in ys[1:]])
    return jax.vmap(hermitian_part)(out)


def log_series(rhos: ArrayLike) -> Array:
    """Coefficients of ``ln(ρ(g))`` for ``ρ(g) = Σ_k g^k ρ_k`` with ``ρ_0 > 0``.

    Args:
        rhos: the coefficients ``ρ_0, ..., ρ_K`` (Hermitian), shape ``(K+1, d, d)``.

    Returns:
        ``ℓ_0 = ln ρ_0, ℓ_1, ..., ℓ_K`` with ``ln ρ(g) = Σ_k g^k ℓ_k + O(g^{K+1})``,
        shape ``(K+1, d, d)``; ``ℓ_1`` is the Daleckii-Krein derivative (eq. 7.22).

    Raises:
        ValueError: ``rhos`` is not a stack of square matrices.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.qrm import log_series
        >>> ell = log_series(jnp.stack([jnp.eye(2) / 2, jnp.eye(2), jnp.zeros((2, 2))]))
        >>> round(float(ell[2, 0, 0].real), 10)   # ln(1/2 + g) = ln(1/2) + 2g - 2g² + ...
        -2.0
    """
    r = val.as_inexact(rhos, "rhos")
    if r.ndim != 3 or r.shape[-1] != r.shape[-2]:
        raise ValueError(f"rhos: expected shape (K+1, d, d), got {r.shape}")
    r = r.astype(jnp.result_type(r.dtype, jnp.complex64))
    return jnp.concatenate([logm_h(r[0])[None], _log_coeffs(r)])


# --------------------------------------------------------------------------------------
# Results.
# --------------------------------------------------------------------------------------


class PerturbativeExpansion(eqx.Module):
    """Perturbation series of a tripartite reset model to a given order in ``g``.

    ``ρ⁺_g = Σ_k g^k rho[k]``, ``σ(ρ⁺_g) = Σ_k g^k sigma[k]`` (``σ_0 = σ_1 = 0``) up to
    ``O(g^{order+1})``, at a fixed ``λ`` of the split ``L^A_{λg} + L^B_{(1-λ)g}``.

    Attributes:
        rho: ``(order+1, d, d)`` coefficients of the steady state; ``rho[0]``,
            ``rho[1]`` are :func:`leading_order`'s ``rho0``, ``rho1``.
        sigma: ``(order+1,)`` coefficients of the entropy production;
            ``sigma[2] = σ^(2)(λ)`` of Proposition 7.7.
        sigma_parts: ``(order+1, 2)`` coefficients of ``(σ_A, σ_B)`` (eq. 7.5).
        fluxes: ``(order+1, 2)`` coefficients of ``(φ_A, φ_B)`` (eq. 7.6, 8.26).
        partial_rho: ``(2, order+1, d, d)``: ``ρ^A_μ = Σ_k μ^k partial_rho[0, k]`` in its
            own coupling ``μ = λg``, likewise ``ρ^B`` in ``(1-λ)g``.
        residual: ``(3, order+1)`` largest violation of the solvability conditions of
            orders ``k + 1`` (and the diagonal of ``k + 2``) for ``ρ⁺``, ``ρ^A``, ``ρ^B``.
        error_estimate: ``(order+1,)`` estimated relative error of the order-``k``
            coefficients, ``eps · A^k`` with the amplification ``A`` of one order
            (``1/(spec_gap · coup_gap)``, smallest margins of ``leading_order``).
        lam: the ``λ`` used.
    """

    rho: Array
    sigma: Array
    sigma_parts: Array
    fluxes: Array
    partial_rho: Array
    residual: Array
    error_estimate: Array
    lam: Array

    @property
    def order(self) -> int:
        return self.rho.shape[0] - 1

    def sigma_at(self, g: ArrayLike) -> Array:
        """The truncated series ``Σ_k g^k σ_k`` at coupling ``g``."""
        g = jnp.asarray(g)
        powers = jnp.stack([g**k for k in range(self.sigma.shape[0])], axis=-1)
        return jnp.sum(powers * self.sigma, axis=-1)

    def rho_at(self, g: ArrayLike) -> Array:
        """The truncated series ``Σ_k g^k ρ_k`` at a scalar coupling ``g``."""
        g = jnp.asarray(g)
        powers = jnp.stack([g**k for k in range(self.rho.shape[0])])
        return jnp.tensordot(powers, self.rho, axes=1)


def _validate_order(order) -> int:
    if isinstance(order, bool) or not isinstance(order, int | np.integer):
        raise TypeError(f"order: must be a Python int, got {type(order).__name__} {order!r}")
    order = int(order)
    if order < 0:
        raise ValueError(f"order: must be >= 0, got {order}")
    return order


_NAMES = (
    ("ρ⁺", "H̄^τ (eq. 7.7)", "Φ_D (eqs. 7.8-7.9)"),
    ("ρ^A", "H̄^(τ_A) (eq. 7.15)", "Φ^A_D (eqs. 7.17-7.18)"),
    ("ρ^B", "H̄^(τ_B) (eq. 7.16)", "Φ^B_D (eqs. 7.17-7.18)"),
)


def perturbative_expansion(
    H: ArrayLike,
    tau_A: ArrayLike,
    tau_B: ArrayLike,
    gamma_A: ArrayLike,
    gamma_B: ArrayLike,
    dims: Sequence[int],
    lam: ArrayLike,
    order: int,
) -> PerturbativeExpansion:
    """Steady state and entropy production of ``A-C-B`` as a series in ``g`` to any order.

    Continues the degenerate perturbation hierarchy of Sec. 7 (eqs. 7.11-7.14, 7.19-7.20)
    to ``order``: each order fixes the off-diagonal part (in ``H̄``'s eigenbasis) of the
    new reduced correction by the next solvability condition and its diagonal by the one
    after through ``Φ_D`` (see the module docstring). The fluxes and ``σ`` follow from
    the series of the three steady states and of their logarithms. Works under ``jit``
    (``dims``, ``order`` static), ``vmap`` and ``grad``.

    Args:
        H: Hermitian coupling Hamiltonian on ``H_A ⊗ H_C ⊗ H_B``, ``(d, d)``.
        tau_A: reset state of A (positive definite), ``(n_A, n_A)``.
        tau_B: reset state of B (positive definite), ``(n_B, n_B)``.
        gamma_A: reset rate of A (> 0).
        gamma_B: reset rate of B (> 0).
        dims: ``(n_A, n_C, n_B)`` as Python ints.
        lam: the split ``λ ∉ {0, 1}``.
        order: highest power of ``g`` (a Python int ``>= 0``).

    Returns:
        :class:`PerturbativeExpansion` with ``rho`` ``(order+1, d, d)``, ``sigma``
        ``(order+1,)``, ``sigma_parts``, ``fluxes``, ``partial_rho``, ``residual``,
        ``error_estimate``.

    Raises:
        TypeError: ``order`` is not an int.
        ValueError (eager) / EquinoxRuntimeError (under ``jit``): ``order < 0``; invalid
            model input or ``λ ∈ {0, 1}``; a hypothesis of :func:`leading_order` fails
            (Spec, Coup, Pos); or, at an order ``k ≥ 2``, the hierarchy loses precision:
            the estimated relative error ``eps · (1/(spec_gap · coup_gap))^k`` of the
            order-``k`` coefficients exceeds ``1e-3`` (Spec/Coup too weakly satisfied for
            that order), or a solvability condition of order ``k`` is violated. The
            message names the order and the condition.

    Example:
        >>> import jaxqep
        >>> H = jaxqep.models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
        >>> tA = jaxqep.models.diagonal_reset_state(0.95)
        >>> tB = jaxqep.models.diagonal_reset_state(0.6)
        >>> ex = jaxqep.qrm.perturbative_expansion(H, tA, tB, 0.7, 0.6, (2, 2, 2), 0.5, 4)
        >>> ex.sigma.shape, round(float(ex.sigma[2]), 7)
        ((5,), 0.0052273)
    """
    order = _validate_order(order)
    h, tau_a, tau_b, gamma_a, gamma_b, dims = validate_tripartite(
        H, tau_A, tau_B, gamma_A, gamma_B, dims
    )
    lam = _validate_lambda(lam)
    if lam.ndim != 0:
        raise ValueError(f"lam: must be a scalar, got shape {lam.shape}")
    wmin = jnp.min(jnp.linalg.eigvalsh(jax.lax.stop_gradient(tau_a)))
    wmin_b = jnp.min(jnp.linalg.eigvalsh(_after(jax.lax.stop_gradient(tau_b), wmin)))
    msg = "hypothesis Pos fails (seed 004, before Thm. 7.2): {} is not positive definite"
    tau_a = val.check(tau_a, ~(wmin > POS_TOL), msg.format("tau_A"))
    tau_b = val.check(tau_b, ~(wmin_b > POS_TOL), msg.format("tau_B"))
    ex, diag = _expansion_core(h, tau_a, tau_b, gamma_a, gamma_b, lam, dims, order)
    rho = ex.rho
    # The hypotheses of leading_order (same margins, same messages), then per order.
    for k, hbar, spec_eq, coup, coup_eq, state in _CHECKS:
        rho = val.check(
            rho,
            ~(diag[0, k] > SPEC_TOL),
            f"hypothesis Spec({hbar}) fails (seed 004, {spec_eq}): {hbar} has a degenerate "
            "spectrum, so first-order perturbation theory does not fix the zeroth-order state",
        )
        rho = val.check(
            rho,
            ~(diag[1, k] > COUP_TOL),
            f"hypothesis {coup} fails (seed 004, {coup_eq}): the kernel of the map is not "
            "one-dimensional, so the coupling H does not select a unique zeroth-order state",
        )
        rho = val.check(
            rho,
            ~(diag[2, k] > POS_TOL),
            f"hypothesis Pos fails (seed 004, before Thm. 7.2): the zeroth-order state {state} "
            "is not positive definite",
        )
    amp = 1.0 / (jnp.min(diag[0]) * jnp.min(diag[1]))
    eps = float(np.finfo(np.float64).eps)
    est = jax.lax.stop_gradient(eps * amp ** jnp.arange(order + 1, dtype=amp.dtype))
    res = ex.residual
    for k in range(2, order + 1):
        rho = val.check(
            rho,
            est[k] > ORDER_TOL,
            f"perturbative_expansion: order {k}: the hierarchy loses precision: its "
            f"estimated relative error eps·(1/(spec_gap·coup_gap))^{k} exceeds {ORDER_TOL} "
            "(hypotheses Spec and Coup, eqs. 7.7-7.9 and 7.15-7.18, hold too weakly for "
            "this order); lower the order",
        )
        # residuals are rounding-sized relative to the coefficients they are built from
        # (all of ρ_0..ρ_{k-1}: a vanishing ρ_1, e.g. at equilibrium, keeps ρ_0's rounding)
        size = jnp.max(jnp.abs(ex.rho[:k]))
        scale = jax.lax.stop_gradient(size * jnp.sum(jnp.abs(h)) ** 2)
        for j, (state, spec, coup) in enumerate(_NAMES):
            rho = val.check(
                rho,
                ~(res[j, k - 1] <= 1e-6 * scale / jnp.minimum(gamma_a, gamma_b)),
                f"perturbative_expansion: order {k}: the solvability condition "
                f"T L1 ρ_{k - 1} = 0 of {state} fails (Spec of {spec}, Coup of {coup})",
            )
    return eqx.tree_at(lambda r: (r.rho, r.error_estimate), ex, (rho, est))


@functools.partial(jax.jit, static_argnums=(6, 7))
def _expansion_core(h, tau_a, tau_b, gamma_a, gamma_b, lam, dims, order):
    dtype = jnp.result_type(h.dtype, tau_a.dtype, tau_b.dtype, jnp.complex64)
    h = h.astype(dtype)
    ta, tb = tau_a.astype(dtype), tau_b.astype(dtype)
    ga, gb = gamma_a.astype(dtype), gamma_b.astype(dtype)
    reds = _reductions(h, ta, tb, ga, gb, dims)
    maps, previous = [], ()
    for red in reds:
        m = _maps(h, red, previous)
        previous = (m.e,)
        maps.append(m)
    nmax = max(red.n for red in reds)
    bordered = []
    for red, m in zip(reds, maps):
        n = red.n
        b = m.phi + jnp.full((n, 1), 1.0 / n) * jnp.ones((1, n))
        bordered.append(jnp.eye(nmax, dtype=b.dtype).at[:n, :n].set(b))
    lus = jax.scipy.linalg.lu_factor(_after(jnp.stack(bordered), *previous))
    series, resid = [], []
    for i, (red, m) in enumerate(zip(reds, maps)):
        lu_i = (lus[0][i][: red.n, : red.n], lus[1][i][: red.n])
        rhos, res = _series_states(h, red, m, lu_i, order)
        series.append(rhos)
        resid.append(res)
    rho_p, rho_a, rho_b = series
    logs0 = jax.vmap(logm_h)(jnp.stack([rho_p[0], rho_a[0], rho_b[0]]))
    if order > 0:
        # One batched solve for the three log series.
        stacked = jnp.stack([rho_p, rho_a, rho_b])
        hi = jax.vmap(_log_coeffs)(_after(stacked, logs0))
        logs = jnp.concatenate([logs0[:, None], hi], axis=1)
    else:
        logs = logs0[:, None]
    lam = lam.astype(jnp.real(ga).dtype)
    mus = (lam, 1.0 - lam)

    # M[n, k, m] = 1 if k + m = n: the Cauchy product of two series.
    cauchy = jnp.asarray(
        np.equal.outer(
            np.arange(order + 1), np.add.outer(np.arange(order + 1), np.arange(order + 1))
        )
    ).astype(lam.dtype)
    shifted = jnp.concatenate([jnp.zeros_like(rho_p[:1]), rho_p[:-1]])
    comms = jax.vmap(lambda x: _comm(h, x))(shifted)
    fluxes, parts = [], []
    for p, (reset, mu) in enumerate(
        (
            (jax.vmap(lambda r: ga * apply_reset_A(r, ta, dims)), mus[0]),
            (jax.vmap(lambda r: gb * apply_reset_B(r, tb, dims)), mus[1]),
        )
    ):
        cs = reset(rho_p) - 1j * mu * comms  # C^#_k
        powers = mu ** jnp.arange(order + 1, dtype=lam.dtype)
        t_own = jnp.real(jnp.einsum("kab,mba->km", cs, logs[p + 1])) * powers[None, :]
        t_plus = jnp.real(jnp.einsum("kab,mba->km", cs, logs[0]))
        phi_n = jnp.einsum("nkm,km->n", cauchy, t_own)
        fluxes.append(phi_n)
        parts.append(phi_n - jnp.einsum("nkm,km->n", cauchy, t_plus))
    fluxes = jnp.stack(fluxes, axis=-1)
    parts = jnp.stack(parts, axis=-1)
    # Margins of Spec, Coup, Pos (as in leading_order's Hypotheses), no gradient.
    hscale = jnp.maximum(jnp.linalg.norm(jax.lax.stop_gradient(h)), 1e-300)
    spec, coup, pop = [], [], []
    last = logs
    for red, m, ser in zip(reds, maps, series):
        n = red.n
        e_s = jax.lax.stop_gradient(m.e)
        big = jnp.asarray(jnp.inf, dtype=e_s.dtype)
        offd = ~jnp.eye(n, dtype=bool)
        spec.append(
            jnp.min(jnp.where(offd, jnp.abs(e_s[:, None] - e_s[None, :]), big)) / hscale
            if n > 1
            else big
        )
        if n > 1:
            sv = jnp.linalg.svd(_after(jax.lax.stop_gradient(m.phi), last), compute_uv=False)
            last = sv
            coup.append(sv[n - 2] / jnp.maximum(sv[0], 1e-300))
        else:
            coup.append(big)
        x0 = jax.lax.stop_gradient(red.ptrace(ser[0]))
        uh = jnp.conj(m.u.T)
        pop.append(jnp.min(jnp.real(jnp.diagonal(uh @ x0 @ m.u))))
    diag = jnp.stack([jnp.stack(spec), jnp.stack(coup), jnp.stack(pop)])
    return PerturbativeExpansion(
        rho=rho_p,
        sigma=jnp.sum(parts, axis=-1),
        sigma_parts=parts,
        fluxes=fluxes,
        partial_rho=jnp.stack([rho_a, rho_b]),
        residual=jax.lax.stop_gradient(jnp.stack(resid)),
        error_estimate=jnp.zeros((order + 1,)),
        lam=lam,
    ), diag


# --------------------------------------------------------------------------------------
# The objects of Sec. 7.
# --------------------------------------------------------------------------------------


class Section7Maps(eqx.Module):
    """The internal objects of Sec. 7, to check the hypotheses by hand.

    Index 0 refers to ``ρ⁺`` (``H̄^τ`` on ``H_C``, ``Φ``/``Φ_D``), 1 to ``ρ^A``
    (``H̄^{τ_A}`` on ``H_C ⊗ H_B``, ``Φ^A``), 2 to ``ρ^B`` (``H̄^{τ_B}`` on ``H_A ⊗ H_C``).

    Attributes:
        hbar: ``(H̄^τ, H̄^{τ_A}, H̄^{τ_B})`` (eqs. 7.7, 7.15, 7.16).
        eigvals: their eigenvalues (ascending), the spectra of hypothesis Spec.
        eigvecs: their eigenvectors (columns), the bases of ``Diag``.
        phi_D: ``(Φ_D, Φ^A_D, Φ^B_D)`` (eqs. 7.9, 7.18) as ``(n, n)`` real matrices in
            those bases: ``Φ_D[k, j] = ⟨φ_k|Φ(|φ_j⟩⟨φ_j|)|φ_k⟩``.
        phi: ``(Φ, Φ^A, Φ^B)`` (eqs. 7.8, 7.17) as ``(n², n²)`` matrices acting on
            row-major ``vec(X)``.
    """

    hbar: tuple[Array, Array, Array]
    eigvals: tuple[Array, Array, Array]
    eigvecs: tuple[Array, Array, Array]
    phi_D: tuple[Array, Array, Array]
    phi: tuple[Array, Array, Array]


def section7_maps(
    H: ArrayLike,
    tau_A: ArrayLike,
    tau_B: ArrayLike,
    gamma_A: ArrayLike,
    gamma_B: ArrayLike,
    dims: Sequence[int],
) -> Section7Maps:
    """``H̄^τ``, ``H̄^{τ_#}``, ``Φ_D``, ``Φ^#_D`` and ``Φ``, ``Φ^#`` of Sec. 7.

    Args:
        H: Hermitian coupling Hamiltonian, ``(d, d)``.
        tau_A: reset state of A, ``(n_A, n_A)``.
        tau_B: reset state of B, ``(n_B, n_B)``.
        gamma_A: reset rate of A (> 0).
        gamma_B: reset rate of B (> 0).
        dims: ``(n_A, n_C, n_B)`` as Python ints.

    Returns:
        :class:`Section7Maps`. Coup holds iff each ``phi_D`` has a one-dimensional kernel.

    Raises:
        ValueError / EquinoxRuntimeError: invalid model input (as for
            :func:`leading_order`); no hypothesis is checked.

    Example:
        >>> import jaxqep
        >>> H = jaxqep.models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
        >>> tA = jaxqep.models.diagonal_reset_state(0.95)
        >>> tB = jaxqep.models.diagonal_reset_state(0.6)
        >>> m = jaxqep.qrm.section7_maps(H, tA, tB, 0.7, 0.6, (2, 2, 2))
        >>> [x.shape for x in m.hbar]
        [(2, 2), (4, 4), (4, 4)]
    """
    h, tau_a, tau_b, gamma_a, gamma_b, dims = validate_tripartite(
        H, tau_A, tau_B, gamma_A, gamma_B, dims
    )
    return _section7_core(h, tau_a, tau_b, gamma_a, gamma_b, dims)


@functools.partial(jax.jit, static_argnums=5)
def _section7_core(h, tau_a, tau_b, gamma_a, gamma_b, dims) -> Section7Maps:
    dtype = jnp.result_type(h.dtype, tau_a.dtype, tau_b.dtype, jnp.complex64)
    h = h.astype(dtype)
    reds = _reductions(
        h,
        tau_a.astype(dtype),
        tau_b.astype(dtype),
        gamma_a.astype(dtype),
        gamma_b.astype(dtype),
        dims,
    )
    maps, previous = [], ()
    for red in reds:
        m = _maps(h, red, previous, full=True)
        previous = (m.e,)
        maps.append(m)
    return Section7Maps(
        hbar=tuple(m.hbar for m in maps),  # type: ignore[arg-type]
        eigvals=tuple(m.e for m in maps),  # type: ignore[arg-type]
        eigvecs=tuple(m.u for m in maps),  # type: ignore[arg-type]
        phi_D=tuple(m.phi for m in maps),  # type: ignore[arg-type]
        phi=tuple(m.phi_sharp for m in maps),  # type: ignore[arg-type]
    )
