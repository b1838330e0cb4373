"""Registry of the models a TOML sweep can name.

Every model is a function of scalar keyword parameters returning a pytree of outputs.
``float`` parameters may be swept (they are vmapped); ``int`` parameters fix array
shapes, so they are static: given once in ``[parameters]``, never in ``[grid]``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax.numpy as jnp

__all__ = ["MODELS", "Param", "SweepModel", "get_model"]

# Domains of parameters: name -> (predicate, the condition as a user reads it).
DOMAINS: dict[str, tuple[Callable[[float], bool], str]] = {
    "positive": (lambda v: v > 0, "must be > 0"),
    "nonnegative": (lambda v: v >= 0, "must be >= 0"),
    "unit": (lambda v: 0 <= v <= 1, "must be in [0, 1]"),
    "open_unit": (lambda v: 0 < v < 1, "must be in (0, 1), excluding 0 and 1"),
    "nonzero": (lambda v: v != 0, "must be non-zero"),
    "at_least_2": (lambda v: v >= 2, "must be >= 2"),
}


@dataclasses.dataclass(frozen=True)
class Param:
    """One model parameter: ``kind`` is ``"float"`` (sweepable) or ``"int"`` (static).

    ``domain`` (a key of ``DOMAINS``, or ``None`` for any finite value) is checked when a
    config is validated, so that a value invalid at every point is reported before the
    sweep runs.
    """

    kind: str
    doc: str
    example: float | int
    domain: str | None = None

    def violation(self, value: float) -> str | None:
        """``None`` if ``value`` is allowed, else the violated condition."""
        if self.domain is None:
            return None
        ok, text = DOMAINS[self.domain]
        return None if (math.isfinite(value) and ok(value)) else text


@dataclasses.dataclass(frozen=True)
class SweepModel:
    """A sweepable model: ``fn(**params) -> pytree`` with its parameter table."""

    name: str
    fn: Callable
    params: dict[str, Param]
    doc: str
    labels: Callable[[dict], tuple[dict, dict]] | None = None

    def output_labels(self, fixed: dict) -> tuple[dict, dict]:
        """``(dims, coords)`` naming the vector outputs (see `jaxqep.sweep.sweep`)."""
        return self.labels(fixed) if self.labels is not None else ({}, {})

    def example_parameters(self) -> dict[str, float | int]:
        """The values of the paper's figure (a valid, complete parameter set)."""
        return {k: p.example for k, p in self.params.items()}


def _single_qubit(eps, delta, gamma1, gamma2, gamma3, t1, t2, t3, lam1, lam2):
    from jaxqep.models import diagonal_reset_state, single_qubit_hamiltonian
    from jaxqep.qrm import entropy_production

    H = single_qubit_hamiltonian(eps, delta)
    taus = jnp.stack([diagonal_reset_state(t) for t in (t1, t2, t3)])
    gammas = jnp.stack([jnp.asarray(gamma1), jnp.asarray(gamma2), jnp.asarray(gamma3)])
    lam1, lam2 = jnp.asarray(lam1), jnp.asarray(lam2)
    lambdas = jnp.stack([lam1, lam2, 1.0 - lam1 - lam2])
    return entropy_production(H, taus, gammas, lambdas)


def _three_qubit_chain(eA, eB, eC, U, J_alpha, J_beta, gamma_A, gamma_B, tA, tB, g, lam):
    from jaxqep.models import diagonal_reset_state, three_qubit_chain
    from jaxqep.qrm import tripartite_entropy_production

    H = three_qubit_chain(eA, eB, eC, U, J_alpha, J_beta)
    return tripartite_entropy_production(
        H, diagonal_reset_state(tA), diagonal_reset_state(tB), gamma_A, gamma_B, (2, 2, 2), g, lam
    )


def _gaussian_chain(L, omega, lam, gamma, n1, nL, Gamma):
    from jaxqep.gaussian import chain_baths, chain_hamiltonian, entropy_production

    gammas, occupations = chain_baths(L, gamma, n1, nL)
    sc = jnp.full((L,), Gamma, dtype=float)
    return entropy_production(chain_hamiltonian(L, omega, lam), gammas, occupations, sc)


def _reset_labels(names):
    def labels(fixed):
        dims = {"parts": ["reservoir"], "fluxes": ["reservoir"], "rho": ["row", "col"],
                "partial_states": ["reservoir", "row", "col"]}
        return dims, {"reservoir": list(names)}

    return labels


