# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Gradients of σ and an optax run
#
# Entropy production is differentiable in every array argument: `jax.grad` goes through
# the steady-state solve by implicit differentiation (an adjoint solve, never a
# backpropagation through a factorisation) and through the matrix logarithms by
# Daleckii–Krein rules that stay finite at degenerate spectra. Here we minimise the
# entropy production of the reset qubit of seed 004 (Fig. 1) over the splitting λ with a
# plain optax loop. The fact checked: gradient descent lands on `λ = γ/Γ = (6/11, 3/11,
# 2/11)`, where σ = 0 (Prop. 4.5).
#
# (`jaxqep.optimize.minimize` wraps such loops with physical constraints like
# `AffineSimplex`; see [Optimisation and sensitivity](../../capabilities/optimization/).)

# %%
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import optax

import jaxqep  # noqa: F401  (enables float64)
from jaxqep import models, qrm

H = models.single_qubit_hamiltonian(eps=1.0, delta=0.7)
taus = jnp.stack([models.diagonal_reset_state(0.9)] * 3)
gammas = jnp.array([1.0, 0.5, 1 / 3])


@jax.jit
def sigma(x):
    """σ as a function of two free coordinates; λ_3 = 1 − λ_1 − λ_2 keeps Σλ = 1."""
    lambdas = jnp.stack([x[0], x[1], 1.0 - x[0] - x[1]])
    return qrm.entropy_production(H, taus, gammas, lambdas).total


x = jnp.array([0.2, 0.6])
g = jax.jit(jax.grad(sigma))(x)
h = 1e-6
fd = jnp.array([(sigma(x + h * e) - sigma(x - h * e)) / (2 * h) for e in jnp.eye(2)])
print("∇σ =", g, " central differences:", fd)
assert jnp.allclose(g, fd, rtol=1e-6)

# %% [markdown]
# ## Minimise σ with Adam

# %%
opt = optax.adam(0.02)


@jax.jit
def step(x, state):
    loss, grad = jax.value_and_grad(sigma)(x)
    updates, state = opt.update(grad, state)
    return optax.apply_updates(x, updates), state, loss


state, path, losses = opt.init(x), [x], []
for _ in range(300):
    x, state, loss = step(x, state)
    path.append(x)
    losses.append(loss)
path = jnp.stack(path)
lam = jnp.array([x[0], x[1], 1 - x[0] - x[1]])
print("λ* =", lam, "  γ/Γ =", gammas / gammas.sum(), "  σ(λ*) =", float(sigma(x)))

# %%
assert jnp.allclose(lam, gammas / gammas.sum(), atol=2e-3)
assert float(sigma(x)) < 1e-8

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
axes[0].semilogy(jnp.array(losses))
axes[0].set_xlabel("Adam step")
axes[0].set_ylabel("σ")
l1, l2 = jnp.meshgrid(jnp.linspace(0.1, 0.8, 40), jnp.linspace(0.0, 0.7, 40))
s = jax.jit(jax.vmap(lambda a, b: sigma(jnp.stack([a, b]))))(l1.ravel(), l2.ravel())
s = s.reshape(l1.shape)
axes[1].contourf(l1, l2, jnp.log10(s + 1e-12), levels=30, cmap="viridis")
axes[1].plot(path[:, 0], path[:, 1], "w.-", ms=2, lw=1)
axes[1].plot(6 / 11, 3 / 11, "r*", ms=12, label="γ/Γ")
axes[1].set_xlabel("λ₁")
axes[1].set_ylabel("λ₂")
axes[1].legend()
axes[1].set_title("log₁₀ σ and the optimiser's path")
fig.tight_layout()
plt.show()
