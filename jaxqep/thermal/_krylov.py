"""Matrix-free steady states of GKLS models (:class:`jaxqep.solvers.GKLSKrylov`).

The Krylov iteration is jaxqep's restarted GMRES (``jaxqep.qrm._iterative._GMRES``
through ``_solve_packed``: CGS2, true-residual stopping, lineax implicit derivatives) on
packed Hermitian matrices ``S = Re X + Im X``.

Preconditioner (why this one). GMRES on ``L`` stalls on its slow modes, and for a
thermal master equation those are the *populations* in the energy eigenbasis: coherences
between levels of different energy rotate at ``e_m − e_n`` and decay at the damping
rates, while populations only relax through the jumps, at rates that can be orders of
magnitude smaller and that are strongly coupled (the Pauli rate matrix, with its zero
mode). The secular approximation of ``L`` in ``H``'s eigenbasis, ``H = V diag(e) V†``,

* coherences ``m ≠ n``: ``Y_mn ↦ Y_mn / (−i(e_m − e_n) − ½(g_m + g_n))``, with
  ``g_m = (V† Σ_k L_k†L_k V)_mm`` (the no-jump decay; the jump couplings between
  coherences are dropped),
* populations: the bordered Pauli matrix ``W − diag(g) + (1/d) 1 1ᵀ``,
  ``W_mn = Σ_k |(V†L_kV)_mn|²``, solved exactly by one ``d × d`` LU,

is invertible whenever every eigenstate is damped and is exactly the Davies generator for
a global master equation (then GMRES converges in a handful of steps); for a local
equation it still removes the population bottleneck. Each application costs two
basis changes (four real ``d × d`` products for real ``H``, via
``pack(V†XV) = Vᵀ pack(X) V``). Setup: one ``eigh`` and ``2K`` products, done once and
held fixed (``stop_gradient``: the preconditioner only changes the iteration count).

Sectors: when the model carries a block structure (``GKLSModel.sectors``: a conserved
quantity whose eigenspaces the jumps map one onto one, e.g. the magnetisation of an XXZ
chain with boundary ``σ±`` baths), the same preconditioned GMRES runs on the block-diagonal
matrices only, with one ``eigh`` per block (:mod:`jaxqep.thermal._sectors`); otherwise, or
with ``GKLSKrylov(sectors=False)``, on the full space as below.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
import scipy.sparse as sp

from .._dispatch import register
from .._solution import RESULTS, SteadyStateSolution, make_stats
from ..qrm._iterative import _ell_pattern, _pack, _solve_packed, _unpack
from ..solvers import GKLSKrylov
from ._model import GKLSModel
from ._sectors import find_sectors, solve_sectors
from ._thermo import entropy_production_at

__all__: list[str] = []


def _left(a, nz: np.ndarray | None):
    """``X -> A X`` along the static row pattern ``nz`` of ``A`` (dense if unknown/dense)."""
    if nz is None:
        return lambda x: a @ x
    ell = _ell_pattern(nz | nz.T)
    if ell is None:
        return lambda x: a @ x
    col, valid = ell
    rows = np.arange(col.shape[0])[:, None]
    vals = jnp.where(valid, a[rows, col], 0)

    def left(x):
        out = vals[:, 0, None] * x[col[:, 0]]
        for k in range(1, col.shape[1]):
            out = out + vals[:, k, None] * x[col[:, k]]
        return out

    return left


def _operators(model: GKLSModel):
    """``X -> L(X)`` with sparse products; ``G = Σ L†L``; the per-jump products."""
    h = model.H
    ls = model.jumps
    hp = None if model.h_pattern is None else model.h_pattern.array
    jp = None if model.jump_pattern is None else model.jump_pattern.array
    k = model.n_jumps
    lefts = [_left(ls[i], None if jp is None else jp[i]) for i in range(k)]
    lefts_dag = [_left(jnp.conj(ls[i].T), None if jp is None else jp[i].T) for i in range(k)]
    # G_k = L_k†L_k by sparse products; their patterns from scipy.sparse.
    gks = [lefts_dag[i](ls[i]) for i in range(k)]
    if jp is None:
        gps = [None] * k
    else:
        gps = [
            (
                sp.csr_matrix(jp[i].T.astype(np.float32)) @ sp.csr_matrix(jp[i].astype(np.float32))
            ).toarray()
            != 0
            for i in range(k)
        ]
    g = sum(gks)
    gp = None if jp is None else np.logical_or.reduce(gps)
    heff_p = None if (hp is None or gp is None) else (hp | gp)
    left_heff = _left(h - 0.5j * g, heff_p)
    left_g = [_left(gks[i], gps[i]) for i in range(k)]

    def apply(x):
        y = left_heff(x)
        out = -1j * (y - _dag(y))  # −i(H_eff X − X H_eff†) for Hermitian X
        for i in range(k):
            a = lefts[i](x)
            out = out + _dag(lefts[i](_dag(a)))  # L X L† = (L (L X)†)†
        return out

    def currents(rho, energy):
        """``tr(E D_k(ρ))`` per jump with sparse products only (``E`` dense Hermitian)."""
        out = []
        for i in range(k):
            a = lefts[i](rho)
            jump = _dag(lefts[i](_dag(a)))  # L ρ L†
            gr = left_g[i](rho)  # G ρ; ρ G = (G ρ)†
            t = jnp.sum(energy * jump.T) - 0.5 * (
                jnp.sum(energy * gr.T) + jnp.sum(energy * jnp.conj(gr))
            )
            out.append(jnp.real(t))
        return jnp.stack(out)

    return apply, g, currents


def _dag(x):
    return jnp.conj(x.T)


def _secular_preconditioner(model: GKLSModel, g):
    """Packed ``S -> M(S)``: the secular approximation of the bordered ``L``, inverted."""
    h, ls, g = jax.lax.stop_gradient((model.H, model.jumps, g))
    d = model.d
    if model.real:  # real H and jumps (by dtype): real eigenvectors and products
        h, ls, g = jnp.real(h), jnp.real(ls), jnp.real(g)
    e, v = jnp.linalg.eigh(h)
    vd = jnp.conj(v.T)
    gm = jnp.real(jnp.diagonal(vd @ g @ v))
    w = sum(jnp.abs(vd @ ls[i] @ v) ** 2 for i in range(model.n_jumps))
    lu = jsl.lu_factor(w - jnp.diag(gm) + 1.0 / d)  # bordered Pauli matrix
    off = ~jnp.eye(d, dtype=bool)
    denom = -1j * (e[:, None] - e[None, :]) - 0.5 * (gm[:, None] + gm[None, :])
    inv = jnp.where(off, 1 / jnp.where(off, denom, 1), 0)

    def core(y):
        pops = jsl.lu_solve(lu, jnp.real(jnp.diagonal(y)))
        return inv * y + jnp.diag(pops)

    if model.real:
        # pack(V† X V) = Vᵀ pack(X) V for real V: real products only.
        def precond(s):
            y = _unpack(v.T @ s @ v)
            return v @ _pack(core(y)) @ v.T

    else:

        def precond(s):
            y = vd @ _unpack(s) @ v
            return _pack(v @ core(y) @ vd).astype(s.dtype)

    return precond


def _krylov_state(problem: GKLSModel, solver: GKLSKrylov):
    """``(solution, per-jump currents at it)``: on the sectors if the model has them."""
    sec = find_sectors(problem) if solver.sectors else None
    if sec is not None:
        out = solve_sectors(problem, sec, solver.options())
        sol = SteadyStateSolution(
            rho=out.rho,
            result=RESULTS.successful,
            stats=make_stats(out.residual, None, out.iterations),
        )
        return sol, lambda rho, energy: out.currents
    apply, g, currents = _operators(problem)
    dtype = jnp.real(problem.H).dtype
    precond = _secular_preconditioner(problem, g)

    def apply_packed(s):
        return _pack(apply(_unpack(s))).astype(dtype)

    ss = _solve_packed(apply_packed, precond, problem.d, dtype, solver.options(), "L", True)
    sol = SteadyStateSolution(
        rho=ss.rho,
        result=RESULTS.successful,
        stats=make_stats(ss.residual, None, ss.iterations),
    )
    return sol, currents


@register("steady_state", GKLSModel, GKLSKrylov)
def _ss_krylov(problem: GKLSModel, solver: GKLSKrylov) -> SteadyStateSolution:
    return _krylov_state(problem, solver)[0]


@register("entropy_production", GKLSModel, GKLSKrylov)
def _ep_krylov(problem: GKLSModel, solver: GKLSKrylov):
    if problem.betas is None:
        return entropy_production_at(problem, None)  # raises: betas are needed
    sol, currents = _krylov_state(problem, solver)
    mask = jnp.asarray(problem.bath_mask())
    return entropy_production_at(problem, sol, mask @ currents(sol.rho, problem.energy()))
