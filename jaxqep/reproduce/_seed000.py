"""Figures 2 and 3 of seed 000 as data and PNGs, with self-checks.

* Fig. 2 (occupation profiles): the general O(L³) solver (:func:`ness_covariance`) is
  compared with the closed form (29a) in every panel.
* Fig. 3 (Π_r and Π_sc vs L, γ = 1e-6, Γ = 1e-7, λ = 3e-7, n1 = 1, nL = 2): for
  L up to 2000 the NESS is the tridiagonal closed form (29)/(D4) (checked against the
  general solver at the smallest sizes), and Π_k is evaluated with the cancellation-free
  formula of :func:`entropy_production_rates` specialised to tridiagonal ``C + ½``
  (O(L) pivot recurrences instead of a dense O(L³) inverse).
* Eq. (31) (ballistic vs diffusive, γ = 1e-6, λ = 3e-7, n1 = 1, nL = 2, Γ = 0, 1e-7,
  1e-6, L = 4...128): the exact NESS of :func:`jaxqep.entropy_production` against the
  closed forms (30) and (31); fitted exponents of j and Π_NESS in L (0 ballistic, -1
  diffusive).
"""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..gaussian._api import entropy_production
from ..gaussian._builders import chain_baths, chain_closed_form, chain_hamiltonian
from ..gaussian._ness import ness_covariance

__all__ = [
    "eq31_data",
    "fig2_data",
    "fig3_data",
    "fit_exponent",
    "tridiagonal_chain_pi",
    "reproduce_gaussian",
]

_ness_jit = jax.jit(ness_covariance)

FIG3_PARAMS = dict(gamma=1e-6, Gamma=1e-7, lam=3e-7, n1=1.0, nL=2.0)


def fit_exponent(Ls, ys) -> float:
    """Least-squares slope of ``log y`` vs ``log L``."""
    return float(np.polyfit(np.log(np.asarray(Ls, float)), np.log(np.asarray(ys, float)), 1)[0])


def tridiagonal_chain_pi(occ, x, gamma, Gamma, n1, nL) -> tuple[float, float]:
    """(Π_r, Π_sc) for the chain NESS ``C = diag(occ) + x (shift + shift^T)`` (x real)."""
    occ = np.asarray(occ, float)
    L = occ.size
    d = occ + 0.5
    e = np.full(L - 1, float(x))
    # O(L) Schur-pivot recurrences instead of a dense inverse: forward pivots a_k, backward
    # pivots b_k, [X⁻¹]_kk = 1/(a_k + b_k - d_k), [X⁻¹]_{k,k+1} = -e_k [X⁻¹]_{k+1,k+1}/a_k.
    a = np.empty(L)
    b = np.empty(L)
    a[0], b[-1] = d[0], d[-1]
    for k in range(1, L):
        a[k] = d[k] - e[k - 1] ** 2 / a[k - 1]
        b[L - 1 - k] = d[L - 1 - k] - e[L - 1 - k] ** 2 / b[L - k]
    inv_diag = 1.0 / (a + b - d)
    inv_up = -e * inv_diag[1:] / a[:-1]  # [X⁻¹]_{k,k+1} = [X⁻¹]_{k+1,k}
    s = np.zeros(L)
    s[:-1] += e * inv_up
    s[1:] += e * inv_up
    delta = -s / d  # [X⁻¹]_kk - 1/X_kk, no cancellation
    pi_r = 0.0
    for k, n in ((0, n1), (L - 1, nL)):
        c = occ[k]
        pi_r += gamma * (c - n) ** 2 / ((c + 0.5) * (n + 0.5)) + gamma * (n + 0.5) * delta[k]
    pi_sc = float(np.sum(Gamma * d * delta))
    return float(pi_r), pi_sc


def _closed_form_pis(L: int, p: dict) -> tuple[float, float, float]:
    """(Π_r, Π_sc, Π_NESS) of the Fig. 3 chain from the closed-form covariance (29)."""
    cf = chain_closed_form(L, p["lam"], p["gamma"], p["Gamma"], p["n1"], p["nL"])
    a, b = tridiagonal_chain_pi(
        np.asarray(cf["occupations"]),
        float(cf["coherence"]),
        p["gamma"],
        p["Gamma"],
        p["n1"],
        p["nL"],
    )
    return a, b, float(cf["pi_ness"])


