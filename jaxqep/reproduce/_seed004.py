"""Reproduction of Figs. 1, 3, 4 and 5 of seed 004 as data files, plots and checks.

Called by the CLI (``reproduce_qrm(out_dir, quick)``). Every figure is written as an
``.npz`` file (arrays named after the axes) and a ``.png``; the returned dict summarises
the quantitative checks (limits, fitted log-log slopes, sign agreement).
"""

from __future__ import annotations

import os
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import models
from ..qrm._perturbation import leading_order
from ..qrm._reset import entropy_production
from ..qrm._tripartite import tripartite_entropy_production

__all__ = ["reproduce_qrm"]

# Seed 004, Sec. 8 (and CONVENTIONS.md): the three-qubit chain.
CHAIN = dict(eA=0.08, eB=0.1, eC=0.05, U=0.1, J_alpha=0.05, J_beta=0.1)
GAMMA_A, GAMMA_B = 0.7, 0.6
SIGMA2_REFERENCE = 5.2273e-3  # lim σ/g² at tA = 0.95, tB = 0.6 (CONVENTIONS.md)
# Seed 004, Fig. 1: the single qubit with three reservoirs.
EPS, DELTA = 1.0, 0.7
GAMMAS = (1.0, 0.5, 1.0 / 3.0)


def _chain_h():
    return models.three_qubit_chain(
        CHAIN["eA"], CHAIN["eB"], CHAIN["eC"], CHAIN["U"], CHAIN["J_alpha"], CHAIN["J_beta"]
    )


def _chain_exact(ta, tb, gs, lam):
    # Python floats would be static under filter_jit: pass arrays to compile once.
    f = jnp.asarray
    return _chain_exact_jit(f(ta, dtype=float), f(tb, dtype=float), f(gs), f(lam, dtype=float))


@eqx.filter_jit
def _chain_exact_jit(ta, tb, gs, lam):
    """Exact ``(σ, φ_A, ρ⁺)`` of the chain for a batch of couplings ``gs``."""
    h = _chain_h()

    def one(g):
        ep = tripartite_entropy_production(
            h,
            models.diagonal_reset_state(ta),
            models.diagonal_reset_state(tb),
            GAMMA_A,
            GAMMA_B,
            (2, 2, 2),
            g,
            lam,
            method="dense",
        )
        return ep.total, ep.fluxes[0], ep.rho

    return jax.vmap(one)(gs)


def _chain_leading(ta, tb):
    return _chain_leading_jit(jnp.asarray(ta, dtype=float), jnp.asarray(tb, dtype=float))


@eqx.filter_jit
def _chain_leading_jit(ta, tb):
    lo = leading_order(
        _chain_h(),
        models.diagonal_reset_state(ta),
        models.diagonal_reset_state(tb),
        GAMMA_A,
        GAMMA_B,
        (2, 2, 2),
    )
    h = _chain_h()
    comm1 = h @ lo.rho1 - lo.rho1 @ h
    log_ta = jnp.log(jnp.stack([ta, 1.0 - ta]))
    # eq. (8.29): φ_A = g² tr(i[H, ρ1] (ln τ_A ⊗ 1)) + O(g⁴) for this model.
    log_a = jnp.kron(jnp.diag(log_ta), jnp.eye(4))
    flux2_a = jnp.real(jnp.trace(1j * comm1 @ log_a))
    return lo.rho0, lo.rho1, jnp.sum(lo.c), jnp.max(jnp.abs(lo.a) + jnp.abs(lo.b)), flux2_a


def _trace_norm_half(x):
    return 0.5 * jnp.sum(jnp.abs(jnp.linalg.eigvalsh(0.5 * (x + jnp.conj(x.T)))))


def _slope(x, y) -> float:
    """Least-squares slope of ``log|y|`` against ``log x``."""
    return float(np.polyfit(np.log(np.asarray(x)), np.log(np.abs(np.asarray(y))), 1)[0])


