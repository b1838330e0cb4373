"""Fig. 2 of seed 004 (Lemma 4.6, Remark 4.7) as data, plot and checks.

For ``T > 0`` and ``ρ(λ) = (λ i[H, ·] + 1)⁻¹(T)`` (eq. 4.23) the figure shows

    F(λ, μ) = S(ρ(μ)) + S(ρ(μ)|ρ(λ)) − S(ρ(λ))

on ``[−4, 4]²`` for the single qubit ``H = [[0, δ/2], [δ/2, ε]]`` (ε = 1, δ = 0.7),
``T = τ_A = diag(0.9, 0.1)``, ``γ_A = 1``: panel a is ``F``, panel b is ``(1 − λ/μ) F``,
which is ``≥ 0`` by (4.24). Lemma 4.6 adds ``F > 0`` for ``0 < λ/μ < 1`` (4.25); the
figure's text claims, numerically, ``F > 0`` for ``λ/μ < 0`` and ``F < 0`` for ``λ/μ > 1``;
Remark 4.7 gives ``F(λ, 0) = F(λ, λ) = 0``, ``F(0, μ) = S(T|ρ(μ)) + S(ρ(μ)|T)`` and
``ρ(λ) → Σ_j P_j T P_j`` (the pinching by the spectral projectors of ``H``) as
``|λ| → ∞``, with ``‖ρ(λ) − Σ P_j T P_j‖ = O(1/|λ|)``.

``F`` is evaluated from its definition with the library's entropies
(:func:`jaxqep.linalg.von_neumann_entropy`, :func:`jaxqep.linalg.relative_entropy`)
and independently as ``tr((ρ(λ) − ρ(μ)) ln ρ(λ))`` (eq. 3.16 used twice, cf. 4.29), in
NumPy/SciPy from the eigenbasis formula (3.9).
"""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import models
from .._hermitian import relative_entropy, von_neumann_entropy
from ..qrm._reset import reset_steady_state

__all__ = ["fig2_data", "reproduce_fig2"]

EPS, DELTA, T_A, GAMMA_A = 1.0, 0.7, 0.9, 1.0


def _rho(lam: jnp.ndarray, h: jnp.ndarray, t: jnp.ndarray) -> jnp.ndarray:
    # ρ(λ) = (λ i[H, ·] + 1)⁻¹(T) = reset_steady_state(λH, T, 1) (eq. 3.8 with Γ = 1).
    return reset_steady_state(lam * h, t, 1.0)


