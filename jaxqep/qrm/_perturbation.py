"""Perturbation theory in the coupling ``g`` for tripartite reset models (seed 004, Sec. 7).

Why one module of ~650 lines: the leading-order hierarchy of Sec. 7 (ρ0, ρ1, σ⁽²⁾) and its
hypothesis checks are one computation whose steps reuse each other's factorisations.

Model: ``L_g = L0 + g L1`` with ``L0 = D_A + D_B`` and ``L1 = -i[H, ·]``, split as
``L_g = L^A_{λg} + L^B_{(1-λ)g}`` (eqs. 7.2-7.4). Three steady states are expanded,

    ρ⁺_g = ρ0 + g ρ1 + O(g²),   ρ^A_{λg} = ρ^A_0 + λg ρ^A_1 + ...,   ρ^B likewise,

and Proposition 7.7 turns them into ``σ(ρ⁺_g) = g² σ^(2)(λ) + O(g³)`` with

    σ^(2)(λ) = (a_A λ² + b_A λ + c_A) + (a_B (1-λ)² + b_B (1-λ) + c_B).

How the expansion is computed (one routine for all three states)
----------------------------------------------------------------
For an unperturbed generator ``L0`` whose spectral projection on ``ker L0`` is
``P = E ∘ T`` (``E`` embeds the reduced space: ``X ↦ τ_A ⊗ X ⊗ τ_B`` for ``ρ⁺``,
``Y ↦ τ_A ⊗ Y`` for ``ρ^A``, ``Y ↦ Y ⊗ τ_B`` for ``ρ^B``; ``T`` is the matching partial
trace) and reduced resolvent ``S`` (eq. 7.10 for ``L0``, ``-1/γ_#`` for ``D_#``), the
Schur complement on ``ker L0`` gives the effective generator

    K(g) = K0 + g K1 + g² K2 + ...,   K0 X = T L1 E X = -i[H̄, X],
    K1 X = T[H, S[H, E X]],           K2 X = i T[H, S[H, S[H, E X]]],

with ``H̄ = T(E(1) H)`` (``H̄^τ`` of eq. 7.7, ``H̄^{τ_A}``, ``H̄^{τ_B}`` of eqs. 7.15-7.16).
``K0`` is again degenerate: its kernel is the set ``Diag`` of operators diagonal in
``H̄``'s eigenbasis (hypothesis Spec). A second reduction gives

* ``x0 = Σ_j c_j |φ_j><φ_j|`` with ``Φ_D c = 0``, ``Σ c_j = 1`` (``Φ_D`` = ``K1`` on ``Diag``,
  eqs. 7.8-7.9; hypothesis Coup: one-dimensional kernel, solved by a bordered system);
* ``Offdiag x1 = -K0⁻¹ Offdiag K1 x0`` and ``Φ_D (Diag x1) = -Diag(K2 x0 + K1 Offdiag x1)``
  with ``tr x1 = 0``;
* ``ρ0 = E x0``, ``ρ1 = i S[H, ρ0] + E x1`` (eqs. 7.12-7.14; ``R1 = i L0⁻¹[H, ρ0]``).

Everything is ``d x d`` matrix algebra plus ``n x n`` solves (``n`` = size of the reduced
space), so it differentiates through one LU factorisation and the ``eigh`` of ``H̄``,
whose spectrum is simple by hypothesis. ``Q1 = D ln(ρ0)[ρ1]`` (eq. 7.22) is the
Daleckii-Krein derivative; its own derivative uses second divided differences, so
gradients stay finite when ``ρ0`` or ``ρ^#_0`` have degenerate spectra (e.g.
``τ⊗τ⊗τ``).

Seed typo. Eq. (7.14) prints ``Diag r_C = -Φ_D⁻¹(Diag tr_AB([H, L0⁻¹(i[H, R1 + ...])]))``;
the factor ``i`` must not be there (with ``R1 = iL0⁻¹[H, ρ0]`` as in 7.13). Without it the
formula agrees with the expansion above, which is checked against the exact steady state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike

from .. import _validate as val
from .._hermitian import _divided_differences, _log_divided, hermitian_part, logm_h
from .._superop import apply_reset_A, apply_reset_B, partial_trace
from ._tripartite import validate_tripartite

__all__ = [
    "leading_order",
    "LeadingOrder",
    "Hypotheses",
    "sigma2_minimum",
    "dlogm",
]

# Relative thresholds of the genericity checks (see ``Hypotheses``).
SPEC_TOL = 1e-8
COUP_TOL = 1e-8
POS_TOL = 1e-12
ZERO_RTOL = 1e-8


# --------------------------------------------------------------------------------------
# Daleckii-Krein derivative of the logarithm, with a second-order rule for its own JVP.
# --------------------------------------------------------------------------------------


def _log_dd1(w: Array) -> Array:
    return _divided_differences(w, jnp.log(w), 1.0 / w, _log_divided)


def _log_dd2(w: Array, f1: Array) -> Array:
    """Second divided differences ``T[i, k, j] = log[w_i, w_k, w_j]``.

    Uses ``f[x, y, z] = (f[x, y] - f[z, y]) / (x - z)`` for whichever pair of arguments
    is not close, and ``f''/2 = -1/(2 w²)`` when all three coincide.
    """
    wi = w[:, None, None]
    wk = w[None, :, None]
    wj = w[None, None, :]
    scale = jnp.maximum(jnp.maximum(jnp.abs(wi), jnp.abs(wj)), jnp.abs(wk))
    scale = jnp.maximum(scale, 1e-300)
    eps = jnp.sqrt(jnp.finfo(w.dtype).eps) * 0.01
    far_ij = jnp.abs(wi - wj) > eps * scale
    far_ik = jnp.abs(wi - wk) > eps * scale
    far_kj = jnp.abs(wk - wj) > eps * scale
    f = f1  # symmetric
    t_ij = (f[:, :, None] - f[None, :, :]) / jnp.where(far_ij, wi - wj, 1.0)
    t_ik = (f[:, None, :] - f[None, :, :]) / jnp.where(far_ik, wi - wk, 1.0)
    t_kj = (f.T[:, :, None] - f.T[:, None, :]) / jnp.where(far_kj, wk - wj, 1.0)
    mean = (wi + wk + wj) / 3.0
    t_all = -0.5 / (mean * mean)
    return jnp.where(far_ij, t_ij, jnp.where(far_ik, t_ik, jnp.where(far_kj, t_kj, t_all)))


@jax.custom_jvp
def _dlogm(a: Array, e: Array) -> Array:
    w, u = jnp.linalg.eigh(a)
    uh = jnp.conj(u.T)
    return u @ (_log_dd1(w) * (uh @ e @ u)) @ uh


@_dlogm.defjvp
def _dlogm_jvp(primals, tangents):
    a, e = primals
    da, de = tangents
    w, u = jnp.linalg.eigh(a)
    uh = jnp.conj(u.T)
    f1 = _log_dd1(w)
    et = uh @ e @ u
    out = u @ (f1 * et) @ uh
    dat = uh @ hermitian_part(da) @ u
    t2 = _log_dd2(w, f1)
    second = jnp.einsum("ikj,ik,kj->ij", t2, dat, et) + jnp.einsum("ikj,ik,kj->ij", t2, et, dat)
    dout = u @ (f1 * (uh @ de @ u) + second) @ uh
    return out, dout.astype(out.dtype)


def dlogm(rho: ArrayLike, delta: ArrayLike) -> Array:
    """Fréchet derivative ``D ln(ρ)[Δ]`` of the matrix logarithm (seed 004, eq. 7.22).

    Daleckii-Krein form ``U (F ∘ U^†ΔU) U^†`` with first divided differences ``F`` of
    ``ln`` on the spectrum of ``ρ``. Its own derivative (needed to differentiate ``Q1``)
    uses second divided differences, so it is finite at degenerate spectra.

    Args:
        rho: positive-definite Hermitian matrix ``(n, n)``.
        delta: direction ``(n, n)``.

    Returns:
        ``D ln(ρ)[Δ]``, shape ``(n, n)``.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.qrm import dlogm
        >>> float(dlogm(jnp.eye(2) / 2, jnp.eye(2))[0, 0].real)  # d/dt ln((1/2 + t)) = 2
        2.0
    """
    rho = jnp.asarray(rho)
    delta = jnp.asarray(delta)
    dtype = jnp.result_type(rho.dtype, delta.dtype, jnp.complex64)
    return _dlogm(rho.astype(dtype), delta.astype(dtype))


# --------------------------------------------------------------------------------------
# The two-level degenerate expansion.
# --------------------------------------------------------------------------------------


class _Expansion(NamedTuple):
    x0: Array  # reduced zeroth-order state, (n, n)
    x1: Array  # reduced first-order correction, (n, n)
    rho0: Array  # E x0, (d, d)
    rho1: Array  # first-order correction of the full state, (d, d)
    hbar: Array  # H̄, (n, n)
    spec_gap: Array
    bohr_gap: Array
    coup_gap: Array
    min_pop: Array


def _comm(h: Array, x: Array) -> Array:
    return h @ x - x @ h


class _Reduction(NamedTuple):
    """One unperturbed generator: embedding ``E``, partial trace ``T``, ``S ∘ Q``, size."""

    embed: Callable[[Array], Array]
    ptrace: Callable[[Array], Array]
    resolvent: Callable[[Array], Array]
    n: int


def _reductions(h, ta, tb, ga, gb, dims) -> tuple[_Reduction, _Reduction, _Reduction]:
    """The three unperturbed generators of Sec. 7: ``L0`` (kernel ``τ_A ⊗ B(H_C) ⊗ τ_B``,
    reduced resolvent 7.10), ``D_A`` (kernel ``τ_A ⊗ B(H_C ⊗ H_B)``) and ``D_B``."""
    na, nc, nb = dims

    def embed_c(x):
        return jnp.kron(jnp.kron(ta, x), tb)

    def trace_ab(y):
        return partial_trace(y, dims, (1,))

    def res_l0(y):  # eq. (7.10) on the complement of ker L0
        y = y - embed_c(trace_ab(y))
        tr_a = partial_trace(y, (na, nc * nb), (1,))
        tr_b = partial_trace(y, (na * nc, nb), (0,))
        return -(y + (ga / gb) * jnp.kron(ta, tr_a) + (gb / ga) * jnp.kron(tr_b, tb)) / (ga + gb)

    def embed_a(y):
        return jnp.kron(ta, y)

    def trace_a(y):
        return partial_trace(y, (na, nc * nb), (1,))

    def res_a(y):
        return -(y - embed_a(trace_a(y))) / ga

    def embed_b(y):
        return jnp.kron(y, tb)

    def trace_b(y):
        return partial_trace(y, (na * nc, nb), (0,))

    def res_b(y):
        return -(y - embed_b(trace_b(y))) / gb

    return (
        _Reduction(embed_c, trace_ab, res_l0, nc),
        _Reduction(embed_a, trace_a, res_a, nc * nb),
        _Reduction(embed_b, trace_b, res_b, na * nc),
    )


def _padded_stack(mats: Sequence[Array], m: int) -> Array:
    """Stack square matrices, each padded to ``(m, m)`` with an identity block."""
    out = []
    for a in mats:
        k = a.shape[0]
        pad = jnp.eye(m, dtype=a.dtype).at[:k, :k].set(a)
        out.append(pad)
    return jnp.stack(out)


def _padded_vectors(vecs: Sequence[Array], m: int) -> Array:
    return jnp.stack([jnp.zeros((m,), v.dtype).at[: v.shape[0]].set(v) for v in vecs])


def _after(x: Array, *deps: Array) -> Array:
    """``x``, made to depend on ``deps`` so that XLA runs them first (see ``_expand_all``)."""
    return jax.lax.optimization_barrier((x, deps))[0]


def _expand_all(h: Array, reductions: Sequence[_Reduction]) -> list[_Expansion]:
    """Steady states of ``L0 + g L1`` to first order in ``g``, one per reduction.

    See the module docstring for the method. The bordered ``Φ_D`` systems of all the
    reductions are factorised in *one* batched LU call (padded to a common size) and the
    diagnostics' SVDs are chained: under a user's ``vmap`` on a multi-core CPU, XLA can
    deadlock when several independent batched LAPACK factorisations run concurrently
    (``CONVENTIONS.md``, Known traps), and ``leading_order`` did, without the scheduler
    flag, before this was written so.
    """
    dtype = h.dtype
    stage = []
    previous: tuple[Array, ...] = ()
    for red in reductions:
        n = red.n
        hbar = hermitian_part(red.ptrace(red.embed(jnp.eye(n, dtype=dtype)) @ h))
        e, u = jnp.linalg.eigh(_after(hbar, *previous))
        previous = (e,)

        def k1(x, red=red):
            return red.ptrace(_comm(h, red.resolvent(_comm(h, red.embed(x)))))

        def k2(x, red=red):
            r = red.resolvent
            return 1j * red.ptrace(_comm(h, r(_comm(h, r(_comm(h, red.embed(x)))))))

        projs = jnp.einsum("aj,bj->jab", u, jnp.conj(u))  # P_j = |φ_j><φ_j|
        k1p = jax.vmap(k1)(projs)
        phi_d = jnp.real(jnp.einsum("ak,jab,bk->kj", jnp.conj(u), k1p, u))  # Φ_D[k, j]
        border = jnp.full((n,), 1.0 / n, dtype=phi_d.dtype)
        bordered = phi_d + border[:, None] * jnp.ones((1, n), dtype=phi_d.dtype)
        stage.append((hbar, e, u, k1, k2, phi_d, border, bordered))

    m = max(red.n for red in reductions)
    lu = jax.scipy.linalg.lu_factor(_after(_padded_stack([st[7] for st in stage], m), *previous))
    cs = jax.vmap(jax.scipy.linalg.lu_solve)(lu, _padded_vectors([st[6] for st in stage], m))

    rhss, partial = [], []
    for red, st, c_pad in zip(reductions, stage, cs):
        n = red.n
        hbar, e, u, k1, k2, phi_d, border, bordered = st
        c = c_pad[:n]  # Φ_D c = 0, Σ c = 1
        uh = jnp.conj(u.T)
        x0 = (u * c.astype(dtype)) @ uh
        gaps = e[:, None] - e[None, :]
        off = ~jnp.eye(n, dtype=bool)
        f = uh @ k1(x0) @ u
        x1_off = jnp.where(off, -1j * f / jnp.where(off, gaps, 1.0), 0.0)
        x1_off_op = u @ x1_off @ uh
        rhss.append(-jnp.real(jnp.diagonal(uh @ (k2(x0) + k1(x1_off_op)) @ u)))
        partial.append((c, x0, x1_off))
    dvecs = jax.vmap(jax.scipy.linalg.lu_solve)(lu, _padded_vectors(rhss, m))

    out = []
    previous: tuple[Array, ...] = (dvecs,)
    for red, st, (c, x0, x1_off), d_pad in zip(reductions, stage, partial, dvecs):
        n = red.n
        hbar, e, u, k1, k2, phi_d, border, bordered = st
        uh = jnp.conj(u.T)
        dvec = d_pad[:n]  # Φ_D d = rhs, Σ d = 0
        x1 = hermitian_part(u @ (x1_off + jnp.diag(dvec.astype(dtype))) @ uh)
        x0 = hermitian_part(x0)
        rho0 = red.embed(x0)
        rho1 = hermitian_part(red.resolvent(1j * _comm(h, rho0)) + red.embed(x1))

        # Diagnostics of the genericity hypotheses (no gradient flows through them).
        e_s = jax.lax.stop_gradient(e)
        scale = jnp.maximum(jnp.linalg.norm(jax.lax.stop_gradient(h)), 1e-300)
        big = jnp.asarray(jnp.inf, dtype=e_s.dtype)
        if n > 1:
            off = ~jnp.eye(n, dtype=bool)
            g_abs = jnp.abs(e_s[:, None] - e_s[None, :])
            spec_gap = jnp.min(jnp.where(off, g_abs, big)) / scale
            rows, cols = np.nonzero(~np.eye(n, dtype=bool))  # static off-diagonal indices
            omegas = e_s[rows] - e_s[cols]
            k = omegas.shape[0]
            diff = jnp.abs(omegas[:, None] - omegas[None, :])
            bohr_gap = jnp.min(jnp.where(~jnp.eye(k, dtype=bool), diff, big)) / scale
            sv = jnp.linalg.svd(_after(jax.lax.stop_gradient(phi_d), *previous), compute_uv=False)
            previous = (sv,)
            coup_gap = sv[n - 2] / jnp.maximum(sv[0], 1e-300)
        else:
            spec_gap = bohr_gap = coup_gap = big
        min_pop = jnp.min(jax.lax.stop_gradient(c))
        out.append(_Expansion(x0, x1, rho0, rho1, hbar, spec_gap, bohr_gap, coup_gap, min_pop))
    return out


_CHECKS = (
    # (index, spec label, spec equation, coup label, coup equation, zeroth-order state)
    (0, "H̄^τ", "eq. 7.7", "Coup", "Φ_D, eqs. 7.8-7.9", "ρ_C0 (eq. 7.12)"),
    (1, "H̄^(τ_A)", "eq. 7.15", "Coup_A", "Φ^A_D, eqs. 7.17-7.18", "ρ^CB_0 (eq. 7.20)"),
    (2, "H̄^(τ_B)", "eq. 7.16", "Coup_B", "Φ^B_D, eqs. 7.17-7.18", "ρ^AC_0 (eq. 7.20)"),
)


def _checked(lo: LeadingOrder) -> LeadingOrder:
    """Thread the hypothesis checks into ``rho0`` (eager ``ValueError`` or ``error_if``)."""
    hyp = lo.hypotheses
    rho0 = lo.rho0
    for k, hbar, spec_eq, coup, coup_eq, state in _CHECKS:
        rho0 = val.check(
            rho0,
            ~(hyp.spec_gap[k] > SPEC_TOL),
            f"hypothesis Spec({hbar}) fails (seed 004, {spec_eq}): {hbar} has a degenerate "
            "spectrum, so first-order perturbation theory does not fix the zeroth-order state",
        )
        rho0 = val.check(
            rho0,
            ~(hyp.coup_gap[k] > COUP_TOL),
            f"hypothesis {coup} fails (seed 004, {coup_eq}): the kernel of the map is not "
            "one-dimensional, so the coupling H does not select a unique zeroth-order state",
        )
        rho0 = val.check(
            rho0,
            ~(hyp.min_population[k] > POS_TOL),
            f"hypothesis Pos fails (seed 004, before Thm. 7.2): the zeroth-order state {state} "
            "is not positive definite",
        )
    return eqx.tree_at(lambda r: r.rho0, lo, rho0)


# --------------------------------------------------------------------------------------
# Results.
# --------------------------------------------------------------------------------------


class Hypotheses(eqx.Module):
    """Numerical margins of the genericity hypotheses of Sec. 7, ordered ``(C, A, B)``:
    index 0 refers to ``ρ⁺`` (``H̄^τ``, ``Φ_D``, ``ρ_C0``), 1 to ``ρ^A`` (``H̄^{τ_A}``,
    ``Φ^A_D``, ``ρ^CB_0``), 2 to ``ρ^B``.

    Attributes:
        spec_gap: smallest eigenvalue gap of ``H̄`` divided by ``‖H‖_F`` (Spec; must
            exceed ``SPEC_TOL``).
        bohr_gap: smallest gap between distinct Bohr frequencies over ``‖H‖_F``. Reported
            only: the first-order expansion needs a simple spectrum, not distinct Bohr
            frequencies.
        coup_gap: second-smallest over largest singular value of ``Φ_D`` (Coup; a
            one-dimensional kernel means a gap above ``COUP_TOL``).
        min_population: smallest eigenvalue of the zeroth-order reduced state (Pos).
        first_order: largest coefficient of the ``O(g)`` term of ``σ_#`` (eq. 7.29), which
            must vanish; a consistency check of the expansion.
    """

    spec_gap: Array
    bohr_gap: Array
    coup_gap: Array
    min_population: Array
    first_order: Array


class LeadingOrder(eqx.Module):
    """Leading-order perturbation theory of a tripartite reset model (seed 004, Sec. 7).

    Attributes:
        rho0: ``ρ0 = τ_A ⊗ ρ_C0 ⊗ τ_B`` (eq. 7.12), ``(d, d)``.
        rho1: ``ρ1 = R1 + τ_A ⊗ r_C ⊗ τ_B`` (eqs. 7.12-7.14), ``(d, d)``, traceless.
        a, b, c: coefficients of Proposition 7.7, each shape ``(2,)`` ordered ``(A, B)``,
            so that ``σ^(2)(λ) = a_A λ² + b_A λ + c_A + a_B (1-λ)² + b_B (1-λ) + c_B``.
        lambda_min: the ``λ`` minimising ``σ^(2)``, ``-β/(2α)`` with
            ``α = a_A + a_B``, ``β = b_A - 2a_B - b_B``; NaN when ``σ^(2)`` does not depend
            on ``λ`` (``α = β = 0``, e.g. the three-qubit chain of Sec. 8).
        sigma2_min: ``σ^(2)(lambda_min)`` (the constant value if ``σ^(2)`` is flat).
        has_zero: whether ``σ^(2)`` *vanishes* at its minimum (``sigma2_min ≤ 1e-8 ×``
            the scale of the coefficients, see :func:`sigma2_minimum`). ``True`` is the
            case of condition (7.37) (an isolated zero ``λ0``, eqs. 7.35-7.37) or of
            ``σ^(2) ≡ 0`` (``[H, ρ0] = 0``, Prop. 7.4); ``False`` means the generic
            situation of a strictly positive minimum: there is no ``λ0``.
        rho_C0: ``ρ_C0`` (eq. 7.12), ``(n_C, n_C)``.
        r_C: ``r_C^(1)`` (eq. 7.14), ``(n_C, n_C)``.
        partial_rho0: ``(ρ^A_0, ρ^B_0)`` (eq. 7.20), ``(2, d, d)``.
        partial_rho1: first-order corrections of ``ρ^A``, ``ρ^B`` per unit of their own
            coupling (``λg``, resp. ``(1-λ)g``), ``(2, d, d)``.
        hbar_tau: ``H̄^τ`` of eq. (7.7), ``(n_C, n_C)``.
        hypotheses: :class:`Hypotheses` margins.
    """

    rho0: Array
    rho1: Array
    a: Array
    b: Array
    c: Array
    lambda_min: Array
    sigma2_min: Array
    has_zero: Array
    rho_C0: Array
    r_C: Array
    partial_rho0: Array
    partial_rho1: Array
    hbar_tau: Array
    hypotheses: Hypotheses

    def sigma2_parts(self, lam: ArrayLike) -> Array:
        """``(σ^(2)_A(λ), σ^(2)_B(λ))``; ``λ ∈ {0, 1}`` is rejected (Sec. 7)."""
        lam = _validate_lambda(lam)
        mu = 1.0 - lam
        return jnp.stack(
            [
                self.a[0] * lam**2 + self.b[0] * lam + self.c[0],
                self.a[1] * mu**2 + self.b[1] * mu + self.c[1],
            ],
            axis=-1,
        )

    def sigma2(self, lam: ArrayLike) -> Array:
        """``σ^(2)(λ) = lim σ(ρ⁺_g)/g²`` (eq. 7.34); ``λ ∈ {0, 1}`` is rejected."""
        return jnp.sum(self.sigma2_parts(lam), axis=-1)


def _validate_lambda(lam: ArrayLike) -> Array:
    lam = val.finite(val.as_inexact(lam, "lam"), "lam")
    if jnp.iscomplexobj(lam):
        raise TypeError("lam: must be real")
    return val.check(
        lam,
        jnp.any((jnp.abs(lam) < 1e-12) | (jnp.abs(lam - 1.0) < 1e-12)),
        "lam: must not be 0 or 1 (one partial Lindbladian would act on one end only and "
        "its steady state would not be unique, seed 004 Sec. 7)",
    )


def sigma2_minimum(
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike,
    scale: ArrayLike | None = None,
    rtol: float = ZERO_RTOL,
) -> tuple[Array, Array, Array]:
    """Minimum of ``σ^(2)(λ) = a_A λ² + b_A λ + c_A + a_B (1-λ)² + b_B (1-λ) + c_B``.

    Writing ``σ^(2) = α λ² + β λ + γ`` (``α = a_A + a_B``, ``β = b_A - 2a_B - b_B``,
    ``γ = a_B + b_B + c_A + c_B``): if ``α > rtol·scale`` the minimiser is ``-β/(2α)`` and
    the minimum ``γ - β²/(4α)``; otherwise ``σ^(2)`` is constant in ``λ`` (then ``β = 0``
    by positivity, eq. 7.35 i-ii) and ``λ_min`` is NaN. ``has_zero`` answers the question
    of eqs. (7.35)-(7.37): does ``σ^(2)`` *vanish* somewhere (``min ≤ rtol·scale``), or
    does it only have a strictly positive minimum (the generic case)?

    Args:
        a: quadratic coefficients (of ``λ²`` for A, ``(1-λ)²`` for B), shape ``(..., 2)``
            ordered ``(A, B)``.
        b: linear coefficients (of ``λ`` for A, ``1-λ`` for B), same shape.
        c: constant coefficients, same shape.
        scale: reference size of ``σ^(2)``; defaults to ``Σ(|a| + |b| + |c|)``.
        rtol: relative tolerance of both tests.

    Returns:
        ``(lambda_min, sigma2_min, has_zero)``.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.qrm import sigma2_minimum
        >>> lam, val, zero = sigma2_minimum(jnp.array([1.0, 1.0]), jnp.zeros(2), jnp.zeros(2))
        >>> float(lam), float(val), bool(zero)   # λ² + (1-λ)²: minimum 1/2 at λ = 1/2
        (0.5, 0.5, False)
    """
    a, b, c = (jnp.asarray(x) for x in (a, b, c))
    alpha = a[..., 0] + a[..., 1]
    beta = b[..., 0] - 2.0 * a[..., 1] - b[..., 1]
    gamma = a[..., 1] + b[..., 1] + c[..., 0] + c[..., 1]
    if scale is None:
        scale = jnp.sum(jnp.abs(a) + jnp.abs(b) + jnp.abs(c), axis=-1)
    scale = jax.lax.stop_gradient(jnp.asarray(scale))
    curved = alpha > rtol * scale
    safe_alpha = jnp.where(curved, alpha, 1.0)
    lam = jnp.where(curved, -beta / (2.0 * safe_alpha), jnp.nan)
    smin = jnp.where(curved, gamma - beta**2 / (4.0 * safe_alpha), gamma)
    has_zero = smin <= rtol * scale
    return lam, smin, has_zero


# --------------------------------------------------------------------------------------
# Entry point.
# --------------------------------------------------------------------------------------


def leading_order(
    H: ArrayLike,
    tau_A: ArrayLike,
    tau_B: ArrayLike,
    gamma_A: ArrayLike,
    gamma_B: ArrayLike,
    dims: Sequence[int],
) -> LeadingOrder:
    """Leading-order (``g → 0``) steady state and entropy production of ``A-C-B``.

    For ``L_g = -ig[H, ·] + D_A + D_B`` split as ``L^A_{λg} + L^B_{(1-λ)g}``, computes
    ``ρ⁺_g = ρ0 + gρ1 + O(g²)`` (eqs. 7.11-7.14), the analogous expansions of the partial
    steady states (eqs. 7.19-7.20), and the coefficients of Proposition 7.7 with
    ``σ(ρ⁺_g) = g² σ^(2)(λ) + O(g³)``. Works for any dimensions, under ``jit`` (``dims``
    static) and ``grad``.

    Args:
        H: Hermitian coupling Hamiltonian on ``H_A ⊗ H_C ⊗ H_B``, ``(d, d)``.
        tau_A: reset state of A (positive definite), ``(n_A, n_A)``.
        tau_B: reset state of B (positive definite), ``(n_B, n_B)``.
        gamma_A: reset rate of A (> 0).
        gamma_B: reset rate of B (> 0).
        dims: ``(n_A, n_C, n_B)`` as Python ints.

    Returns:
        :class:`LeadingOrder` (``rho0``, ``rho1``, ``a``, ``b``, ``c``, ``lambda_min``,
        ``sigma2_min``, ``has_zero``, ...).

    Raises:
        ValueError: invalid input, or a genericity hypothesis fails (eagerly; an
            ``EquinoxRuntimeError`` under ``jit``): Spec(H̄^τ) (eq. 7.7), Spec(H̄^{τ_#})
            (eqs. 7.15-7.16), Coup (eqs. 7.8-7.9), Coup_# (eqs. 7.17-7.18), Pos. The
            message names it.

    Example:
        >>> import jaxqep
        >>> H = jaxqep.models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
        >>> tA = jaxqep.models.diagonal_reset_state(0.95)
        >>> tB = jaxqep.models.diagonal_reset_state(0.6)
        >>> lo = jaxqep.qrm.leading_order(H, tA, tB, 0.7, 0.6, (2, 2, 2))
        >>> round(float(lo.c.sum()), 7)   # = lim σ/g², independent of λ here
        0.0052273
    """
    h, tau_a, tau_b, gamma_a, gamma_b, dims = validate_tripartite(
        H, tau_A, tau_B, gamma_A, gamma_B, dims
    )
    if tau_a.shape == tau_b.shape:  # one batched eigvalsh instead of two concurrent ones
        wmins = jnp.min(jnp.linalg.eigvalsh(jax.lax.stop_gradient(jnp.stack([tau_a, tau_b]))), -1)
        wmin_a, wmin_b = wmins[0], wmins[1]
    else:
        wmin_a = jnp.min(jnp.linalg.eigvalsh(jax.lax.stop_gradient(tau_a)))
        wmin_b = jnp.min(jnp.linalg.eigvalsh(_after(jax.lax.stop_gradient(tau_b), wmin_a)))
    msg = "hypothesis Pos fails (seed 004, before Thm. 7.2): {} is not positive definite"
    tau_a = val.check(tau_a, ~(wmin_a > POS_TOL), msg.format("tau_A"))
    tau_b = val.check(tau_b, ~(wmin_b > POS_TOL), msg.format("tau_B"))
    return _checked(_leading_order_core(h, tau_a, tau_b, gamma_a, gamma_b, dims))


@functools.partial(jax.jit, static_argnums=5)
def _leading_order_core(h, tau_a, tau_b, gamma_a, gamma_b, dims) -> LeadingOrder:
    # Jitted once per (shapes, dims): eager op-by-op dispatch of this many small
    # operations costs seconds; the hypothesis checks run outside (eager messages).
    dtype = jnp.result_type(h.dtype, tau_a.dtype, tau_b.dtype, gamma_a.dtype, jnp.complex64)
    h = h.astype(dtype)
    ta = tau_a.astype(dtype)
    tb = tau_b.astype(dtype)
    ga = gamma_a.astype(dtype)
    gb = gamma_b.astype(dtype)

    ex, ex_a, ex_b = _expand_all(h, _reductions(h, ta, tb, ga, gb, dims))

    rho0, rho1 = ex.rho0, ex.rho1
    # The three logarithms and the three Fréchet derivatives as two batched eigh calls,
    # the second made to wait for the first (see _expand_all on concurrent LAPACK calls).
    last = jnp.stack([ex.coup_gap, ex_a.coup_gap, ex_b.coup_gap])
    zeroth = _after(jnp.stack([rho0, ex_a.rho0, ex_b.rho0]), last)
    logs = jax.vmap(logm_h)(zeroth)
    firsts = jnp.stack([rho1, ex_a.rho1, ex_b.rho1])
    qs = jax.vmap(_dlogm)(_after(zeroth, logs), firsts)
    log0, q1 = logs[0], qs[0]
    comm0 = _comm(h, rho0)
    comm1 = _comm(h, rho1)

    def tr(x, y):
        return jnp.real(jnp.einsum("ab,ba->", x, y))

    coeffs = []
    first = []
    for k, reset in (
        (1, lambda r: ga * apply_reset_A(r, ta, dims)),
        (2, lambda r: gb * apply_reset_B(r, tb, dims)),
    ):
        q_p = qs[k]
        dlog = logs[k] - log0
        d1 = reset(rho1)
        # Proposition 7.7 (eqs. 7.25-7.26), derived again from (7.29)-(7.33).
        a_p = tr(-1j * comm0, q_p)
        b_p = tr(d1, q_p) + tr(1j * comm0, q1) - tr(1j * comm1, dlog)
        c_p = -tr(d1, q1)
        coeffs.append((a_p, b_p, c_p))
        # O(g) term of (7.29): λ tr(-i[H, ρ0] Δ) + tr(D_#(ρ1) Δ), zero by (7.31)-(7.33).
        first.append(jnp.stack([tr(-1j * comm0, dlog), tr(d1, dlog)]))
    a = jnp.stack([coeffs[0][0], coeffs[1][0]])
    b = jnp.stack([coeffs[0][1], coeffs[1][1]])
    c = jnp.stack([coeffs[0][2], coeffs[1][2]])
    # σ^(2) is ~ ‖H‖² / γ: use that as an absolute floor of the "is it zero" scale.
    hnorm2 = jnp.real(jnp.sum(jnp.abs(h) ** 2))
    floor = hnorm2 / jnp.real(ga + gb)
    scale = jnp.maximum(jnp.sum(jnp.abs(a) + jnp.abs(b) + jnp.abs(c)), floor)
    lam_min, smin, has_zero = sigma2_minimum(a, b, c, scale=scale)
    hyp = Hypotheses(
        spec_gap=jnp.stack([ex.spec_gap, ex_a.spec_gap, ex_b.spec_gap]),
        bohr_gap=jnp.stack([ex.bohr_gap, ex_a.bohr_gap, ex_b.bohr_gap]),
        coup_gap=jnp.stack([ex.coup_gap, ex_a.coup_gap, ex_b.coup_gap]),
        min_population=jnp.stack([ex.min_pop, ex_a.min_pop, ex_b.min_pop]),
        first_order=jax.lax.stop_gradient(jnp.max(jnp.abs(jnp.stack(first)))),
    )
    return LeadingOrder(
        rho0=rho0,
        rho1=rho1,
        a=a,
        b=b,
        c=c,
        lambda_min=lam_min,
        sigma2_min=smin,
        has_zero=has_zero,
        rho_C0=ex.x0,
        r_C=ex.x1,
        partial_rho0=jnp.stack([ex_a.rho0, ex_b.rho0]),
        partial_rho1=jnp.stack([ex_a.rho1, ex_b.rho1]),
        hbar_tau=ex.hbar,
        hypotheses=hyp,
    )
