"""Figures 2 and 3 of seed 000 as data and PNGs, with self-checks.

* Fig. 2 (occupation profiles): the general O(L³) solver (:func:`ness_covariance`) is
  compared with the closed form (29a) in every panel.
* Fig. 3 (Π_r and Π_sc vs L, γ = 1e-6, Γ = 1e-7, λ = 3e-7, n1 = 1, nL = 2): for
  L up to 2000 the NESS is the tridiagonal closed form (29)/(D4) (checked against the
  general solver at the smallest sizes), and Π_k is evaluated with the cancellation-free
  formula of :func:`entropy_production_rates` specialised to tridiagonal ``C + ½``
  (O(L) pivot recurrences instead of a dense O(L³) inverse).
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

__all__ = ["fig2_data", "fig3_data", "fit_exponent", "tridiagonal_chain_pi", "reproduce_gaussian"]

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


def reproduce_gaussian(out_dir: str, quick: bool = False) -> dict:
    """Write Fig. 2 and Fig. 3 (PNG + NPZ) into ``out_dir`` and return a summary of checks.

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
    summary = {
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
    )
    return summary