def fig3_data(Ls, check_L: int | None = 200) -> dict:
    """Π_r(L), Π_sc(L) and Π_NESS(L) of Fig. 3, with fitted exponents.

    Returns a dict with arrays ``L``, ``pi_r``, ``pi_sc``, ``pi_ness`` (eq. 31),
    ``fit_all`` (exponents over all L), ``fit_large`` (over the largest half of the
    L range, ``L >= max(L)/2``), ``local_slopes`` (between consecutive L) and
    ``check_rel_err`` (general solver vs this route at ``check_L``).
    """
    p = FIG3_PARAMS
    Ls = np.asarray(sorted(Ls), int)
    pr, ps, pn = [], [], []
    for L in Ls:
        a, b, c = _closed_form_pis(int(L), p)
        pr.append(a)
        ps.append(b)
        pn.append(c)
    pr, ps, pn = map(np.asarray, (pr, ps, pn))
    big = Ls >= Ls.max() / 2
    out = {
        "L": Ls,
        "pi_r": pr,
        "pi_sc": ps,
        "pi_ness": pn,
        "sum_rel_err": float(np.max(np.abs(pr + ps - pn) / pn)),
        "fit_all": {"pi_r": fit_exponent(Ls, pr), "pi_sc": fit_exponent(Ls, ps)},
        "fit_large": {
            "pi_r": fit_exponent(Ls[big], pr[big]),
            "pi_sc": fit_exponent(Ls[big], ps[big]),
        },
        "local_slopes": {
            "L_mid": np.sqrt(Ls[1:] * Ls[:-1]),
            "pi_r": np.diff(np.log(pr)) / np.diff(np.log(Ls)),
            "pi_sc": np.diff(np.log(ps)) / np.diff(np.log(Ls)),
        },
    }
    ratio = ps / pr
    above = np.nonzero(ratio > 1)[0]
    if above.size and above[0] > 0 and ratio[0] < 1:
        # Crossover Π_sc = Π_r by log-log interpolation between the bracketing sizes.
        i = int(above[0])
        x0, x1 = np.log(Ls[i - 1]), np.log(Ls[i])
        y0, y1 = np.log(ratio[i - 1]), np.log(ratio[i])
        out["crossover_L"] = float(np.exp(x0 - y0 * (x1 - x0) / (y1 - y0)))
    else:
        out["crossover_L"] = float("nan")
    keep = (4, 10, 15, 20, 50)
    out["ratio_sc_r"] = {int(L): float(r) for L, r in zip(Ls, ratio) if int(L) in keep}
    if check_L is not None:
        g, n = chain_baths(check_L, p["gamma"], p["n1"], p["nL"])
        r = entropy_production(
            chain_hamiltonian(check_L, 1.0, p["lam"]), g, n, p["Gamma"] * jnp.ones(check_L)
        )
        a, b, _ = _closed_form_pis(check_L, p)
        out["check_rel_err"] = float(
            max(abs(float(r.pi_r) - a) / a, abs(float(r.pi_sc_total) - b) / b)
        )
        # Small-L regime: the general dense route (no structure used) at L = 10.
        Ls_small = 10
        g, n = chain_baths(Ls_small, p["gamma"], p["n1"], p["nL"])
        r = entropy_production(
            chain_hamiltonian(Ls_small, 1.0, p["lam"]), g, n, p["Gamma"] * jnp.ones(Ls_small),
            method="sign",
        )
        a, b, _ = _closed_form_pis(Ls_small, p)
        out["check_small_rel_err"] = float(
            max(abs(float(r.pi_r) - a) / a, abs(float(r.pi_sc_total) - b) / b)
        )
    return out


EQ31_PARAMS: dict[str, Any] = dict(gamma=1e-6, lam=3e-7, n1=1.0, nL=2.0, Gammas=(0.0, 1e-7, 1e-6))


def eq31_local_slope(L, gamma, lam, Gamma) -> np.ndarray:
    """``d ln j / d ln L`` of eq. (30): ``-γΓL / (4λ² + γ² + γΓ(L - 1))`` (also that of
    Π_NESS, eq. 31, which is ``j`` times an L-independent factor)."""
    L = np.asarray(L, float)
    return -gamma * Gamma * L / (4 * lam**2 + gamma**2 + gamma * Gamma * (L - 1))


