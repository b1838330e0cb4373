"""Fock-space cross-check of the Gaussian NESS (test only): the covariance equation of
CONVENTIONS.md against the master equation (3)-(4) it comes from, solved by QuTiP on a
truncated Fock space.

* 2 modes: ``qutip.steadystate`` on the tensor space, cutoff 9 per mode (max error of C
  for the first model, measured: 1.9e-5 at cutoff 6, 2.7e-6 at 7, 3.8e-7 at 8, 5.2e-8 at 9).
* 3 modes: the excitation-number-restricted space (``qutip.enr_destroy``, total excitations
  <= 7; error of C 5.0e-6, 5.4e-7, 5.7e-8 at 5, 6, 7) with the QuTiP Liouvillian solved on
  its N_bra = N_ket sector
  (H and the baths conserve or change N by one, so the steady state lies there; that
  solver is checked against ``qutip.steadystate`` at a small cutoff).

Self-consistent reservoirs: two Lindblad forms reproduce the covariance term
``-(Γ_i + Γ_j)/2 C_ij`` (i ≠ j, 0 on the diagonal; for uniform Γ this is Γ(C_d - C) of
(D3)): a thermal bath of rate Γ_k at the self-consistent occupation ñ_k = C_kk (found here
in Fock space from the affine dependence of C_kk on ñ_k), and a pure dephasing
``L = √Γ_k a_k† a_k`` (non-Gaussian NESS, same second moments). Dephasing at rate 2Γ or
Γ/2 does not, which pins the rate convention.
"""

import jax
import numpy as np
import pytest
import qutip as qt
from helpers import random_hermitian, rng

from jaxqep import gaussian

TRUNC_TOL = 1e-6  # bound on the truncation error of C at the cutoffs used, see above
# Π_k, Φ_k are O(γ_k/(n_k + ½)) times the error of C: their tolerance (γ <= 0.8, n >= 0).
PI_TOL = 2e-6 * 0.8 / 0.5
CUT2 = 9  # cutoff per mode, two modes


def annihilators(L, cutoff, enr):
    if enr:
        return qt.enr_destroy([cutoff + 1] * L, cutoff)
    return [
        qt.tensor(*[qt.destroy(cutoff) if j == k else qt.qeye(cutoff) for j in range(L)])
        for k in range(L)
    ]


def master_equation(H, g, n, a, dephasing=None, extra=()):
    """H = Σ H_kl a_k† a_l; the dissipators (4); optional dephasing √Γ a†a; extra (γ, n, k)."""
    L = H.shape[0]
    Hq = sum(H[k, m] * a[k].dag() * a[m] for k in range(L) for m in range(L))
    c_ops = []
    for gam, occ, k in [(g[k], n[k], k) for k in range(L)] + list(extra):
        if gam > 0:
            c_ops.append(np.sqrt(gam * (occ + 1)) * a[k])
            if occ > 0:
                c_ops.append(np.sqrt(gam * occ) * a[k].dag())
    if dephasing is not None:
        c_ops += [np.sqrt(d) * a[k].dag() * a[k] for k, d in enumerate(dephasing) if d > 0]
    return Hq, c_ops


def sector_steadystate(Hq, c_ops, a):
    """Steady state of the QuTiP Liouvillian restricted to the N_bra = N_ket sector."""
    Lq = qt.liouvillian(Hq, c_ops).data.as_scipy().tocsc()
    d = Hq.shape[0]
    N = np.rint(np.real(sum(x.dag() * x for x in a).diag())).astype(int)
    m_idx, n_idx = np.arange(d * d) % d, np.arange(d * d) // d  # column stacking (QuTiP)
    sel = np.nonzero(N[m_idx] == N[n_idx])[0]
    block = Lq[sel][:, sel]
    assert abs(abs(Lq[:, sel]).sum() - abs(block).sum()) == 0  # the sector is invariant
    A = block.toarray()
    A[0, :] = (m_idx[sel] == n_idx[sel]).astype(complex)  # trace row
    rhs = np.zeros(len(sel), complex)
    rhs[0] = 1.0
    vec = np.zeros(d * d, complex)
    vec[sel] = np.linalg.solve(A, rhs)
    return vec.reshape(d, d, order="F")


