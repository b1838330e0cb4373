"""Chain of Sec. IV of seed 000: NESS, split of Π into reservoirs, gradient w.r.t. Γ.

Run: python examples/gaussian_chain.py
"""

import jax
import jax.numpy as jnp

import jaxqep  # noqa: F401  (x64 and XLA flags)
from jaxqep import gaussian

L, omega, lam, gamma, n1, nL = 20, 1.0, 3e-7, 1e-6, 1.0, 2.0
H = gaussian.chain_hamiltonian(L, omega, lam)
gammas, occ = gaussian.chain_baths(L, gamma, n1, nL)


@jax.jit
def run(Gamma):
    return gaussian.entropy_production(H, gammas, occ, Gamma * jnp.ones(L))


r = run(1e-7)
cf = gaussian.chain_closed_form(L, lam, gamma, 1e-7, n1, nL)
print("occupations <a_k† a_k>:", jnp.round(r.sc_occupations, 4))
print(f"Π_r = {float(r.pi_r):.6e}, Π_sc = {float(r.pi_sc_total):.6e}")
print(f"Π_r + Π_sc = {float(r.total):.10e}  eq. (31) = {float(cf['pi_ness']):.10e}")
print(f"current j = {float(r.currents[0, 1]):.6e}  eq. (30) = {float(cf['current']):.6e}")

dtotal = jax.grad(lambda G: run(G).total)(1e-7)
fd = (run(1e-7 * (1 + 1e-6)).total - run(1e-7 * (1 - 1e-6)).total) / (2e-13)
print(f"dΠ/dΓ = {float(dtotal):.6e} (finite difference {float(fd):.6e})")
