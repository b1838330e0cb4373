"""Find λ0, or learn that there is none: leading order vs optax at finite g (seed 004, Sec. 7).

1. Single qubit with three reservoirs (Fig. 1c/d): σ(λ) vanishes at λ = γ/Γ =
   (6/11, 3/11, 2/11). Gradient descent on the affine simplex Σλ_j = 1 finds it from a
   random start.
2. A random tripartite model (2 x 3 x 2): ``leading_order`` gives σ^(2)(λ) in closed form,
   its minimiser ``lambda_min`` and whether σ^(2) vanishes there (condition 7.37; generically
   it does not: the minimum is positive). Then the exact σ(g, λ) is minimised over λ with
   optax for decreasing g; λ*(g) → lambda_min and σ*/g² → σ^(2)_min with O(g) errors.
3. The three-qubit chain of Sec. 8: σ^(2) is flat in λ (a_# = b_# = 0) and positive.

Run: ``python examples/find_lambda0.py``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import jaxqep  # noqa: F401  (float64, XLA flags)
import jaxqep.optimize as opt
from jaxqep import models, qrm


def single_qubit():
    h = models.single_qubit_hamiltonian(1.0, 0.7)
    taus = jnp.stack([models.diagonal_reset_state(0.9)] * 3)
    gammas = jnp.array([1.0, 0.5, 1.0 / 3.0])

    def sigma(lam, taus, gammas):
        return qrm.entropy_production(h, taus, gammas, lam).total

    r = np.random.default_rng(0)
    start = r.normal(size=3)
    start = start - start.mean() + 1.0 / 3.0
    res = opt.minimize(
        sigma, jnp.asarray(start), args=(taus, gammas), constraints=opt.AffineSimplex(), gtol=1e-12
    )
    print("single qubit: start", np.round(start, 4), "->", np.asarray(res.params))
    print(
        f"  error vs γ/Γ = {np.max(np.abs(np.asarray(res.params) - np.array([6, 3, 2]) / 11)):.1e},"
        f" σ = {float(res.value):.1e}, {int(res.steps)} L-BFGS steps"
    )


def random_tripartite():
    r = np.random.default_rng(0)
    dims = (2, 3, 2)
    a = r.normal(size=(12, 12)) + 1j * r.normal(size=(12, 12))
    h = (a + a.conj().T) / 2

    def state(n):
        m = r.normal(size=(n, n)) + 1j * r.normal(size=(n, n))
        m = m @ m.conj().T + 0.05 * np.eye(n)
        return m / np.trace(m).real

    ta, tb = state(2), state(2)
    lo = qrm.leading_order(h, ta, tb, 0.8, 1.3, dims)
    print("\nrandom 2x3x2 model, leading order (Prop. 7.7):")
    print("  a =", np.asarray(lo.a), " b =", np.asarray(lo.b), " c =", np.asarray(lo.c))
    print(
        f"  lambda_min = {float(lo.lambda_min):.6f}, σ^(2)_min = {float(lo.sigma2_min):.6f},"
        f" has_zero = {bool(lo.has_zero)}"
    )
    print("  discriminants b² - 4ac:", np.asarray(lo.b**2 - 4 * lo.a * lo.c), "(< 0: no zero)")
    print("  g        λ*(g)       λ* - λ_min    σ*/g² - σ^(2)_min")
    for g in (0.04, 0.02, 0.01, 0.005):
        res = qrm.optimal_lambda(h, ta, tb, 0.8, 1.3, dims, g)
        print(
            f"  {g:<7}  {float(res.lam):.6f}    {float(res.lam - lo.lambda_min):+.3e}"
            f"    {float(res.sigma_over_g2 - lo.sigma2_min):+.3e}"
        )


def chain():
    h = models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
    lo = qrm.leading_order(
        h, models.diagonal_reset_state(0.95), models.diagonal_reset_state(0.6), 0.7, 0.6, (2, 2, 2)
    )
    print("\nthree-qubit chain: a =", np.asarray(lo.a), "b =", np.asarray(lo.b))
    print(
        f"  σ^(2) = c_A + c_B = {float(jnp.sum(lo.c)):.6e} for every λ"
        f" (lambda_min = {float(lo.lambda_min)}), has_zero = {bool(lo.has_zero)}"
    )


if __name__ == "__main__":
    single_qubit()
    random_tripartite()
    chain()
