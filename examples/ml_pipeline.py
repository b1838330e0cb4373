"""jaxqep inside an ML pipeline: an equinox network trained with optax through a steady state.

A small MLP maps a control parameter ``u ∈ [0, 1]`` to the two tunnelling couplings
``(J_α, J_β) > 0`` of the three-qubit reset chain of seed 004, Sec. 8. The loss asks that

* the entropy production ``σ(u)`` follow a prescribed ramp ``σ_target(u)``, and
* the heat current delivered to the cold reservoir A, ``Q_A = -tr(h_A D_A(ρ⁺))`` with
  ``h_A = e_A |1><1|_A``, stay above a floor ``Q_min`` (a soft constraint): with two
  couplings and one target there is room to satisfy both,

both computed from the exact steady state ``ρ⁺`` (a dense, implicitly differentiated
solve). Gradients flow from the loss through ``σ`` (matrix logarithms with
Daleckii-Krein derivatives) and ``ρ⁺`` back into the network weights.

Run: ``python examples/ml_pipeline.py`` (about a minute on a laptop CPU).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

import jaxqep  # noqa: F401  (sets float64 and the XLA flags before JAX starts)
from jaxqep import models, qrm, superop

E_A, E_B, E_C, U = 0.08, 0.1, 0.05, 0.1
GAMMA_A, GAMMA_B = 0.7, 0.6
T_A, T_B = 0.95, 0.6
G = 1.0  # the coupling is absorbed in J_α, J_β
LAM = 0.5  # σ does not depend on λ for this model (Sec. 8.4)
DIMS = (2, 2, 2)


def chain_observables(j_alpha, j_beta):
    """``(σ, Q_A)`` of the chain at couplings ``(J_α, J_β)``."""
    h = models.three_qubit_chain(E_A, E_B, E_C, U, j_alpha, j_beta)
    tau_a = models.diagonal_reset_state(T_A)
    tau_b = models.diagonal_reset_state(T_B)
    ep = qrm.tripartite_entropy_production(h, tau_a, tau_b, GAMMA_A, GAMMA_B, DIMS, G, LAM)
    h_a = jnp.kron(jnp.diag(jnp.array([0.0, E_A])), jnp.eye(4))
    d_a = GAMMA_A * superop.apply_reset_A(ep.rho, tau_a.astype(ep.rho.dtype), DIMS)
    heat_a = -jnp.real(jnp.trace(h_a @ d_a))  # energy per unit time into reservoir A
    return ep.total, heat_a


class Controller(eqx.Module):
    """``u ↦ (J_α, J_β)``, positive through a scaled softplus."""

    mlp: eqx.nn.MLP

    def __init__(self, key):
        self.mlp = eqx.nn.MLP(1, 2, width_size=16, depth=2, activation=jnp.tanh, key=key)

    def __call__(self, u):
        return 0.05 * jax.nn.softplus(self.mlp(jnp.atleast_1d(u)) + 1.0)


def main(steps: int = 150, seed: int = 0):
    us = jnp.linspace(0.0, 1.0, 8)
    # Targets within the physically reachable range of this chain.
    s_lo, q_lo = chain_observables(0.03, 0.06)
    s_hi, _ = chain_observables(0.12, 0.2)
    sigma_target = s_lo + us * (s_hi - s_lo)
    q_min = 1.5 * q_lo  # more heat than the reference couplings give at the low end
    print(f"target σ ramp: {float(s_lo):.3e} -> {float(s_hi):.3e}; Q_A floor {float(q_min):.3e}")

    def loss_fn(model):
        couplings = jax.vmap(model)(us)
        sig, heat = jax.vmap(chain_observables)(couplings[:, 0], couplings[:, 1])
        fit = jnp.mean(((sig - sigma_target) / (s_hi - s_lo)) ** 2)
        keep = jnp.mean(jax.nn.relu((q_min - heat) / q_min) ** 2)
        return fit + 10.0 * keep, (sig, heat)

    model = Controller(jax.random.PRNGKey(seed))
    optim = optax.adam(3e-3)
    opt_state = optim.init(eqx.filter(model, eqx.is_inexact_array))

    @eqx.filter_jit
    def step(model, opt_state):
        (loss, aux), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(model)
        updates, opt_state = optim.update(grads, opt_state, eqx.filter(model, eqx.is_inexact_array))
        return eqx.apply_updates(model, updates), opt_state, loss, aux

    loss0 = None
    for k in range(steps):
        model, opt_state, loss, (sig, heat) = step(model, opt_state)
        loss0 = float(loss) if loss0 is None else loss0
        if k % 25 == 0 or k == steps - 1:
            ratio = float(jnp.min(heat) / q_min)
            print(f"step {k:4d}  loss {float(loss):.3e}  min Q_A/Q_min {ratio:.3f}")
    couplings = jax.vmap(model)(us)
    print("u      J_alpha   J_beta    sigma       target      Q_A")
    for u, (ja, jb), s, t, q in zip(us, couplings, sig, sigma_target, heat):
        row = (float(u), float(ja), float(jb), float(s), float(t), float(q))
        print("{:.2f}   {:.4f}   {:.4f}   {:.3e}   {:.3e}   {:.3e}".format(*row))
    print(f"loss {loss0:.3e} -> {float(loss):.3e}")
    return float(loss), loss0


if __name__ == "__main__":
    main()