def eq31_data(Ls=(4, 32, 64, 128), params: dict | None = None) -> dict:
    """Eq. (31): Π_NESS and the current j vs L, ballistic (Γ = 0) and diffusive (Γ > 0).

    For each L one jitted ``vmap`` over Γ of :func:`jaxqep.entropy_production` (default
    solver: the O(L²) :class:`~jaxqep.solvers.Tridiagonal` route, whose residual in the
    full NESS equation is verified at rounding level; the closed forms are not used) gives
    the exact NESS; ``j`` is the bond current (25b) (its spread
    over the bonds is reported), ``Π`` the total ``Π_r + Π_sc`` (17) and ``Π_26`` the
    current form (26).  Returns arrays ``L``, ``Gammas``, ``pi``, ``pi_26``, ``j`` (shape
    ``(len(Gammas), len(L))``), the closed forms ``pi_31``, ``j_30``, relative errors,
    exponents fitted on the three largest L and the exact local slopes there.
    """
    p: dict[str, Any] = dict(EQ31_PARAMS if params is None else params)
    Ls = np.asarray(sorted(Ls), int)
    Gs = jnp.asarray(p["Gammas"], float)
    gam, lam, n1, nL = p["gamma"], p["lam"], p["n1"], p["nL"]
    pi, pi26, j, spread = (np.zeros((Gs.size, Ls.size)) for _ in range(4))
    for i, L in enumerate(Ls):
        L = int(L)
        g, n = chain_baths(L, gam, n1, nL)
        H = chain_hamiltonian(L, 1.0, lam)

        def one(G, H=H, g=g, n=n, L=L):
            r = entropy_production(H, g, n, G * jnp.ones(L))
            bonds = jnp.diagonal(r.currents, offset=1)
            return r.total, r.pi_ness, bonds

        tot, p26, bonds = jax.jit(jax.vmap(one))(Gs)
        bonds = np.asarray(bonds)
        pi[:, i], pi26[:, i], j[:, i] = np.asarray(tot), np.asarray(p26), bonds[:, 0]
        spread[:, i] = np.max(np.abs(bonds - bonds[:, :1]), axis=1) / np.abs(bonds[:, 0])
    cf = [[chain_closed_form(int(L), lam, gam, float(G), n1, nL) for L in Ls] for G in Gs]
    pi31 = np.array([[float(c["pi_ness"]) for c in row] for row in cf])
    j30 = np.array([[float(c["current"]) for c in row] for row in cf])
    big = slice(-3, None)
    fits = {
        f"{float(G):g}": {
            "j": fit_exponent(Ls[big], np.abs(j[k, big])),
            "pi": fit_exponent(Ls[big], pi[k, big]),
        }
        for k, G in enumerate(Gs)
    }
    slopes = {
        f"{float(G):g}": eq31_local_slope(Ls[big], gam, lam, float(G)).tolist() for G in Gs
    }
    return {
        "L": Ls,
        "Gammas": np.asarray(Gs),
        "pi": pi,
        "pi_26": pi26,
        "j": j,
        "pi_31": pi31,
        "j_30": j30,
        "rel_err_pi": float(np.max(np.abs(pi / pi31 - 1))),
        "rel_err_pi_26": float(np.max(np.abs(pi26 / pi31 - 1))),
        "rel_err_j": float(np.max(np.abs(j / j30 - 1))),
        "bond_spread": float(np.max(spread)),
        "pi_over_j_spread": float(np.ptp(pi / j) / np.abs(np.mean(pi / j))),
        "fits": fits,
        "fit_L": Ls[big].tolist(),
        "local_slopes": slopes,
        "ballistic_exceeds_diffusive": float(np.min(pi[0] - np.max(pi[1:], axis=0)) / np.max(pi)),
    }