@eqx.filter_jit
def _qubit_sigma(ts, lambdas):
    """σ of the single qubit with three reservoirs ``τ_j = diag(t_j, 1-t_j)``."""
    h = models.single_qubit_hamiltonian(EPS, DELTA)
    taus = jax.vmap(models.diagonal_reset_state)(ts)
    return entropy_production(h, taus, jnp.asarray(GAMMAS), lambdas).total


def _qubit_sigma_of_lambda(lam, ts):
    return _qubit_sigma(ts, lam)


def _fig1(out_dir: str, n: int, plt) -> dict[str, Any]:
    from .. import optimize

    gam = np.asarray(GAMMAS)
    lam_gamma = gam / gam.sum()
    # a/b: σ over (t_A, t_B), t_C = 0.8, λ_j = γ_j/Γ.
    t_axis = np.linspace(0.02, 0.98, n)
    ta, tb = np.meshgrid(t_axis, t_axis, indexing="ij")
    ts = np.stack([ta, tb, np.full_like(ta, 0.8)], axis=-1).reshape(-1, 3)
    sig_t = jax.vmap(lambda t: _qubit_sigma(t, jnp.asarray(lam_gamma)))(jnp.asarray(ts))
    sig_t = np.asarray(sig_t).reshape(n, n)
    # c/d: σ over (λ_A, λ_B), all t_j = 0.9, λ_C = 1 - λ_A - λ_B.
    l_axis = np.linspace(-0.5, 1.5, n)
    la, lb = np.meshgrid(l_axis, l_axis, indexing="ij")
    lams = np.stack([la, lb, 1.0 - la - lb], axis=-1).reshape(-1, 3)
    t_eq = jnp.full((3,), 0.9)
    sig_l = np.asarray(jax.vmap(lambda lam: _qubit_sigma(t_eq, lam))(jnp.asarray(lams))).reshape(
        n, n
    )
    sig_star = float(_qubit_sigma(t_eq, jnp.asarray(lam_gamma)))
    # Gradient search for the zero from a random start on the affine simplex Σλ = 1.
    r = np.random.default_rng(11)
    start = r.normal(size=3)
    start = start - start.mean() + 1.0 / 3.0
    res = optimize.minimize(
        _qubit_sigma_of_lambda,
        jnp.asarray(start),
        args=(t_eq,),
        constraints=optimize.AffineSimplex(),
        steps=200,
        gtol=1e-12,
    )
    np.savez(
        os.path.join(out_dir, "fig1.npz"),
        t_axis=t_axis,
        sigma_tA_tB=sig_t,
        lambda_axis=l_axis,
        sigma_lamA_lamB=sig_l,
    )
    if plt is not None:
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        c0 = ax[0].contourf(t_axis, t_axis, sig_t.T, 30)
        ax[0].set(
            xlabel="$t_A$",
            ylabel="$t_B$",
            title="Fig. 1a/b: $\\sigma$, $\\lambda_j=\\gamma_j/\\Gamma$",
        )
        fig.colorbar(c0, ax=ax[0])
        c1 = ax[1].contourf(l_axis, l_axis, sig_l.T, 30)
        ax[1].axvline(6 / 11, ls="--", c="w")
        ax[1].axhline(3 / 11, ls="--", c="w")
        ax[1].set(
            xlabel="$\\lambda_A$", ylabel="$\\lambda_B$", title="Fig. 1c/d: $\\sigma$, $t_j = 0.9$"
        )
        fig.colorbar(c1, ax=ax[1])
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "fig1.png"), dpi=120)
        plt.close(fig)
    i, j = np.unravel_index(np.argmin(sig_t), sig_t.shape)
    return {
        "fig1_sigma_at_gamma_over_Gamma": sig_star,
        "fig1_sigma_lambda_grid_min": float(sig_l.min()),
        "fig1_sigma_t_grid_min": float(sig_t.min()),
        "fig1_sigma_t_argmin": (float(t_axis[i]), float(t_axis[j])),
        "fig1_optax_lambda": [float(x) for x in np.asarray(res.params)],
        "fig1_optax_lambda_error": float(np.max(np.abs(np.asarray(res.params) - lam_gamma))),
        "fig1_optax_converged": bool(res.converged),
    }