def covariance(rho, a):
    rho = rho.full() if isinstance(rho, qt.Qobj) else rho
    L = len(a)
    return np.array(
        [[np.trace(rho @ (a[i].dag() * a[j]).full()) for j in range(L)] for i in range(L)]
    )


def pi_c2(C, rates, occ):
    """(C2) and (20) in NumPy: Π_k = Φ_k - γ_k + γ_k (n_k + ½) [(C + ½)⁻¹]_kk."""
    c = np.real(np.diagonal(C))
    Xinv = np.linalg.inv(C + 0.5 * np.eye(C.shape[0]))
    phi = rates * (c - occ) / (occ + 0.5)
    return phi - rates + rates * (occ + 0.5) * np.real(np.diagonal(Xinv)), phi


def fock_ness_2(H, g, n, cutoff, **kw):
    a = annihilators(2, cutoff, enr=False)
    Hq, c_ops = master_equation(H, g, n, a, **kw)
    return covariance(qt.steadystate(Hq, c_ops), a)


def two_mode_model(seed=7):
    r = rng(seed)
    H = random_hermitian(r, 2, 0.6) + np.diag([1.0, 0.7])
    assert abs(H[0, 1].imag) > 0.05  # complex hopping
    return H, np.array([0.8, 0.5]), np.array([0.15, 0.02])


def test_two_modes_fock_space_ness():
    H, g, n = two_mode_model()
    res = gaussian.entropy_production(H, g, n)
    Cg = np.asarray(res.covariance)
    err = {N: np.max(np.abs(fock_ness_2(H, g, n, N) - Cg)) for N in (6, CUT2)}
    assert err[CUT2] < TRUNC_TOL
    assert err[CUT2] < 0.05 * err[6]  # the difference is truncation error: it falls with N
    C = fock_ness_2(H, g, n, CUT2)
    assert np.max(np.abs(C - np.diag(np.diag(C)))) > 1e-2  # correlated NESS
    pi, phi = pi_c2(C, g, n)
    np.testing.assert_allclose(np.asarray(res.pi), pi, rtol=0, atol=PI_TOL)
    np.testing.assert_allclose(np.asarray(res.phi), phi, rtol=0, atol=PI_TOL)
    assert pi.sum() > 1e-3
    np.testing.assert_allclose(float(res.total), pi.sum(), rtol=0, atol=PI_TOL)
    # eq. (26) from the Fock-space currents j_kl = 2 Im(H_kl C_kl)
    j01 = 2 * np.imag(H[0, 1] * C[0, 1])
    np.testing.assert_allclose(float(res.pi_ness), j01 * (1 / (n[0] + .5) - 1 / (n[1] + .5)),
                               rtol=0, atol=PI_TOL)


