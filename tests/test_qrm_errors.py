"""Bad input gets a clear error naming the argument, eagerly and under jit/vmap."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxqep
from jaxqep import models, qrm, superop

H = models.single_qubit_hamiltonian(1.0, 0.7)
TAU = models.diagonal_reset_state(0.9)
TAUS = jnp.stack([TAU, models.diagonal_reset_state(0.3)])
GAM = jnp.array([1.0, 0.5])
H3 = models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
TA, TB = models.diagonal_reset_state(0.95), models.diagonal_reset_state(0.6)

ERR = (ValueError, eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError)


CASES_SINGLE = [
    ("H", dict(H=H + jnp.array([[0, 1.0], [0, 0]]))),
    ("taus\\[0\\].*trace", dict(taus=TAUS.at[0].multiply(2.0))),
    ("taus\\[1\\].*Hermitian", dict(taus=TAUS.at[1, 0, 1].set(0.2))),
    (
        "taus\\[0\\].*negative eigenvalue",
        dict(taus=TAUS.at[0].set(jnp.diag(jnp.array([1.2, -0.2])))),
    ),
    ("gammas.*positive", dict(gammas=jnp.array([1.0, -0.5]))),
    ("gammas.*positive", dict(gammas=jnp.array([0.0, 0.0]))),
    ("lambdas.*sum to 1", dict(lambdas=jnp.array([0.5, 0.6]))),
    ("H.*NaN", dict(H=H.at[0, 0].set(jnp.nan))),
]


@pytest.mark.parametrize("pattern,override", CASES_SINGLE)
def test_single_space_bad_input_eager_and_jit(pattern, override):
    kw = dict(H=H, taus=TAUS, gammas=GAM, lambdas=None) | override
    with pytest.raises(ValueError, match=pattern):
        qrm.entropy_production(**kw)
    with pytest.raises(ERR, match=pattern):
        jax.jit(lambda k: qrm.entropy_production(**k).total)(kw).block_until_ready()


def test_single_space_static_errors():
    with pytest.raises(ValueError, match="gammas: expected shape"):
        qrm.entropy_production(H, TAUS, jnp.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="taus: expected a stack"):
        qrm.entropy_production(H, TAU, GAM)
    with pytest.raises(ValueError, match="H: expected shape"):
        qrm.entropy_production(jnp.eye(3), TAUS, GAM)
    with pytest.raises(TypeError, match="numeric"):
        qrm.entropy_production(H, TAUS, np.array(["a", "b"]))


CASES_TRI = [
    ("lam.*0 or 1", dict(lam=0.0)),
    ("lam.*0 or 1", dict(lam=1.0)),
    ("g: must be non-zero", dict(g=0.0)),
    ("tau_A.*trace", dict(tau_A=2 * TA)),
    ("tau_B.*negative", dict(tau_B=jnp.diag(jnp.array([1.5, -0.5])))),
    ("gamma_A.*positive", dict(gamma_A=0.0)),
    ("gamma_B.*positive", dict(gamma_B=-1.0)),
    ("H.*Hermitian", dict(H=H3.at[0, 1].set(3.0))),
]


@pytest.mark.parametrize("pattern,override", CASES_TRI)
def test_tripartite_bad_input(pattern, override):
    kw = dict(H=H3, tau_A=TA, tau_B=TB, gamma_A=0.7, gamma_B=0.6, g=0.1, lam=0.4) | override
    with pytest.raises(ValueError, match=pattern):
        qrm.tripartite_entropy_production(dims=(2, 2, 2), **kw)
    f = jax.jit(lambda k: qrm.tripartite_entropy_production(dims=(2, 2, 2), **k).total)
    with pytest.raises(ERR, match=pattern):
        f({k: jnp.asarray(v) for k, v in kw.items()}).block_until_ready()


def test_tripartite_error_fires_inside_vmap():
    f = jax.vmap(
        lambda lam: (
            qrm.tripartite_entropy_production(H3, TA, TB, 0.7, 0.6, (2, 2, 2), 0.1, lam).total
        )
    )
    np.testing.assert_array_less(0.0, np.asarray(f(jnp.array([0.3, 0.5]))))
    with pytest.raises(ERR, match="lam"):
        f(jnp.array([0.3, 1.0])).block_until_ready()


def test_tripartite_dims_errors():
    with pytest.raises(ValueError, match="dims.*does not match"):
        qrm.tripartite_entropy_production(H3, TA, TB, 0.7, 0.6, (2, 3, 2), 0.1, 0.4)
    with pytest.raises(ValueError, match="dims.*three"):
        qrm.tripartite_entropy_production(H3, TA, TB, 0.7, 0.6, (2, 4), 0.1, 0.4)
    with pytest.raises(ValueError, match="tau_A: expected shape"):
        qrm.tripartite_entropy_production(H3, jnp.eye(4) / 4, TB, 0.7, 0.6, (2, 2, 2), 0.1, 0.4)
    with pytest.raises(ValueError, match="method"):
        qrm.tripartite_entropy_production(H3, TA, TB, 0.7, 0.6, (2, 2, 2), 0.1, 0.4, method="lu")


def test_non_unique_steady_state_is_reported():
    # Pure Hamiltonian evolution: the kernel contains every function of H.
    lmat = superop.hamiltonian_superop(H)
    with pytest.raises(ERR, match="not unique"):
        jaxqep.steady_state_from_superop(lmat)
    # Two decoupled blocks each with its own reset: kernel of dimension 2.
    p0 = jnp.diag(jnp.array([1.0, 0.0, 0.0, 0.0]))
    blk = jnp.zeros((4, 4)).at[0, 1].set(1.0).at[2, 3].set(1.0)  # |0><1| + |2><3|
    lmat = superop.lindblad_dissipator(blk)
    with pytest.raises(ERR, match="not unique"):
        jax.jit(jaxqep.steady_state_from_superop)(lmat).rho.block_until_ready()
    del p0
    # A generic Lindbladian has a unique state, annihilated by L.
    r = np.random.default_rng(0)
    jumps = r.normal(size=(2, 3, 3)) + 1j * r.normal(size=(2, 3, 3))
    lmat = superop.hamiltonian_superop(np.diag([0.0, 1.0, 2.5])) + superop.lindblad_dissipator(
        jumps
    )
    ss = jaxqep.steady_state_from_superop(lmat)
    assert float(ss.residual) < 1e-12
    _, s, vh = np.linalg.svd(np.asarray(lmat))
    ref = vh[-1].conj().reshape(3, 3)
    np.testing.assert_allclose(ss.rho, ref / np.trace(ref), atol=1e-12)
    with pytest.raises(ValueError, match="not d²"):
        jaxqep.steady_state_from_superop(jnp.eye(5))


def test_non_faithful_partial_state_is_reported():
    # A pure reset state with [H, τ] = 0 makes that part's steady state τ itself: ln τ = -inf.
    h = models.single_qubit_hamiltonian(1.0, 0.0)
    taus = jnp.stack([jnp.diag(jnp.array([1.0, 0.0])), models.diagonal_reset_state(0.3)])
    with pytest.raises(ValueError, match="not faithful"):
        qrm.entropy_production(h, taus, GAM)