def _fig3_4(out_dir: str, gs: np.ndarray, plt) -> dict[str, Any]:
    ta = 0.95
    tbs3 = [0.6, 0.7, 0.8, 0.9]
    tbs4 = [0.6, 0.7, 0.8, 0.9, 0.95]
    trace_dist, diff4, slopes3, slopes4 = [], [], [], []
    sigma2_ref = None
    lim: float | None = None
    ab_max: float | None = None
    flat = []
    for tb in sorted(set(tbs3 + tbs4)):
        rho0, rho1, s2, ab, _ = _chain_leading(ta, tb)
        sig, _, rho = _chain_exact(ta, tb, jnp.asarray(gs), 0.5)
        if tb in tbs3:
            td = np.asarray(jax.vmap(_trace_norm_half)(rho - (rho0 + gs[:, None, None] * rho1)))
            trace_dist.append(td / gs**2)
            slopes3.append(_slope(gs, td))
            flat.append(float(np.max(td / gs**2) / np.min(td / gs**2)))
        if tb in tbs4:
            d = np.asarray(sig) - gs**2 * float(s2)
            diff4.append(d)
            if tb != ta:
                slopes4.append(_slope(gs, d))
        if tb == 0.6:
            sigma2_ref = float(s2)
            lim = float(np.asarray(sig)[0] / gs[0] ** 2)
            ab_max = float(ab)
    trace_dist = np.asarray(trace_dist)
    diff4 = np.asarray(diff4)
    np.savez(os.path.join(out_dir, "fig3.npz"), g=gs, t_B=tbs3, trace_distance_over_g2=trace_dist)
    np.savez(os.path.join(out_dir, "fig4.npz"), g=gs, t_B=tbs4, sigma_minus_g2sigma2=diff4)
    if plt is not None:
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        for tb, td in zip(tbs3, trace_dist):
            ax[0].loglog(gs, td * gs**2, label=f"$t_B$={tb}")
            ax[1].semilogx(gs, td, label=f"$t_B$={tb}")
        ax[0].set(xlabel="g", ylabel="$T(\\rho_g^+, \\rho_0 + g\\rho_1)$", title="Fig. 3a")
        ax[1].set(xlabel="g", ylabel="$T / g^2$", title="Fig. 3b")
        ax[0].legend()
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "fig3.png"), dpi=120)
        plt.close(fig)
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        for tb, d in zip(tbs4, diff4):
            ax[0].semilogx(gs, d / gs**2, label=f"$t_B$={tb}")
            ax[1].semilogx(gs, d / gs**4, label=f"$t_B$={tb}")
        ax[0].set(xlabel="g", ylabel="$(\\sigma - g^2\\sigma^{(2)})/g^2$", title="Fig. 4a")
        ax[1].set(xlabel="g", ylabel="$(\\sigma - g^2\\sigma^{(2)})/g^4$", title="Fig. 4b")
        ax[0].legend()
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "fig4.png"), dpi=120)
        plt.close(fig)
    return {
        "fig3_slopes_trace_distance": slopes3,
        "fig3_flatness_max_over_min": flat,
        "fig4_sigma2_leading": sigma2_ref,
        "fig4_sigma2_reference": SIGMA2_REFERENCE,
        "fig4_sigma_over_g2_smallest_g": lim,
        "fig4_max_abs_a_b": ab_max,
        "fig4_slopes_remainder": slopes4,
        "fig4_remainder_over_g4_equilibrium_max": float(np.max(np.abs(diff4[-1]))),
    }


