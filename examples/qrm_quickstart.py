"""Quick tour of the reset-model API: steady states, entropy production, sweeps, gradients.

Run:  python examples/qrm_quickstart.py
"""

import jax
import jax.numpy as jnp

import jaxqep  # noqa: F401  (enables float64 and the XLA deadlock workaround)
from jaxqep import models, qrm

# --- Single qubit with three reservoirs, affinely split Hamiltonian (seed 004, Sec. 5) ---
H = models.single_qubit_hamiltonian(eps=1.0, delta=0.7)
gammas = jnp.array([1.0, 0.5, 1 / 3])
taus = jnp.stack([models.diagonal_reset_state(0.9)] * 3)  # identical resets (Prop. 4.5)


def sigma(lam_ab):
    lam = jnp.array([lam_ab[0], lam_ab[1], 1.0 - lam_ab[0] - lam_ab[1]])
    return qrm.entropy_production(H, taus, gammas, lam).total


print("σ at λ = γ/Γ = (6/11, 3/11, 2/11):", float(sigma(jnp.array([6 / 11, 3 / 11]))))
print("σ at λ = (0.5, 0.3, 0.2):        ", float(sigma(jnp.array([0.5, 0.3]))))
print("∇σ at (0.5, 0.3):                ", jax.grad(sigma)(jnp.array([0.5, 0.3])))

# --- Three-qubit chain (Sec. 8): σ split by reservoir, swept over g with vmap ---
H3 = models.three_qubit_chain(eA=0.08, eB=0.1, eC=0.05, U=0.1, J_alpha=0.05, J_beta=0.1)
tA, tB = models.diagonal_reset_state(0.95), models.diagonal_reset_state(0.6)


@jax.jit
def chain(g, lam):
    return qrm.tripartite_entropy_production(H3, tA, tB, 0.7, 0.6, (2, 2, 2), g, lam)


gs = jnp.geomspace(1e-3, 1.0, 7)
res = jax.vmap(chain, in_axes=(0, None))(gs, 0.3)
for g, tot, (pa, pb), (fa, fb) in zip(gs, res.total, res.parts, res.fluxes):
    print(
        f"g={g:.3e}  σ/g²={tot / g**2:.6e}  σ_A={pa:.3e}  σ_B={pb:.3e}  φ_A={fa:.3e}  φ_B={fb:.3e}"
    )
print("dσ/dg at g = 0.1:", float(jax.grad(lambda g: chain(g, 0.3).total)(0.1)))