def fig2_data(quick: bool = False) -> dict:
    """Occupation profiles of Fig. 2 (γ = 1e-5, ω = 1, n1 = 1, nL = 2; the paper does not
    print n1, nL).  Each curve comes from the general solver; ``max_rel_err`` compares it
    with (29a)."""
    gamma, n1, nL = 1e-5, 1.0, 2.0
    panels: dict[str, list[dict[str, Any]]] = {
        "a": [dict(L=10, lam=lam, Gamma=0.0) for lam in (1e-6, 1e-5, 1e-4)],
        "b": [dict(L=10, lam=lam, Gamma=1e-6) for lam in (1e-6, 1e-5, 1e-4)],
        "c": [dict(L=10, lam=1e-5, Gamma=G) for G in (1e-7, 1e-6, 1e-5)],
        "d": [dict(L=L, lam=1e-5, Gamma=1e-6) for L in ((10, 20, 40) if quick else (10, 50, 100))],
    }
    out, worst = {}, 0.0
    for key, curves in panels.items():
        out[key] = []
        for cv in curves:
            L = cv["L"]
            g, n = chain_baths(L, gamma, n1, nL)
            sc = None if cv["Gamma"] == 0 else cv["Gamma"] * jnp.ones(L)
            C = _ness_jit(chain_hamiltonian(L, 1.0, cv["lam"]), g, n, sc)
            occ = np.real(np.diagonal(np.asarray(C)))
            ref = np.asarray(
                chain_closed_form(L, cv["lam"], gamma, cv["Gamma"], n1, nL)["occupations"]
            )
            worst = max(worst, float(np.max(np.abs(occ - ref) / ref)))
            out[key].append({**cv, "k": np.arange(1, L + 1), "occupations": occ})
    out["max_rel_err"] = worst
    return out


