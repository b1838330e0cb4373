"""Seed 004 Figs. 1, 3, 4, 5 (quick mode): files written and the physics checks hold."""

import os

import numpy as np

from jaxqep.reproduce import reproduce_qrm


def test_reproduce_qrm_quick(tmp_path):
    s = reproduce_qrm(str(tmp_path), quick=True)
    for k in (1, 3, 4, 5):
        assert os.path.getsize(tmp_path / f"fig{k}.npz") > 0
        assert os.path.getsize(tmp_path / f"fig{k}.png") > 0
    # Fig. 1: σ = 0 at λ = γ/Γ, positive elsewhere on the grid; optax finds the zero.
    assert abs(s["fig1_sigma_at_gamma_over_Gamma"]) < 1e-14
    assert s["fig1_sigma_lambda_grid_min"] > 0 and s["fig1_sigma_t_grid_min"] >= 0
    np.testing.assert_allclose(s["fig1_optax_lambda"], np.array([6, 3, 2]) / 11, atol=1e-6)
    # Fig. 3: T(ρ⁺_g, ρ0 + gρ1) ∝ g²; T/g² flat.
    np.testing.assert_allclose(s["fig3_slopes_trace_distance"], 2.0, atol=0.02)
    assert max(s["fig3_flatness_max_over_min"]) < 1.05
    # Fig. 4: σ/g² → σ^(2) = 5.2273e-3, remainder O(g⁴); zero at equilibrium.
    np.testing.assert_allclose(s["fig4_sigma2_leading"], 5.2273e-3, rtol=2e-5)
    np.testing.assert_allclose(
        s["fig4_sigma_over_g2_smallest_g"], s["fig4_sigma2_leading"], rtol=1e-5
    )
    np.testing.assert_allclose(s["fig4_slopes_remainder"], 4.0, atol=0.05)
    assert s["fig4_remainder_over_g4_equilibrium_max"] < 1e-18
    # Fig. 5: sign of φ_A follows t_A - t_B on the whole grid; remainder O(g⁴).
    assert s["fig5_sign_agreement"] == 1.0
    np.testing.assert_allclose(s["fig5_slopes_remainder"], 4.0, atol=0.05)
