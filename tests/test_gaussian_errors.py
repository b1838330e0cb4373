"""Bad input: clear errors naming the argument and the violated condition."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxqep import gaussian

EP = jax.jit(gaussian.entropy_production)
L = 4
H = gaussian.chain_hamiltonian(L, 1.0, 0.3)
G, N = gaussian.chain_baths(L, 0.5, 1.0, 2.0)


def test_shape_errors_at_trace_time():
    with pytest.raises(ValueError, match="H: expected a square"):
        gaussian.entropy_production(jnp.ones((3, 4)), G, N)
    with pytest.raises(ValueError, match=r"gammas: expected shape \(4,\)"):
        gaussian.entropy_production(H, jnp.ones(3), N)
    with pytest.raises(ValueError, match=r"occupations: expected shape \(4,\)"):
        EP(H, G, jnp.ones((4, 1)))
    with pytest.raises(ValueError, match=r"sc_rates: expected shape \(4,\)"):
        EP(H, G, N, jnp.ones(5))
    with pytest.raises(TypeError, match="gammas: expected real"):
        gaussian.entropy_production(H, G + 0j, N)
    with pytest.raises(TypeError, match="L: must be a Python int"):
        gaussian.chain_hamiltonian(2.5, 1.0, 0.1)
    with pytest.raises(ValueError, match=r"C0: expected shape"):
        gaussian.evolve_covariance(H, G, N, jnp.eye(3), jnp.array([0.0]))


def test_value_errors_inside_jit():
    bad_h = H.at[0, 1].set(0.2)
    with pytest.raises(Exception, match="H: must be Hermitian"):
        EP(bad_h, G, N)
    with pytest.raises(Exception, match="gammas: bath rates must be >= 0"):
        EP(H, G.at[0].set(-0.1), N)
    with pytest.raises(Exception, match="occupations: bath occupations must be >= 0"):
        EP(H, G, N.at[1].set(-1.0))
    with pytest.raises(Exception, match="sc_rates: self-consistent reservoir rates must be >= 0"):
        EP(H, G, N, -0.1 * jnp.ones(L))
    with pytest.raises(Exception, match="occupations"):
        EP(H, G, N.at[1].set(jnp.nan))


@pytest.mark.parametrize("method", ["eig", "sign"])
def test_no_ness_detected(method):
    ep = jax.jit(gaussian.entropy_production, static_argnames="method")
    # all gamma = 0, no self-consistent baths: nothing is damped
    with pytest.raises(Exception, match="no unique NESS"):
        ep(H, jnp.zeros(L), N, method=method)
    # only self-consistent reservoirs: population conserved, a continuum of states
    with pytest.raises(Exception, match="no unique NESS"):
        ep(H, jnp.zeros(L), N, 0.2 * jnp.ones(L), method=method)
    # a dark mode: two decoupled blocks, one without any bath
    Hb = (
        jnp.zeros((L, L), complex)
        .at[0, 1]
        .set(0.3)
        .at[1, 0]
        .set(0.3)
        .at[2, 3]
        .set(0.3)
        .at[3, 2]
        .set(0.3)
    )
    g = jnp.array([0.5, 0.0, 0.0, 0.0])
    with pytest.raises(Exception, match="no unique NESS"):
        ep(Hb, g, N, method=method)
    # the same block with self-consistent reservoirs only
    with pytest.raises(Exception, match="no unique NESS"):
        ep(Hb, g, N, jnp.array([0.0, 0.0, 0.2, 0.2]), method=method)
    # ... while a valid network passes
    r = ep(H, G, N, method=method)
    assert np.isfinite(float(r.total))
