"""Seed 004 Figs. 1-5 (quick mode): files written and the physics checks hold.

Every value is also judged by ``QRM_CHECKS`` (the checks of ``jaxqep reproduce``); the
second test shows that those checks fail on a wrong sign, zero or slope.
"""

import os

import numpy as np
import pytest

from jaxqep.reproduce import reproduce_qrm
from jaxqep.reproduce._checks import QRM_CHECKS, evaluate_checks


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    out = tmp_path_factory.mktemp("qrm")
    return out, reproduce_qrm(str(out), quick=True)


def test_reproduce_qrm_quick(summary):
    out, s = summary
    for k in (1, 2, 3, 4, 5):
        assert os.path.getsize(out / f"fig{k}.npz") > 0
        assert os.path.getsize(out / f"fig{k}.png") > 0
    rows = evaluate_checks("004", s, QRM_CHECKS)
    failed = [r for r in rows if r["status"] not in ("pass", "info")]
    assert not failed, failed
    # Fig. 1: σ = 0 at λ = γ/Γ and at t_A = t_B = t_C only, quadratic there.
    assert abs(s["fig1_sigma_at_gamma_over_Gamma"]) < 1e-14
    assert s["fig1_sigma_lambda_grid_min"] > 0 and s["fig1_sigma_t_grid_min"] > 0
    assert abs(s["fig1_sigma_at_tA_tB_tC"]) < 1e-14
    np.testing.assert_allclose(s["fig1_sigma_tA_tB_half"], 0.10021, atol=5e-5)
    np.testing.assert_allclose(s["fig1_sigma_t_quadratic_slopes"], 2.0, atol=0.02)
    np.testing.assert_allclose(s["fig1_optax_lambda"], np.array([6, 3, 2]) / 11, atol=1e-6)
    # Fig. 2: (4.24), (4.25) and the signs claimed in the text.
    assert s["fig2_strict_region_min"] > 0 and s["fig2_negative_ratio_min"] > 0
    assert s["fig2_ratio_above_one_max"] < 0 and s["fig2_b_min_over_max"] >= -1e-12
    # Fig. 3: T(ρ⁺_g, ρ0 + gρ1) ∝ g²; T/g² flat.
    np.testing.assert_allclose(s["fig3_slopes_trace_distance"], 2.0, atol=0.02)
    assert max(s["fig3_flatness_max_over_min"]) < 1.05
    # Fig. 4: σ/g² → σ^(2) = 5.2273e-3, remainder O(g⁴) and negative; zero at equilibrium.
    np.testing.assert_allclose(s["fig4_sigma2_leading"], 5.2273e-3, rtol=2e-5)
    np.testing.assert_allclose(
        s["fig4_sigma_over_g2_smallest_g"], s["fig4_sigma2_leading"], rtol=1e-5
    )
    np.testing.assert_allclose(s["fig4_slopes_remainder"], 4.0, atol=0.05)
    assert s["fig4_remainder_max_out_of_equilibrium"] < 0
    np.testing.assert_allclose(s["fig4_sigma4_series"][0], -1.39767e-4, rtol=1e-4)
    assert s["fig4_remainder_over_g4_equilibrium_max"] < 1e-18
    # Fig. 5: sign of φ_A follows +(t_A - t_B) on the whole grid; remainder O(g⁴).
    assert s["fig5_sign_agreement"] == 1.0
    np.testing.assert_allclose(s["fig5_slopes_remainder"], 4.0, atol=0.05)


@pytest.mark.parametrize(
    "key,bad",
    [
        ("fig5_sign_agreement", 0.0),  # φ_A with the opposite sign convention
        ("fig1_sigma_t_grid_min", 0.0),  # σ vanishing on the grid
        ("fig1_sigma_at_tA_tB_tC", 1e-3),  # wrong zero
        ("fig1_sigma_t_quadratic_slopes", [1.0, 2.0, 2.0, 2.0]),  # linear, not quadratic
        ("fig1_sigma_tA_tB_half", 0.0),  # the seed text's claim (zero on τ_A = τ_B)
        ("fig2_ratio_above_one_max", 1e-4),  # F > 0 somewhere with λ/μ > 1
        ("fig2_negative_ratio_min", -1e-4),
        ("fig2_b_min_over_max", -1e-3),
        ("fig4_remainder_max_out_of_equilibrium", 1e-12),  # positive remainder
        ("fig4_sigma4_series", [1e-4]),
        ("fig4_slopes_remainder", [3.0]),  # O(g³)
        ("fig5_slopes_remainder", [4.0, 4.0, 3.5, 4.0]),
    ],
)
def test_checks_can_fail(key, bad):
    (fig, claim, ok) = QRM_CHECKS[key]
    assert not ok(bad), (key, claim)
    rows = evaluate_checks("004", {key: bad}, {key: QRM_CHECKS[key]})
    assert rows[0]["status"] == "FAIL"


def test_summary_names_the_right_panels():
    assert QRM_CHECKS["fig1_sigma_t_grid_min"][0] == "004 Fig. 1a/b"
    assert "(t_A, t_B)" in QRM_CHECKS["fig1_sigma_t_grid_min"][1]
    assert all("(t_2, t_3)" not in claim for _, claim, _ in QRM_CHECKS.values())