def _chain_labels(fixed):
    L = int(fixed.get("L", 0))
    dims = {k: ["site"] for k in ("pi", "phi", "pi_sc", "sc_occupations")}
    dims.update(covariance=["site", "site_j"], currents=["site", "site_j"])
    sites = list(range(1, L + 1))
    return dims, {"site": sites, "site_j": sites}


_F = "float"
MODELS: dict[str, SweepModel] = {
    m.name: m
    for m in [
        SweepModel(
            "single_qubit",
            _single_qubit,
            {
                "eps": Param(_F, "qubit splitting ε", 1.0),
                "delta": Param(_F, "tunnelling δ", 0.7),
                "gamma1": Param(_F, "reset rate γ_1", 1.0, "positive"),
                "gamma2": Param(_F, "reset rate γ_2", 0.5, "positive"),
                "gamma3": Param(_F, "reset rate γ_3", 1 / 3, "positive"),
                "t1": Param(_F, "τ_1 = diag(t1, 1 - t1)", 0.9, "unit"),
                "t2": Param(_F, "τ_2 = diag(t2, 1 - t2)", 0.9, "unit"),
                "t3": Param(_F, "τ_3 = diag(t3, 1 - t3)", 0.9, "unit"),
                "lam1": Param(_F, "splitting λ_1", 6 / 11),
                "lam2": Param(_F, "splitting λ_2 (λ_3 = 1 - λ_1 - λ_2)", 3 / 11),
            },
            "Single qubit with three resets and an affinely split H (seed 004, Sec. 5, "
            "Fig. 1); outputs of jaxqep.qrm.entropy_production.",
            _reset_labels(["1", "2", "3"]),
        ),
        SweepModel(
            "three_qubit_chain",
            _three_qubit_chain,
            {
                "eA": Param(_F, "energy of qubit A", 0.08),
                "eB": Param(_F, "energy of qubit B", 0.1),
                "eC": Param(_F, "energy of qubit C", 0.05),
                "U": Param(_F, "density-density coupling", 0.1),
                "J_alpha": Param(_F, "flip-flop coupling A-C", 0.05),
                "J_beta": Param(_F, "flip-flop coupling C-B", 0.1),
                "gamma_A": Param(_F, "reset rate of A", 0.7, "positive"),
                "gamma_B": Param(_F, "reset rate of B", 0.6, "positive"),
                "tA": Param(_F, "τ_A = diag(tA, 1 - tA)", 0.95, "unit"),
                "tB": Param(_F, "τ_B = diag(tB, 1 - tB)", 0.6, "unit"),
                "g": Param(_F, "coupling constant (non-zero)", 0.1, "nonzero"),
                "lam": Param(_F, "splitting λ (not 0 or 1)", 0.5, "open_unit"),
            },
            "Three-qubit chain A-C-B with resets on A and B (seed 004, Sec. 8, Figs. 3-5); "
            "outputs of jaxqep.qrm.tripartite_entropy_production.",
            _reset_labels(["A", "B"]),
        ),
        SweepModel(
            "gaussian_chain",
            _gaussian_chain,
            {
                "L": Param("int", "number of oscillators (static)", 20, "at_least_2"),
                "omega": Param(_F, "oscillator frequency ω", 1.0),
                "lam": Param(_F, "nearest-neighbour coupling λ", 3e-7),
                "gamma": Param(_F, "rate γ of the baths on sites 1 and L", 1e-6, "positive"),
                "n1": Param(_F, "occupation of the bath on site 1", 1.0, "nonnegative"),
                "nL": Param(_F, "occupation of the bath on site L", 2.0, "nonnegative"),
                "Gamma": Param(_F, "self-consistent reservoir rate Γ (0: none)", 1e-7,
                               "nonnegative"),
            },
            "Harmonic chain of eq. (27) with end baths and self-consistent reservoirs "
            "(seed 000, Sec. IV, Figs. 2-3); outputs of jaxqep.gaussian.entropy_production.",
            _chain_labels,
        ),
    ]
}


def get_model(name: str) -> SweepModel:
    """Look a model up by name (``ValueError`` listing the known ones otherwise)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(MODELS)})")
    return MODELS[name]