def _fig5(
    out_dir: str, gs_grid: np.ndarray, tbs: np.ndarray, gs: np.ndarray, plt
) -> dict[str, Any]:
    # a) φ_A over (g, t_B) at t_A = 0.6.
    ta = 0.6
    phi = np.stack(
        [np.asarray(_chain_exact(ta, float(tb), jnp.asarray(gs_grid), 0.5)[1]) for tb in tbs]
    )
    sign_expected = np.sign(ta - tbs)[:, None]
    nonzero = np.abs(tbs - ta) > 1e-9
    agree = np.sign(phi[nonzero]) == sign_expected[nonzero]
    # Which overall sign: the fraction of grid points where sign φ_A = s·sign(t_A - t_B).
    frac = float(max(agree.mean(), 1.0 - agree.mean()))
    sign_convention = "+" if agree.mean() >= 0.5 else "-"
    # b) (φ_A - g² φ_A^(2)) / g⁴ at t_B = 0.95 for several t_A.
    tas = [0.6, 0.7, 0.8, 0.9]
    rem, slopes = [], []
    for t_a in tas:
        *_, flux2 = _chain_leading(t_a, 0.95)
        ph = np.asarray(_chain_exact(t_a, 0.95, jnp.asarray(gs), 0.5)[1])
        d = ph - gs**2 * float(flux2)
        rem.append(d / gs**4)
        slopes.append(_slope(gs, d))
    rem = np.asarray(rem)
    np.savez(
        os.path.join(out_dir, "fig5.npz"),
        g_grid=gs_grid,
        t_B=tbs,
        phi_A=phi,
        g=gs,
        t_A=tas,
        remainder_over_g4=rem,
    )
    if plt is not None:
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        vmax = float(np.max(np.abs(phi)))
        c0 = ax[0].pcolormesh(
            gs_grid, tbs, phi, cmap="RdBu_r", vmin=-vmax, vmax=vmax, shading="auto"
        )
        ax[0].axhline(ta, c="k", ls="--")
        ax[0].set(xlabel="g", ylabel="$t_B$", title="Fig. 5a: $\\phi_A$, $t_A = 0.6$")
        fig.colorbar(c0, ax=ax[0])
        for t_a, r in zip(tas, rem):
            ax[1].semilogx(gs, r, label=f"$t_A$={t_a}")
        ax[1].set(
            xlabel="g", ylabel="$(\\phi_A - g^2\\phi_A^{(2)})/g^4$", title="Fig. 5b, $t_B$ = 0.95"
        )
        ax[1].legend()
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "fig5.png"), dpi=120)
        plt.close(fig)
    return {
        "fig5_sign_agreement": frac,
        "fig5_sign_convention": f"sign(phi_A) = {sign_convention}sign(t_A - t_B)",
        "fig5_slopes_remainder": slopes,
    }


def reproduce_qrm(out_dir: str, quick: bool = True) -> dict:
    """Reproduce Figs. 1, 3, 4, 5 of seed 004: data (``.npz``), plots (``.png``), checks.

    Args:
        out_dir: directory for ``fig1.npz``, ``fig1.png``, ..., ``fig5.png`` (created).
        quick: coarse grids (well under a minute) instead of the full ones (a few minutes).

    Returns:
        A dict of the checks performed, e.g. ``fig1_sigma_at_gamma_over_Gamma`` (≈ 0),
        ``fig1_optax_lambda`` (≈ (6/11, 3/11, 2/11)), ``fig4_sigma2_leading`` vs
        ``fig4_sigma2_reference`` (5.2273e-3), fitted log-log slopes
        (``fig3_slopes_trace_distance`` ≈ 2, ``fig4_slopes_remainder`` ≈ 4,
        ``fig5_slopes_remainder`` ≈ 4) and ``fig5_sign_agreement`` (= 1).

    Example:
        >>> from jaxqep.qrm._figures import reproduce_qrm
        >>> summary = reproduce_qrm("/tmp/qrm_figs", quick=True)  # doctest: +SKIP
    """
    os.makedirs(out_dir, exist_ok=True)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - plots are optional
        plt = None
    n1 = 21 if quick else 61
    gs = np.logspace(-2.5, -0.7, 8 if quick else 25)
    gs_grid = np.linspace(0.01, 1.0, 12 if quick else 40)
    tbs = np.linspace(0.05, 0.95, 13 if quick else 37)
    summary: dict[str, Any] = {"quick": quick, "plots": plt is not None}
    summary.update(_fig1(out_dir, n1, plt))
    summary.update(_fig3_4(out_dir, gs, plt))
    summary.update(_fig5(out_dir, gs_grid, tbs, gs, plt))
    return summary
