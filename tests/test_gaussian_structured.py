"""The O(L²) structured solve of chains whose NESS is tridiagonal (method="auto", seed 000
Sec. IV generalised): exact where it applies, never used where it does not.

Reference system: the chain (27), ``H = ω 1 + λ (shift + shift^T)``, with physical baths on
any sites and self-consistent reservoirs of *any* profile Γ_k > 0. With every site damped,
the ansatz ``C = diag(c) + β Y``, ``Y = i(triu(Hᵀ, 1) - tril(Hᵀ, -1))``, satisfies all L²
equations when only the end sites have baths (derived in
``jaxqep.gaussian._lyapunov._tridiagonal_ansatz``); eqs. (29a)/(29b) are its uniform case.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import check_grad_vs_fd, random_hermitian, rng
from test_gaussian_ness import dense_reference

from jaxqep import gaussian
from jaxqep.gaussian import _lyapunov, _ness

EP = jax.jit(gaussian.entropy_production, static_argnames=("method",))


def _chain(seed, L, end_baths_only=True):
    r = rng(seed)
    H = gaussian.chain_hamiltonian(L, r.uniform(-1, 1), r.uniform(0.05, 1.0))
    gam = np.zeros(L)
    gam[0], gam[-1] = r.uniform(0.05, 1.0, 2)
    if not end_baths_only:
        gam[L // 2] = r.uniform(0.05, 1.0)
    occ = r.uniform(0.0, 3.0, L)
    sc = r.uniform(0.01, 0.5, L)  # non-uniform profile, every site damped
    return H, jnp.asarray(gam), jnp.asarray(occ), jnp.asarray(sc)


def _ansatz_ok(H, gam, occ, sc):
    A = _ness.stability_matrix(H, gam, sc)
    B = -jnp.diag(gam * occ).astype(A.dtype)
    return bool(_lyapunov._tridiagonal_ansatz(A, sc.astype(A.dtype), B)[1])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("L", [2, 5, 17])
def test_structured_chain_matches_dense_and_general(seed, L):
    H, gam, occ, sc = _chain(seed, L)
    assert _ansatz_ok(H, gam, occ, sc)
    fast = EP(H, gam, occ, sc)
    general = EP(H, gam, occ, sc, method="eig")
    ref = dense_reference(H, gam, occ, sc)
    np.testing.assert_allclose(np.asarray(fast.covariance), ref, atol=1e-12 * np.abs(ref).max())
    for name in ("pi", "phi", "pi_sc", "currents", "total", "pi_ness"):
        np.testing.assert_allclose(
            np.asarray(getattr(fast, name)),
            np.asarray(getattr(general, name)),
            rtol=1e-9,
            atol=1e-13,
        )
    assert float(fast.residual) < 1e-13


def test_structured_path_is_not_taken_where_the_ansatz_fails():
    r = rng(7)
    L = 8
    # (a) a middle bath: the diagonal equations are three for two unknowns;
    H, gam, occ, sc = _chain(1, L, end_baths_only=False)
    # (b) non-uniform hopping; (c) a generic network; (d) an undamped site.
    Hb = np.asarray(H).copy()
    Hb[3, 4] = 2.0 * Hb[3, 4]
    Hb[4, 3] = np.conj(Hb[3, 4])
    cases = [
        (H, gam, occ, sc),
        (jnp.asarray(Hb), gam, occ, sc),
        (jnp.asarray(random_hermitian(r, L)), gam, occ, sc),
        (H, gam, occ, sc.at[3].set(0.0)),
    ]
    for H_, g_, n_, s_ in cases:
        assert not _ansatz_ok(H_, g_, n_, s_)
        out = EP(H_, g_, n_, s_)
        ref = dense_reference(H_, g_, n_, s_)
        np.testing.assert_allclose(np.asarray(out.covariance), ref, atol=1e-11 * np.abs(ref).max())


def test_structured_chain_gradients_vs_finite_differences():
    H, gam, occ, sc = _chain(3, 6)

    def f(x):
        g2 = gam.at[0].set(x[0])
        s2 = sc * x[1]
        H2 = H * x[2]
        return EP(H2, g2, occ, s2).total

    check_grad_vs_fd(f, jnp.array([float(gam[0]), 1.0, 1.0]), rng(0), rtol=1e-6)


def test_fig3_parameters_at_large_L_match_eq_29():
    # γ = 1e-6, Γ = 1e-7, λ = 3e-7 (Fig. 3): the general route needs minutes at L = 1000.
    from jaxqep.gaussian._builders import chain_closed_form

    L = 1000
    p = dict(gamma=1e-6, Gamma=1e-7, lam=3e-7, n1=1.0, nL=2.0)
    H = gaussian.chain_hamiltonian(L, 1.0, p["lam"])
    g, n = gaussian.chain_baths(L, p["gamma"], p["n1"], p["nL"])
    r = EP(H, g, n, p["Gamma"] * jnp.ones(L))
    cf = chain_closed_form(L, p["lam"], p["gamma"], p["Gamma"], p["n1"], p["nL"])
    np.testing.assert_allclose(np.asarray(r.covariance), np.asarray(cf["covariance"]), atol=1e-14)
    np.testing.assert_allclose(float(r.total), float(cf["pi_ness"]), rtol=1e-10)
    np.testing.assert_allclose(float(r.pi_r + r.pi_sc_total), float(r.pi_ness), rtol=1e-9)