def test_two_modes_self_consistent_probe_both_lindblad_forms():
    H, g, n = two_mode_model(seed=8)
    Gam = np.array([0.0, 0.4])
    res = gaussian.entropy_production(H, g, n, Gam)
    Cg = np.asarray(res.covariance)
    # (a) thermal probe bath at ñ: C_11(ñ) is affine in ñ; solve ñ = C_11(ñ) in Fock space
    def with_probe(nt):
        return fock_ness_2(H, g, n, CUT2, extra=[(Gam[1], nt, 1)])

    c0, c1 = np.real(with_probe(0.0)[1, 1]), np.real(with_probe(0.1)[1, 1])
    slope = (c1 - c0) / 0.1
    nt = c0 / (1 - slope)
    C_bath = with_probe(nt)
    assert abs(np.real(C_bath[1, 1]) - nt) < 1e-9  # self-consistent: no net energy exchange
    # (b) pure dephasing at rate Γ
    C_deph = fock_ness_2(H, g, n, CUT2, dephasing=Gam)
    for C in (C_bath, C_deph):
        assert np.max(np.abs(C - Cg)) < TRUNC_TOL
        pi, _ = pi_c2(C, g, n)
        pi_sc, phi_sc = pi_c2(C, Gam, np.real(np.diagonal(C)))
        np.testing.assert_allclose(np.asarray(res.pi), pi, rtol=0, atol=PI_TOL)
        np.testing.assert_allclose(np.asarray(res.pi_sc), pi_sc, rtol=0, atol=PI_TOL)
        assert np.max(np.abs(phi_sc)) < 1e-15
    assert float(res.pi_sc[1]) > 100 * PI_TOL
    # the rate convention matters: dephasing at 2Γ or Γ/2 is far off
    for wrong in (2 * Gam, Gam / 2):
        assert np.max(np.abs(fock_ness_2(H, g, n, CUT2, dephasing=wrong) - Cg)) > 1e-3


def test_sector_solver_matches_qutip_steadystate():
    r = rng(9)
    H = random_hermitian(r, 3, 0.5) + np.diag([1.0, 1.3, 0.8])
    a = annihilators(3, 4, enr=True)
    Hq, c_ops = master_equation(H, [0.8, 0.0, 0.5], [0.1, 0.0, 0.02], a,
                                dephasing=[0.2, 0.3, 0.0])
    rho_q = qt.steadystate(Hq, c_ops).full()
    np.testing.assert_allclose(sector_steadystate(Hq, c_ops, a), rho_q, atol=1e-10)


def test_three_modes_fock_space_ness_with_probes():
    r = rng(10)
    H = random_hermitian(r, 3, 0.5) + np.diag([1.0, 1.3, 0.8])
    g, n = np.array([0.8, 0.0, 0.5]), np.array([0.1, 0.0, 0.02])
    Gam = np.array([0.2, 0.3, 0.0])  # a probe on a bath site and one on the free site
    res = jax.jit(gaussian.entropy_production)(H, g, n, Gam)
    Cg = np.asarray(res.covariance)
    a = annihilators(3, 7, enr=True)
    Hq, c_ops = master_equation(H, g, n, a, dephasing=Gam)
    C = covariance(sector_steadystate(Hq, c_ops, a), a)
    assert np.max(np.abs(C - Cg)) < TRUNC_TOL
    assert np.max(np.abs(np.imag(C[np.triu_indices(3, 1)]))) > 1e3 * TRUNC_TOL  # complex
    pi, phi = pi_c2(C, g, n)
    pi_sc, _ = pi_c2(C, Gam, np.real(np.diagonal(C)))
    np.testing.assert_allclose(np.asarray(res.pi), pi, rtol=0, atol=PI_TOL)
    np.testing.assert_allclose(np.asarray(res.phi), phi, rtol=0, atol=PI_TOL)
    np.testing.assert_allclose(np.asarray(res.pi_sc), pi_sc, rtol=0, atol=PI_TOL)
    np.testing.assert_allclose(float(res.total), pi.sum() + pi_sc.sum(), rtol=0, atol=PI_TOL)
    np.testing.assert_allclose(float(res.flux_total), phi.sum(), rtol=0, atol=PI_TOL)
    assert min(pi[0], pi[2], pi_sc[0], pi_sc[1]) > 1e-4


@pytest.mark.parametrize("cutoff", [5])
def test_truncation_error_grows_at_a_low_cutoff(cutoff):
    """At a low cutoff the Fock result must visibly differ (the comparison can fail)."""
    H, g, n = two_mode_model()
    Cg = np.asarray(gaussian.entropy_production(H, g, n).covariance)
    assert np.max(np.abs(fock_ness_2(H, g, n, cutoff) - Cg)) > 10 * TRUNC_TOL