def _plot_eq31(e31: dict, path: str, plt) -> None:
    """Π_NESS and |j| vs L: exact NESS (markers) with (31), (30) overlaid (lines)."""
    p = EQ31_PARAMS
    Lf = np.unique(np.geomspace(2, int(e31["L"].max()), 60).astype(int))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for k, G in enumerate(e31["Gammas"]):
        cf = [chain_closed_form(int(L), p["lam"], p["gamma"], float(G), p["n1"], p["nL"])
              for L in Lf]
        label = "ballistic Γ = 0" if G == 0 else f"diffusive Γ = {G:g}"
        for ax, key, ckey in ((axes[0], "pi", "pi_ness"), (axes[1], "j", "current")):
            line = ax.loglog(Lf, [abs(float(c[ckey])) for c in cf], "-", lw=1)[0]
            ax.loglog(e31["L"], np.abs(e31[key][k]), "o", color=line.get_color(), label=label)
    axes[0].set_ylabel("Π_NESS (exact: o, eq. 31: line)")
    axes[1].set_ylabel("|j| (exact: o, eq. 30: line)")
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    for ax in axes:
        ax.set_xlabel("L")
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.legend(fontsize=8)
    fit = e31["fits"]["1e-06"]["pi"]
    fig.suptitle(f"Eq. (31): γ=1e-6, λ=3e-7, n1=1, nL=2; diffusive exponent {fit:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def reproduce_gaussian(out_dir: str, quick: bool = False) -> dict:
    """Write Fig. 2, Fig. 3 and the eq. (31) figure (PNG + NPZ) into ``out_dir`` and
    return a summary of checks.

    ``quick`` uses smaller chains (Fig. 3 up to L = 800 instead of 2000).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out_dir, exist_ok=True)
    f2 = fig2_data(quick)
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    titles = {"a": "Γ = 0, vary λ", "b": "Γ = 1e-6, vary λ", "c": "λ = 1e-5, vary Γ", "d": "vary L"}
    for ax, key in zip(axes, "abcd"):
        for cv in f2[key]:
            label = {
                "a": f"λ={cv['lam']:g}",
                "b": f"λ={cv['lam']:g}",
                "c": f"Γ={cv['Gamma']:g}",
                "d": f"L={cv['L']}",
            }[key]
            x = cv["k"] if key != "d" else cv["k"] / cv["L"]
            ax.plot(x, cv["occupations"], "o-", ms=3, label=label)
        ax.set_title(f"({key}) {titles[key]}")
        ax.set_xlabel("k" if key != "d" else "k / L")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("<a_k† a_k>")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "gaussian_fig2.png"), dpi=120)
    plt.close(fig)
    # Data behind the plot: one entry per curve, named panel_index, with its parameters.
    arrays = {}
    for key in "abcd":
        for i, cv in enumerate(f2[key]):
            arrays[f"{key}{i}_k"] = cv["k"]
            arrays[f"{key}{i}_occupations"] = cv["occupations"]
            arrays[f"{key}{i}_params_L_lam_Gamma"] = np.array([cv["L"], cv["lam"], cv["Gamma"]])
    np.savez(os.path.join(out_dir, "gaussian_fig2.npz"), **arrays)

    # L = 2...2000: every size up to 50 (the small-L regime where Π_r dominates and the
    # crossover near L ≈ 16), then a geometric grid up to 2000 (800 with --quick).
    Ls = np.unique(np.concatenate([
        np.arange(2, 51),
        np.geomspace(60, 800 if quick else 2000, 10 if quick else 16).astype(int),
    ]))
    f3 = fig3_data(Ls, check_L=100 if quick else 200)
    np.savez(
        os.path.join(out_dir, "gaussian_fig3.npz"),
        L=f3["L"],
        pi_r=f3["pi_r"],
        pi_sc=f3["pi_sc"],
        pi_ness=f3["pi_ness"],
    )
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.loglog(
        f3["L"], f3["pi_r"], "o", color="red", label=f"Π_r (fit {f3['fit_large']['pi_r']:.3f})"
    )
    ax.loglog(
        f3["L"], f3["pi_sc"], "s", color="blue", label=f"Π_sc (fit {f3['fit_large']['pi_sc']:.3f})"
    )
    cross = f3["crossover_L"]
    ax.axvline(cross, color="gray", ls=":", label=f"crossover L≈{cross:.1f}")
    ax.set_xlabel("L")
    ax.set_ylabel("entropy production")
    ax.legend()
    ax.set_title("Fig. 3: γ=1e-6, Γ=1e-7, λ=3e-7")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "gaussian_fig3.png"), dpi=120)
    plt.close(fig)
    e31 = eq31_data((4, 16, 32, 64) if quick else (4, 32, 64, 128))
    _plot_eq31(e31, os.path.join(out_dir, "gaussian_eq31.png"), plt)
    np.savez(
        os.path.join(out_dir, "gaussian_eq31.npz"),
        **{k: e31[k] for k in ("L", "Gammas", "pi", "pi_26", "j", "pi_31", "j_30")},
    )
    summary = {
        "eq31_closed_form_vs_exact": max(e31["rel_err_pi"], e31["rel_err_pi_26"], e31["rel_err_j"]),
        "eq31_pi_scales_like_j": e31["pi_over_j_spread"],
        "eq31_ballistic_exponent": e31["fits"]["0"],
        "eq31_diffusive_exponent": e31["fits"]["1e-06"],
        "eq31_ballistic_exceeds_diffusive": e31["ballistic_exceeds_diffusive"],
        "eq31_fit_L": e31["fit_L"],
        "eq31_local_slopes_at_fit_L": e31["local_slopes"],
        "eq31_exponent_Gamma_1e-7": e31["fits"]["1e-07"],
        "eq31_bond_current_spread": e31["bond_spread"],
        "fig2_max_rel_err_vs_29a": f2["max_rel_err"],
        "fig3_L_range": (int(f3["L"].min()), int(f3["L"].max())),
        "fig3_fit_all": f3["fit_all"],
        "fig3_fit_large_L": f3["fit_large"],
        "fig3_pi_r_plus_pi_sc_vs_31": f3["sum_rel_err"],
        "fig3_general_solver_check": f3["check_rel_err"],
        "fig3_small_L_general_solver_check": f3["check_small_rel_err"],
        "fig3_crossover_L": f3["crossover_L"],
        "fig3_ratio_sc_r": f3["ratio_sc_r"],
    }
    summary["passed"] = bool(
        f2["max_rel_err"] < 1e-8
        and f3["sum_rel_err"] < 1e-8
        and f3["check_rel_err"] < 1e-8
        and f3["check_small_rel_err"] < 1e-8
        and 14 < f3["crossover_L"] < 18
        and (quick or abs(f3["fit_large"]["pi_r"] + 2) < 0.05)
        and (quick or abs(f3["fit_large"]["pi_sc"] + 1) < 0.05)
        and summary["eq31_closed_form_vs_exact"] < 1e-8
        and e31["pi_over_j_spread"] < 1e-8
        and all(abs(v) < 1e-6 for v in e31["fits"]["0"].values())
        and all(abs(v + 1) < 0.02 for v in e31["fits"]["1e-06"].values())
        and e31["ballistic_exceeds_diffusive"] > 0
    )
    return summary
