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
# # From QuTiP to jaxqep
#
# If your model lives in QuTiP, keep it there: jaxqep's entry points accept `qutip.Qobj`
# operators, and `jaxqep.interop.to_qobj` converts results back. A reset dissipator
# `γ(τ tr ρ − ρ)` with a diagonal `τ = Σ_i t_i |i⟩⟨i|` is the Lindblad form with the jump
# operators `√(γ t_i) |i⟩⟨j|` for all `i, j`, so `qutip.steadystate` with those collapse
# operators must give the same state. That is the fact checked on this page.

# %%
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import qutip

import jaxqep  # noqa: F401  (enables float64)
from jaxqep import qrm
from jaxqep.interop import to_qobj

eps, delta, t, gamma = 1.0, 0.7, 0.9, 0.8
H = qutip.Qobj([[0, delta / 2], [delta / 2, eps]])
tau = qutip.Qobj(np.diag([t, 1 - t]))

ep = qrm.entropy_production(H, jnp.stack([jnp.asarray(tau.full())]), jnp.array([gamma]))
rho_jaxqep = to_qobj(ep.rho)
print(rho_jaxqep)

# %% [markdown]
# The same model written with QuTiP's collapse operators:

# %%
def reset_jumps(gamma, ts):
    d = len(ts)
    return [np.sqrt(gamma * ts[i]) * qutip.basis(d, i) * qutip.basis(d, j).dag()
            for i in range(d) for j in range(d)]


rho_qutip = qutip.steadystate(H, reset_jumps(gamma, [t, 1 - t]))
err = (rho_jaxqep - rho_qutip).norm()
print(f"trace distance between the two steady states: {0.5 * err:.2e}")
assert err < 1e-10

# %% [markdown]
# ## A parameter scan on both sides
#
# QuTiP solves one point at a time; jaxqep evaluates the whole scan in one vmapped call
# (and could differentiate it). The populations agree along the scan.

# %%
deltas = np.linspace(0.0, 3.0, 31)


@jax.jit
def populations(d):
    Hd = jnp.array([[0, d / 2], [d / 2, eps]], dtype=complex)
    r = qrm.entropy_production(Hd, jnp.asarray(tau.full())[None], jnp.array([gamma]))
    return jnp.real(r.rho[1, 1]), r.total


p1_jax, sig = jax.vmap(populations)(jnp.asarray(deltas))
p1_qutip = [qutip.steadystate(qutip.Qobj([[0, d / 2], [d / 2, eps]]),
                              reset_jumps(gamma, [t, 1 - t]))[1, 1].real for d in deltas]
assert np.allclose(p1_jax, p1_qutip, atol=1e-10)

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(deltas, p1_qutip, "o", mfc="none", label="QuTiP steadystate")
ax.plot(deltas, p1_jax, "-", label="jaxqep (one vmapped call)")
ax.set_xlabel("δ")
ax.set_ylabel("⟨1|ρ⁺|1⟩")
ax.legend()
ax.set_title("excited population of the reset qubit")
fig.tight_layout()
plt.show()
