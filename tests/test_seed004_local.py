"""Tripartite models with order-one local Hamiltonians (seed 004, eqs. 6.1-6.4).

Independent route: the full Lindbladian and its split built in NumPy, steady states by a
dense NumPy solve, σ_# = tr(L^#(ρ)(ln ρ^# − ln ρ)) with SciPy's logm.
"""

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sla
from helpers import random_density, random_hermitian, rng

from jaxqep import models, qrm


def numpy_route(ha, hc, hb, v, ta, tb, ga, gb, g, lam):
    na, nc, nb = len(ha), len(hc), len(hb)
    d = na * nc * nb
    h = (
        np.kron(np.kron(ha, np.eye(nc)), np.eye(nb))
        + np.kron(np.kron(np.eye(na), hc), np.eye(nb))
        + np.kron(np.kron(np.eye(na), np.eye(nc)), hb)
        + g * v
    )
    eye = np.eye(d)
    comm = np.kron(h, eye) - np.kron(eye, h.T)
    basis = np.eye(d * d).reshape(d * d, d, d)

    def reset_a(x):
        tr_a = np.einsum("aiaj->ij", x.reshape(na, nc * nb, na, nc * nb))
        return ga * (np.kron(ta, tr_a) - x)

    def reset_b(x):
        tr_b = np.einsum("ibjb->ij", x.reshape(na * nc, nb, na * nc, nb))
        return gb * (np.kron(tr_b, tb) - x)

    da = np.stack([reset_a(b).reshape(-1) for b in basis], axis=1)
    db = np.stack([reset_b(b).reshape(-1) for b in basis], axis=1)
    la = -1j * lam * comm + da
    lb = -1j * (1 - lam) * comm + db

    def steady(m):
        a = m.copy()
        a[0] = eye.reshape(-1)
        rhs = np.zeros(d * d, complex)
        rhs[0] = 1
        x = np.linalg.solve(a, rhs).reshape(d, d)
        return (x + x.conj().T) / 2

    rho, rho_a, rho_b = steady(la + lb), steady(la), steady(lb)
    parts = [
        np.trace((m @ rho.reshape(-1)).reshape(d, d) @ (sla.logm(r) - sla.logm(rho))).real
        for m, r in ((la, rho_a), (lb, rho_b))
    ]
    return rho, np.array(parts)


def model(seed, dims=(2, 2, 2)):
    r = rng(seed)
    na, nc, nb = dims
    return (
        random_hermitian(r, na),
        random_hermitian(r, nc),
        random_hermitian(r, nb),
        random_hermitian(r, na * nc * nb),
        random_density(r, na),
        random_density(r, nb),
    )


@pytest.mark.parametrize("dims", [(2, 2, 2), (2, 3, 2)])
def test_dense_route_vs_numpy(dims):
    ha, hc, hb, v, ta, tb = model(0, dims)
    ep = qrm.local_tripartite_entropy_production(ha, hc, hb, v, ta, tb, 0.7, 1.1, 0.4, 0.3)
    rho, parts = numpy_route(ha, hc, hb, v, ta, tb, 0.7, 1.1, 0.4, 0.3)
    np.testing.assert_allclose(np.asarray(ep.rho), rho, atol=1e-11)
    np.testing.assert_allclose(np.asarray(ep.parts), parts, rtol=1e-8, atol=1e-12)
    assert np.all(np.asarray(ep.parts) > 0)
    np.testing.assert_allclose(float(ep.total), float(jnp.sum(ep.fluxes)), rtol=1e-9)


def test_zero_local_terms_reduce_to_section7():
    _, _, _, v, ta, tb = model(1)
    z = np.zeros((2, 2))
    ep = qrm.local_tripartite_entropy_production(z, z, z, v, ta, tb, 0.7, 1.1, 0.05, 0.3)
    ref = qrm.tripartite_entropy_production(
        v, ta, tb, 0.7, 1.1, (2, 2, 2), 0.05, 0.3, method="dense"
    )
    np.testing.assert_allclose(np.asarray(ep.parts), np.asarray(ref.parts), rtol=1e-9)
    lo = qrm.local_leading_order(z, z, z, v, ta, tb, 0.7, 1.1)
    lo_ref = qrm.leading_order(v, ta, tb, 0.7, 1.1, (2, 2, 2))
    np.testing.assert_allclose(np.asarray(lo.c), np.asarray(lo_ref.c), rtol=1e-12)


def test_thermal_equilibrium_with_local_hamiltonians():
    """Equal Gibbs resets of H_A = H_B = ε n, excitation-conserving V: σ = 0 (cf. 8.25)."""
    n = np.diag([0.0, 1.0])
    eps = 0.8
    tau = np.asarray(models.gibbs_state(eps * n, 1.3))
    v = np.asarray(models.three_qubit_chain(0.0, 0.0, 0.0, 0.1, 0.05, 0.1))  # conserves N
    ep = qrm.local_tripartite_entropy_production(
        eps * n, eps * n, eps * n, v, tau, tau, 0.7, 0.6, 0.3, 0.4
    )
    assert abs(float(ep.total)) < 1e-13
    np.testing.assert_allclose(np.asarray(ep.rho), np.kron(np.kron(tau, tau), tau), atol=1e-13)
    # different temperatures: strictly positive
    tau2 = np.asarray(models.gibbs_state(eps * n, 0.4))
    ep2 = qrm.local_tripartite_entropy_production(
        eps * n, eps * n, eps * n, v, tau, tau2, 0.7, 0.6, 0.3, 0.4
    )
    assert float(ep2.total) > 1e-6


def test_bad_shapes_and_nonzero_local_terms():
    ha, hc, hb, v, ta, tb = model(2)
    with pytest.raises(ValueError, match="H_A: expected shape"):
        qrm.local_tripartite_entropy_production(np.eye(3), hc, hb, v, ta, tb, 0.7, 1.1, 0.1, 0.3)
    with pytest.raises(ValueError, match="H_B: expected shape"):
        qrm.local_tripartite_entropy_production(ha, hc, np.eye(3), v, ta, tb, 0.7, 1.1, 0.1, 0.3)
    with pytest.raises(ValueError, match="V: expected shape"):
        qrm.local_tripartite_entropy_production(ha, hc, hb, np.eye(12), ta, tb, 0.7, 1.1, 0.1, 0.3)
    with pytest.raises(ValueError, match="H_C: must be Hermitian"):
        qrm.local_tripartite_entropy_production(
            ha, np.array([[0, 1], [0, 0.0]]), hb, v, ta, tb, 0.7, 1.1, 0.1, 0.3
        )
    with pytest.raises(ValueError, match=r"H_C: the perturbation theory .*eq\. 7\.1"):
        qrm.local_leading_order(0 * ha, hc, 0 * hb, v, ta, tb, 0.7, 1.1)
    with pytest.raises(ValueError, match="V: expected shape"):
        qrm.local_hamiltonian(ha, hc, hb, np.eye(4), 0.1)