@jax.jit
def _f_matrix(lams: jnp.ndarray, mus: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """``F[i, j] = F(λ_i, μ_j)`` from the definition, and the states ``ρ(λ_i)``."""
    h = models.single_qubit_hamiltonian(EPS, DELTA) / GAMMA_A
    t = models.diagonal_reset_state(T_A)
    rl = jax.vmap(lambda x: _rho(x, h, t))(lams)
    rm = jax.vmap(lambda x: _rho(x, h, t))(mus)
    s_l = jax.vmap(von_neumann_entropy)(rl)
    s_m = jax.vmap(von_neumann_entropy)(rm)
    rel = jax.vmap(lambda b: jax.vmap(lambda a: relative_entropy(a, b))(rm))(rl)  # [i, j]
    return s_m[None, :] + rel - s_l[:, None], rl


def _numpy_f(lams: np.ndarray, mus: np.ndarray) -> np.ndarray:
    """Independent route: eq. (3.9) in H's eigenbasis, ``F = tr((ρ(λ) − ρ(μ)) ln ρ(λ))``."""
    import scipy.linalg as sla

    h = np.array([[0.0, DELTA / 2], [DELTA / 2, EPS]]) / GAMMA_A
    t = np.diag([T_A, 1 - T_A]).astype(complex)
    e, u = np.linalg.eigh(h)
    te = u.conj().T @ t @ u

    def rho(x):
        return u @ (te / (1 + 1j * x * (e[:, None] - e[None, :]))) @ u.conj().T

    rl = [rho(x) for x in lams]
    rm = [rho(x) for x in mus]
    logs = [sla.logm(r) for r in rl]
    return np.array(
        [[np.trace((a - b) @ la).real for b in rm] for a, la in zip(rl, logs)], dtype=float
    )


def fig2_data(n: int) -> dict[str, np.ndarray]:
    """The data of Fig. 2 on an ``n × n`` grid of ``[−4, 4]²`` (``n`` even: no ``μ = 0``).

    Args:
        n: number of grid points per axis (even, so that ``μ = 0`` is not on the grid).

    Returns:
        ``{"lambda": axis, "mu": axis, "F": F[i, j] = F(λ_i, μ_j), "F_b": (1 − λ/μ) F}``.

    Example:
        >>> from jaxqep.reproduce._seed004_fig2 import fig2_data
        >>> d = fig2_data(4)
        >>> d["F"].shape
        (4, 4)
    """
    if n % 2:
        raise ValueError("n: must be even (the grid must not contain μ = 0)")
    axis = np.linspace(-4.0, 4.0, n)
    f, _ = _f_matrix(jnp.asarray(axis), jnp.asarray(axis))
    f = np.asarray(f)
    ratio = axis[:, None] / axis[None, :]
    return {"lambda": axis, "mu": axis, "F": f, "F_b": (1.0 - ratio) * f}


def reproduce_fig2(out_dir: str, n: int, plt) -> dict[str, Any]:
    """Write ``fig2.npz``/``fig2.png`` and return the values the Fig. 2 checks judge.

    Args:
        out_dir: output directory (exists).
        n: grid points per axis (even).
        plt: ``matplotlib.pyplot`` or ``None`` (no plot).

    Returns:
        The reported values (``fig2_*`` keys of ``QRM_CHECKS``).
    """
    import scipy.linalg as sla

    if n % 2:
        raise ValueError("n: must be even (the grid must not contain μ = 0)")
    axis = np.linspace(-4.0, 4.0, n)
    big = np.array([1e2, 1e3, 1e4, -1e4])
    # One jitted call: the grid, μ = 0 (Remark 4.7) and the large |λ| of the pinching limit.
    lams = np.concatenate([axis, [0.0], big])
    f_all, rho_all = _f_matrix(jnp.asarray(lams), jnp.asarray(lams))
    f_all, rho_all = np.asarray(f_all), np.asarray(rho_all)
    f = f_all[:n, :n]
    ratio = axis[:, None] / axis[None, :]
    fb = (1.0 - ratio) * f
    d = {"lambda": axis, "mu": axis, "F": f, "F_b": fb}
    offdiag = ~np.eye(n, dtype=bool)
    strict = (ratio > 0) & (ratio < 1)
    negative = ratio < 0
    above = (ratio > 1) & offdiag
    # Independent NumPy/SciPy route on a subgrid.
    idx = np.arange(0, n, max(1, n // 10))
    f_np = _numpy_f(axis[idx], axis[idx])
    # Remark 4.7: F(λ, 0) = 0, F(λ, λ) = 0, F(0, μ) = S(T|ρ(μ)) + S(ρ(μ)|T).
    f_mu0 = f_all[:n, n]
    f_diag = np.diagonal(f)
    t = np.diag([T_A, 1 - T_A]).astype(complex)
    log_t = sla.logm(t)
    sym = []
    for r in rho_all[:n]:
        log_r = sla.logm(r)
        sym.append(np.trace((t - r) @ (log_t - log_r)).real)  # S(T|ρ) + S(ρ|T)
    f_l0 = f_all[n, :n]
    # Pinching Σ_j P_j T P_j by the spectral projectors of H.
    h = np.array([[0.0, DELTA / 2], [DELTA / 2, EPS]]) / GAMMA_A
    _, u = np.linalg.eigh(h)
    projs = [np.outer(u[:, j], u[:, j].conj()) for j in range(2)]
    pinch = sum(p @ t @ p for p in projs)
    pinch_err = np.array([np.linalg.norm(r - pinch) for r in rho_all[n + 1 :]])
    # Injectivity of λ ↦ ρ(λ) on the grid ([H, T] ≠ 0 here).
    rl = rho_all[:n]
    dist = np.linalg.norm(rl[:, None] - rl[None, :], axis=(-2, -1))
    np.savez(os.path.join(out_dir, "fig2.npz"), **d)
    if plt is not None:
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        vmax = float(np.abs(f).max())
        c0 = ax[0].pcolormesh(axis, axis, f.T, shading="auto", cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax[0].set(
            xlabel="$\\lambda$",
            ylabel="$\\mu$",
            title="Fig. 2a: $F = S(\\rho_\\mu) + S(\\rho_\\mu|\\rho_\\lambda) - S(\\rho_\\lambda)$",
        )
        fig.colorbar(c0, ax=ax[0])
        c1 = ax[1].pcolormesh(axis, axis, fb.T, shading="auto")
        ax[1].plot(axis, axis, "w--")
        ax[1].set(xlabel="$\\lambda$", ylabel="$\\mu$", title="Fig. 2b: $(1 - \\lambda/\\mu) F$")
        fig.colorbar(c1, ax=ax[1])
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "fig2.png"), dpi=120)
        plt.close(fig)
    scale = float(np.max(np.abs(f)))
    return {
        "fig2_b_min_over_max": float(fb.min() / np.abs(fb).max()),
        "fig2_strict_region_min": float(f[strict].min()),
        "fig2_negative_ratio_min": float(f[negative].min()),
        "fig2_ratio_above_one_max": float(f[above].max()),
        "fig2_remark47_zeros": float(max(np.abs(f_mu0).max(), np.abs(f_diag).max()) / scale),
        "fig2_lambda0_symmetric_relative_entropy": float(
            np.abs(f_l0 - np.asarray(sym)).max() / scale
        ),
        "fig2_pinching_error_times_lambda": [float(x) for x in pinch_err * np.abs(big)],
        "fig2_pinching_error": float(pinch_err[-1]),
        "fig2_injectivity_min_distance": float(dist[offdiag].min()),
        "fig2_vs_numpy": float(np.abs(f[np.ix_(idx, idx)] - f_np).max() / scale),
    }
