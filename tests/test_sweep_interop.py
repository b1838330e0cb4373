"""QuTiP interoperability: Qobj in, Qobj out."""

import numpy as np
import pytest
import qutip

import jaxqep
from jaxqep.interop import accept_qobj, from_qobj, is_qobj, to_qobj


def test_qobj_inputs_give_the_same_result_and_convert_back():
    H = qutip.Qobj([[0.0, 0.35], [0.35, 1.0]])
    taus = [qutip.Qobj(np.diag([0.9, 0.1])), qutip.Qobj(np.diag([0.6, 0.4]))]
    ep = accept_qobj(jaxqep.qrm.entropy_production)(H, taus, gammas=[1.0, 0.5])
    ref = jaxqep.qrm.entropy_production(
        H.full(), np.stack([t.full() for t in taus]), np.array([1.0, 0.5])
    )
    np.testing.assert_allclose(ep.total, ref.total, rtol=1e-13)
    rho = to_qobj(ep)
    assert is_qobj(rho) and rho.isherm and abs(rho.tr() - 1) < 1e-12
    assert from_qobj(rho).shape == (2, 2) and from_qobj(3.0) == 3.0
    parts = to_qobj(ep.partial_states)
    assert isinstance(parts, list) and len(parts) == 2


def test_to_qobj_dims_allow_partial_traces():
    H = jaxqep.models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
    tA, tB = jaxqep.models.diagonal_reset_state(0.95), jaxqep.models.diagonal_reset_state(0.6)
    ep = jaxqep.qrm.tripartite_entropy_production(H, tA, tB, 0.7, 0.6, (2, 2, 2), 0.1, 0.3)
    rho = to_qobj(ep.rho, dims=(2, 2, 2))
    assert rho.dims == [[2, 2, 2], [2, 2, 2]]
    rho_a = rho.ptrace(0).full()
    full = np.asarray(ep.rho).reshape(2, 4, 2, 4)
    np.testing.assert_allclose(rho_a, np.einsum("aibi->ab", full), atol=1e-14)
    with pytest.raises(ValueError, match="dims"):
        to_qobj(ep.rho, dims=(2, 2))


def test_entry_points_accept_qobj_natively():
    qutip = pytest.importorskip("qutip")
    import jaxqep

    h = jaxqep.models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
    ta, tb = jaxqep.models.diagonal_reset_state(0.95), jaxqep.models.diagonal_reset_state(0.6)
    ref = jaxqep.qrm.tripartite_entropy_production(h, ta, tb, 0.7, 0.6, (2, 2, 2), 0.2, 0.3)
    out = jaxqep.qrm.tripartite_entropy_production(
        qutip.Qobj(np.asarray(h), dims=[[2, 2, 2], [2, 2, 2]]),
        qutip.Qobj(np.asarray(ta)),
        qutip.Qobj(np.asarray(tb)),
        0.7,
        0.6,
        (2, 2, 2),
        0.2,
        0.3,
    )
    np.testing.assert_allclose(out.parts, ref.parts, rtol=1e-12)
    hq = qutip.Qobj(np.asarray(jaxqep.models.single_qubit_hamiltonian(1.0, 0.7)))
    taus = [qutip.Qobj(np.diag([0.9, 0.1])), qutip.Qobj(np.diag([0.3, 0.7]))]
    ep = jaxqep.qrm.entropy_production(hq, taus, [1.0, 0.5])
    assert float(ep.total) > 0
    rho = jaxqep.interop.to_qobj(ep)
    assert isinstance(rho, qutip.Qobj) and abs(rho.tr() - 1) < 1e-12
