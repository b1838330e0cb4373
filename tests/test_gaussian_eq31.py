"""Eq. (31) of seed 000: the chain with self-consistent reservoirs, ballistic vs diffusive.

The exact NESS (jaxqep.entropy_production, and a dense SciPy Lyapunov solve as an
independent route) against the closed forms (30), (31); the L-exponents of j and Π_NESS;
and the reproduce checks fail on wrong values.
"""

import functools

import numpy as np
import scipy.linalg as sla

from jaxqep import gaussian
from jaxqep.reproduce._checks import GAUSSIAN_CHECKS, evaluate_checks
from jaxqep.reproduce._seed000 import eq31_data, eq31_local_slope

# Rates of order one (the closed forms hold for any rates); Γ > γ makes 1/L set in early.
P = dict(gamma=0.5, lam=0.4, n1=0.3, nL=1.7, Gammas=(0.0, 0.3, 2.0))


@functools.cache
def data():
    return eq31_data((3, 8, 16, 32), P)  # one compile per size, shared by the tests


def scipy_ness(L, lam, gamma, Gamma, n1, nL):
    """Dense NESS of dC/dt = A C + C A† + F with the probes' ñ = C_kk solved exactly:
    vec(C) = vec(C0) + Σ_k ñ_k Γ vec(C_k), C_k the response to a unit source on site k."""
    H = np.asarray(gaussian.chain_hamiltonian(L, 1.0, lam))
    g, n = (np.asarray(x) for x in gaussian.chain_baths(L, gamma, n1, nL))
    A = 1j * H.T - 0.5 * np.diag(g + Gamma)

    def solve(F):
        return sla.solve_continuous_lyapunov(A, -F)

    C0 = solve(np.diag(g * n).astype(complex))
    R = np.array([np.real(np.diag(solve(Gamma * np.diag(np.eye(L)[k])))) for k in range(L)])
    nt = np.linalg.solve(np.eye(L) - R.T, np.real(np.diag(C0)))  # ñ = diag(C0) + Rᵀ ñ
    return solve(np.diag(g * n + Gamma * nt).astype(complex)), H


def test_exact_ness_equals_closed_forms_30_31():
    d = data()
    assert d["rel_err_pi"] < 1e-10 and d["rel_err_j"] < 1e-10 and d["rel_err_pi_26"] < 1e-10
    assert d["bond_spread"] < 1e-10  # one current through every bond
    for k, G in enumerate(P["Gammas"]):
        for i, L in enumerate(d["L"]):
            C, H = scipy_ness(int(L), P["lam"], P["gamma"], G, P["n1"], P["nL"])
            j = 2 * np.imag(H[0, 1] * C[0, 1])
            np.testing.assert_allclose(d["j"][k, i], j, rtol=1e-9)
            f = 1 / (P["n1"] + 0.5) - 1 / (P["nL"] + 0.5)
            np.testing.assert_allclose(d["pi"][k, i], j * f, rtol=1e-9)
    # closed form by hand (not chain_closed_form): eq. (30)
    L, G = d["L"], np.asarray(P["Gammas"])[:, None]
    D = 4 * P["lam"] ** 2 + P["gamma"] ** 2 + P["gamma"] * G * (L - 1)
    np.testing.assert_allclose(d["j"], 2 * P["lam"] ** 2 * P["gamma"] * (P["nL"] - P["n1"]) / D,
                               rtol=1e-10)


def test_ballistic_and_diffusive_exponents():
    d = data()
    assert all(abs(v) < 1e-10 for v in d["fits"]["0"].values())  # ballistic: L-independent
    # diffusive: the fitted exponent lies between the exact local slopes over the fit range
    s = eq31_local_slope(np.array([8.0, 32.0]), P["gamma"], P["lam"], 2.0)
    for v in d["fits"]["2"].values():
        assert min(s) <= v <= max(s) and abs(v + 1) < 0.05
    assert d["ballistic_exceeds_diffusive"] > 0
    assert d["pi_over_j_spread"] < 1e-10


def test_local_slope_formula():
    """eq31_local_slope = d ln j/d ln L of (30), by central differences in ln L."""
    L, h = np.array([5.0, 50.0, 500.0]), 1e-4
    for G in (0.0, 0.3, 2.0):

        def log_j(x, G=G):
            D = 4 * P["lam"] ** 2 + P["gamma"] ** 2 + P["gamma"] * G * (x - 1)
            return np.log(2 * P["lam"] ** 2 * P["gamma"] * (P["nL"] - P["n1"]) / D)

        fd = (log_j(L * np.exp(h)) - log_j(L * np.exp(-h))) / (2 * h)
        np.testing.assert_allclose(eq31_local_slope(L, P["gamma"], P["lam"], G), fd,
                                   rtol=1e-7, atol=1e-12)


def test_reproduce_checks_can_fail():
    good = {
        "eq31_closed_form_vs_exact": 1e-15,
        "eq31_pi_scales_like_j": 1e-15,
        "eq31_ballistic_exponent": {"j": 1e-15, "pi": -1e-15},
        "eq31_diffusive_exponent": {"j": -0.994, "pi": -0.994},
        "eq31_ballistic_exceeds_diffusive": 0.07,
    }
    bad = {
        "eq31_closed_form_vs_exact": 1e-6,
        "eq31_pi_scales_like_j": 1e-3,
        "eq31_ballistic_exponent": {"j": 0.0, "pi": -0.05},
        "eq31_diffusive_exponent": {"j": -0.994, "pi": -0.9},  # e.g. Γ = 1e-7: -0.83
        "eq31_ballistic_exceeds_diffusive": -1e-3,
    }
    status = {r["check"]: r["status"] for r in evaluate_checks("000", good, GAUSSIAN_CHECKS)}
    assert all(status[k] == "pass" for k in good)
    status = {r["check"]: r["status"] for r in evaluate_checks("000", bad, GAUSSIAN_CHECKS)}
    assert all(status[k] == "FAIL" for k in bad)
