"""Matrix-free steady states and entropy production of large tripartite reset models.

For an N-qubit chain with resets on its end sites the Liouvillian has ``4^N x 4^N``
entries; nothing here builds it. Every Lindbladian is applied as a function on ``d x d``
matrices and the bordered steady-state system ``L(x) + u tr(x) = u`` (``u = I/d``, as in
``jaxqep._steady``) is solved by restarted, right-preconditioned GMRES (our own, see
:class:`_GMRES`, plugged into ``lineax.linear_solve``), which differentiates implicitly
(one adjoint Krylov solve, never a backpropagation through the iterations).

**Hermitian packing.** ``L`` maps Hermitian matrices to Hermitian matrices, so the unknown
is stored as the *real* matrix ``S = Re X + Im X`` (symmetric plus antisymmetric part,
``X = sym(S) + i asym(S)``). Krylov vectors are then real, and for a real Hamiltonian the
expensive steps (commutator, change to the eigenbasis of ``H``) are real matrix products,
several times faster than complex ones on CPU.

**Preconditioner (two-level).** ``L = -ic[H, ·] + Σ_j γ_j(Π_j - 1)`` with the reset
projectors ``Π_A = τ_A ⊗ tr_A``, ``Π_B = tr_B ⊗ τ_B``. The dissipator annihilates the
*slow space* ``Π = Π_A Π_B`` (states ``τ_A ⊗ ρ_C ⊗ τ_B``), where ``L`` is small (``O(c)``
coherent, ``O(c²)`` dissipative): there the Krylov method sees eigenvalues on both sides
of the origin, which is what makes unpreconditioned (or dissipator-only preconditioned)
GMRES stall for weak coupling. We invert the two parts separately:

* fast part ``(1 - Π)``: for a weak drive (``|c| · spread(spec H) <= 2Γ``) the exact
  inverse of the dissipator there, seed 004 eq. (7.10) (``O(d²)``); otherwise the exact
  inverse of ``-ic[H, ·] - Γ`` (``Γ = Σ γ_j``), diagonal in the eigenbasis of ``H`` (one
  ``eigh``, then two real congruences per application);
* slow part: ``E (-ic[H̄, ·] - η)^{-1} E^†`` with ``E^† = tr_{A,B}``,
  ``E(r) = τ_A ⊗ r ⊗ τ_B`` and the mean-field Hamiltonian ``H̄ = tr_AB((τ_A ⊗ 1 ⊗ τ_B) H)``
  (seed 004, eq. 7.7): exact to first order in ``c``; the shift
  ``η = c² s² / (Γ + |c| s)``, ``s² = ‖H - 1 ⊗ H̄ ⊗ 1‖²_F / d``, stands in for the
  second-order (Fermi golden rule) damping of the diagonal of the slow space.

Measured on ``models.reset_chain`` (λ = 0.3): 25-120 GMRES iterations per solve for
N = 4-6 and ``g ∈ [1e-2, 30]``, 100-190 at N = 8 (``g = 1, 3``); without the slow-space
part, GMRES needs thousands of iterations or stalls for ``g ≲ 1``. Partial Lindbladians
``L^A`` and ``L^B`` use the same construction with the single reset they contain (slow
space ``τ_A ⊗ B(H_C ⊗ H_B)``, resp. ``B(H_A ⊗ H_C) ⊗ τ_B``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import equinox as eqx
import jax
import jax.flatten_util
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, ArrayLike

from .._superop import partial_trace
from ._results import EntropyProduction

__all__ = [
    "MatrixFreeSteadyState",
    "TripartiteSteadyStates",
    "steady_state_matrix_free",
    "tripartite_steady_states_iterative",
    "tripartite_entropy_production_iterative",
]


# --------------------------------------------------------------------------------------
# Hermitian packing
# --------------------------------------------------------------------------------------


def _pack(x: Array) -> Array:
    """Hermitian ``X`` -> real ``Re X + Im X`` (lossless for Hermitian ``X``)."""
    return jnp.real(x) + jnp.imag(x)


def _unpack(s: Array) -> Array:
    """Inverse of :func:`_pack`: ``sym(S) + i asym(S)``."""
    st = s.T
    return jax.lax.complex(0.5 * (s + st), 0.5 * (s - st))


def _is_real(a: Array) -> bool:
    return not jnp.iscomplexobj(a)


def _comm_packed(h: Array, s: Array) -> Array:
    """Packed ``-i[H, X]`` for packed ``X``."""
    if _is_real(h):
        # X = A + iB: -i[H,X] = [H,B] - i[H,A]; packed = [H,B] - [H,A] = [H, S]^T.
        return (h @ s - s @ h).T
    x = _unpack(s)
    return _pack(-1j * (h @ x - x @ h))


def _congruence(u: Array, s: Array, adjoint_first: bool) -> Array:
    """Packed ``U^† X U`` (``adjoint_first``) or ``U X U^†`` for packed ``X``."""
    if _is_real(u):
        # A real orthogonal congruence maps symmetric to symmetric and antisymmetric to
        # antisymmetric, so it acts on the packed matrix directly (two real products).
        return u.T @ s @ u if adjoint_first else u @ s @ u.T
    x = _unpack(s)
    uh = jnp.conj(u.T)
    return _pack(uh @ x @ u if adjoint_first else u @ x @ uh)


# --------------------------------------------------------------------------------------
# Reset structure on H_A ⊗ H_C ⊗ H_B
# --------------------------------------------------------------------------------------


class _Resets(eqx.Module):
    """Resets acting on the first and/or last factor of ``H_A ⊗ H_C ⊗ H_B``.

    ``tau_a``/``tau_b`` set to ``None`` switch that reset off; the slow space is
    ``τ_A ⊗ B(rest) ⊗ τ_B`` with only the active resets.
    """

    tau_a: Array | None
    tau_b: Array | None
    gamma_a: Array
    gamma_b: Array
    dims: tuple[int, int, int] = eqx.field(static=True)

    @property
    def rate(self) -> Array:
        out = 0.0
        if self.tau_a is not None:
            out = out + self.gamma_a
        if self.tau_b is not None:
            out = out + self.gamma_b
        return jnp.asarray(out)

    def reduce(self, x: Array) -> Array:
        """``E^†``: partial trace over the reset factors."""
        na, nc, nb = self.dims
        if self.tau_a is not None:
            x = partial_trace(x, (na, x.shape[0] // na), (1,))
        if self.tau_b is not None:
            x = partial_trace(x, (x.shape[0] // nb, nb), (0,))
        return x

    def embed(self, r: Array) -> Array:
        """``E``: ``r -> τ_A ⊗ r ⊗ τ_B`` with the active resets."""
        if self.tau_b is not None:
            r = jnp.kron(r, self.tau_b)
        if self.tau_a is not None:
            r = jnp.kron(self.tau_a, r)
        return r

    def embed_identity(self, r: Array) -> Array:
        """``r -> 1_A ⊗ r ⊗ 1_B`` with the active resets."""
        na, _, nb = self.dims
        if self.tau_b is not None:
            r = jnp.kron(r, jnp.eye(nb, dtype=r.dtype))
        if self.tau_a is not None:
            r = jnp.kron(jnp.eye(na, dtype=r.dtype), r)
        return r

    def dissipator_packed(self, s: Array) -> Array:
        """Packed ``Σ_j γ_j (τ_j ⊗ tr_j X - X)`` for packed ``X`` (real arithmetic).

        ``τ ⊗ Y`` packs to ``Re τ ⊗ pack(Y) + Im τ ⊗ pack(Y)^T`` and partial traces
        commute with packing, so no complex intermediate is needed.
        """
        na, nc, nb = self.dims
        d = s.shape[0]
        out = jnp.zeros_like(s)
        if self.tau_a is not None:
            red = jnp.einsum("aiaj->ij", s.reshape(na, d // na, na, d // na))
            emb = _kron_packed(self.tau_a, red, left=True)
            out = out + self.gamma_a * (emb - s)
        if self.tau_b is not None:
            red = jnp.einsum("ibjb->ij", s.reshape(d // nb, nb, d // nb, nb))
            emb = _kron_packed(self.tau_b, red, left=False)
            out = out + self.gamma_b * (emb - s)
        return out

    def dissipator(self, x: Array) -> Array:
        """``Σ_j γ_j (τ_j ⊗ tr_j X - X)`` (complex ``X``)."""
        na, nc, nb = self.dims
        d = x.shape[0]
        out = jnp.zeros_like(x)
        if self.tau_a is not None:
            red = partial_trace(x, (na, d // na), (1,))
            out = out + self.gamma_a * (jnp.kron(self.tau_a, red) - x)
        if self.tau_b is not None:
            red = partial_trace(x, (d // nb, nb), (0,))
            out = out + self.gamma_b * (jnp.kron(red, self.tau_b) - x)
        return out


def _kron_packed(tau: Array, red: Array, left: bool) -> Array:
    """Packed ``τ ⊗ Y`` (``left``) or ``Y ⊗ τ`` from packed ``Y``."""
    terms = [(jnp.real(tau), red)]
    if jnp.iscomplexobj(tau):
        terms.append((jnp.imag(tau), red.T))
    out = 0.0
    for t, y in terms:
        t = t.astype(red.dtype)
        out = out + (jnp.kron(t, y) if left else jnp.kron(y, t))
    return cast(Array, out)


def _lindblad_packed(h: Array, coef: Array, resets: _Resets) -> Callable[[Array], Array]:
    """Packed ``X -> -i c [H, X] + D(X)``."""

    def apply(s: Array) -> Array:
        return coef * _comm_packed(h, s) + resets.dissipator_packed(s)

    return apply


def _dissipator_inverse_packed(resets: _Resets, q: Array) -> Array:
    """Exact ``L0^{-1}`` on ``(1 - Π)``, packed (seed 004, eq. 7.10).

    With two resets: ``-(X + (γ_A/γ_B) Π_A X + (γ_B/γ_A) Π_B X) / Γ``; with one: ``-X/γ``.
    """
    rate = resets.rate
    out = -q / rate
    if resets.tau_a is not None and resets.tau_b is not None:
        na, _, nb = resets.dims
        d = q.shape[0]
        red_a = jnp.einsum("aiaj->ij", q.reshape(na, d // na, na, d // na))
        red_b = jnp.einsum("ibjb->ij", q.reshape(d // nb, nb, d // nb, nb))
        pa = _kron_packed(resets.tau_a, red_a, left=True)
        pb = _kron_packed(resets.tau_b, red_b, left=False)
        out = (
            out
            - (resets.gamma_a / resets.gamma_b * pa + resets.gamma_b / resets.gamma_a * pb) / rate
        )
    return out


# Below this value of |c| (spread of spec H) / Γ the Hamiltonian is a small perturbation of the
# dissipator on the fast space, and L0^{-1} (O(d²)) preconditions as well as the resolvent of
# -ic[H, ·] - Γ (two congruences, O(d³)); above it the resolvent is needed.
_RESOLVENT_THRESHOLD = 2.0


def _two_level_preconditioner(
    h: Array, coef: Array, resets: _Resets, fast: str = "auto"
) -> Callable[[Array], Array]:
    """Packed approximate inverse of ``L`` (see the module docstring)."""
    h, coef, resets = jax.lax.stop_gradient((h, coef, resets))
    d = h.shape[0]
    rate = resets.rate
    w, u = jnp.linalg.eigh(h)
    fast_den = -1j * coef * (w[:, None] - w[None, :]) - rate

    # Mean-field Hamiltonian of the slow space, H̄ = tr_R((τ_R ⊗ 1) H) (seed 004, eq. 7.7).
    weight = _embed_tau_identity(resets, h)
    hbar = resets.reduce(weight @ h)
    hbar = 0.5 * (hbar + jnp.conj(hbar.T))
    if _is_real(h) and _is_real(hbar):
        hbar = jnp.real(hbar)
    wc, uc = jnp.linalg.eigh(hbar)
    fluct = h - resets.embed_identity(hbar)
    s2 = jnp.sum(jnp.abs(fluct) ** 2) / d
    eta = coef**2 * s2 / (rate + jnp.abs(coef) * jnp.sqrt(s2))
    # Floor: a vanishing η means the slow space is exactly invariant (no unique state);
    # the solve then fails its residual check rather than dividing by zero.
    eta = jnp.maximum(eta, 1e-12 * rate)
    slow_den = -1j * coef * (wc[:, None] - wc[None, :]) - eta

    def resolvent(q: Array) -> Array:
        z = _congruence(u, q, adjoint_first=True)
        z = _pack(_unpack(z) / fast_den)
        return _congruence(u, z, adjoint_first=False)

    def dissipator(q: Array) -> Array:
        return _dissipator_inverse_packed(resets, q)

    use_resolvent = jnp.abs(coef) * (w[-1] - w[0]) > _RESOLVENT_THRESHOLD * rate

    def apply(s: Array) -> Array:
        x = _unpack(s)
        r = resets.reduce(x)
        q = _pack(x - resets.embed(r)).astype(s.dtype)
        if fast == "resolvent":
            fast_part = resolvent(q)
        elif fast == "dissipator":
            fast_part = dissipator(q)
        else:
            fast_part = jax.lax.cond(use_resolvent, resolvent, dissipator, q)
        rc = _congruence(uc, _pack(r), adjoint_first=True)
        rc = _pack(_unpack(rc) / slow_den)
        slow = _unpack(_congruence(uc, rc, adjoint_first=False))
        return fast_part + _pack(resets.embed(slow)).astype(s.dtype)

    return apply


def _embed_tau_identity(resets: _Resets, h: Array) -> Array:
    """``τ_A ⊗ 1_C.. ⊗ τ_B`` on the full space (active resets only)."""
    na, nc, nb = resets.dims
    inner = h.shape[0]
    if resets.tau_a is not None:
        inner //= na
    if resets.tau_b is not None:
        inner //= nb
    return resets.embed(jnp.eye(inner, dtype=h.dtype))


# --------------------------------------------------------------------------------------
# Right-preconditioned restarted GMRES as a lineax solver
# --------------------------------------------------------------------------------------


class _GMRES(lx.AbstractLinearSolver):
    """Restarted GMRES(m), right-preconditioned, for real vectors.

    Why not ``lx.GMRES``: lineax 0.1.1 orthogonalises by one pass of classical
    Gram-Schmidt and stops on the *preconditioned* residual; on our ill-conditioned
    reset models (weak coupling) that loses orthogonality and stagnates after hundreds
    of iterations where a stable GMRES needs tens. Here: classical Gram-Schmidt with
    selective re-orthogonalisation (CGS2), Givens rotations, and a stopping rule on the *true*
    residual ``‖b - A x‖_2 <= atol + rtol ‖b‖`` (right preconditioning minimises it).
    Being a lineax solver, it inherits lineax's implicit differentiation: JVPs solve
    with ``A`` and VJPs with ``A^T`` (preconditioner transposed alike).
    """

    rtol: float
    atol: float
    restart: int = 40
    max_steps: int = 3000
    stagnation_cycles: int = 10

    def init(self, operator, options):
        del options
        return operator

    def compute(self, state, vector, options):
        operator = state
        precond = options.get("preconditioner")
        b, unravel = jax.flatten_util.ravel_pytree(vector)
        if jnp.iscomplexobj(b):
            raise TypeError("_GMRES works on real vectors (pack Hermitian matrices first)")

        def mv(v):
            return jax.flatten_util.ravel_pytree(operator.mv(unravel(v)))[0]

        def pc(v):
            if precond is None:
                return v
            return jax.flatten_util.ravel_pytree(precond.mv(unravel(v)))[0]

        n = b.size
        m = min(self.restart, n)
        dtype = b.dtype
        bnorm = jnp.linalg.norm(b)
        target = self.atol + self.rtol * bnorm
        tiny = jnp.finfo(dtype).tiny ** 0.5

        def cycle(x, r, rnorm, steps):
            basis = jnp.zeros((m + 1, n), dtype).at[0].set(r / rnorm)
            hess = jnp.zeros((m + 1, m), dtype)
            cs = jnp.zeros(m, dtype)
            sn = jnp.zeros(m, dtype)
            gvec = jnp.zeros(m + 1, dtype).at[0].set(rnorm)

            def inner_cond(c):
                j, _, _, _, _, gvec, done = c
                return (j < m) & (jnp.abs(gvec[j]) > target) & (steps + j < self.max_steps) & ~done

            def inner_body(c):
                j, basis, hess, cs, sn, gvec, _ = c
                w = mv(pc(basis[j]))
                mask = (jnp.arange(m + 1) <= j).astype(dtype)
                h = (basis @ w) * mask
                w0n = jnp.linalg.norm(w)
                w = w - h @ basis
                hn = jnp.linalg.norm(w)

                def reorthogonalise(args):
                    w, h = args
                    h2 = (basis @ w) * mask
                    return w - h2 @ basis, h + h2

                # "Twice is enough" (Kahan-Parlett): a second classical Gram-Schmidt pass
                # only when the first one cancelled much of w; each pass reads the whole
                # basis, which dominates the cost of an iteration for cheap operators.
                w, h = jax.lax.cond(hn < 0.7 * w0n, reorthogonalise, lambda args: args, (w, h))
                hn = jnp.linalg.norm(w)
                breakdown = hn <= tiny * (1.0 + jnp.linalg.norm(h))
                safe = jnp.where(breakdown, 1.0, hn)
                basis = basis.at[j + 1].set(jnp.where(breakdown, 0.0, w / safe))

                def rot(i, hh):
                    t = cs[i] * hh[i] + sn[i] * hh[i + 1]
                    u = -sn[i] * hh[i] + cs[i] * hh[i + 1]
                    keep = i < j
                    return (
                        hh.at[i]
                        .set(jnp.where(keep, t, hh[i]))
                        .at[i + 1]
                        .set(jnp.where(keep, u, hh[i + 1]))
                    )

                h = jax.lax.fori_loop(0, m, rot, h.at[j + 1].set(hn))
                a, bb = h[j], h[j + 1]
                rho = jnp.hypot(a, bb)
                c_j = jnp.where(rho > 0, a / jnp.where(rho > 0, rho, 1.0), 1.0)
                s_j = jnp.where(rho > 0, bb / jnp.where(rho > 0, rho, 1.0), 0.0)
                h = h.at[j].set(rho).at[j + 1].set(0.0)
                hess = hess.at[:, j].set(h)
                cs = cs.at[j].set(c_j)
                sn = sn.at[j].set(s_j)
                gj = gvec[j]
                gvec = gvec.at[j].set(c_j * gj).at[j + 1].set(-s_j * gj)
                return j + 1, basis, hess, cs, sn, gvec, breakdown

            k, basis, hess, _, _, gvec, _ = jax.lax.while_loop(
                inner_cond, inner_body, (0, basis, hess, cs, sn, gvec, False)
            )
            idx = jnp.arange(m)
            used = idx < k
            rmat = hess[:m, :m]
            diag = jnp.where(used & (jnp.diagonal(rmat) != 0), jnp.diagonal(rmat), 1.0)
            rmat = jnp.where(used[:, None] & used[None, :], rmat, 0.0)
            rmat = rmat.at[idx, idx].set(diag)
            y = jax.scipy.linalg.solve_triangular(rmat, jnp.where(used, gvec[:m], 0.0))
            x = x + pc(y @ basis[:m])
            r = b - mv(x)
            return x, r, jnp.linalg.norm(r), steps + k

        def outer_cond(c):
            _, _, rnorm, steps, stall = c
            return (rnorm > target) & (steps < self.max_steps) & (stall < self.stagnation_cycles)

        def outer_body(c):
            x, r, rnorm, steps, stall = c
            x, r, new_norm, steps = cycle(x, r, rnorm, steps)
            stall = jnp.where(new_norm < 0.9 * rnorm, 0, stall + 1)
            return x, r, new_norm, steps, stall

        x0 = jnp.zeros_like(b)
        x, _, rnorm, steps, stall = jax.lax.while_loop(
            outer_cond, outer_body, (x0, b, bnorm, jnp.array(0), jnp.array(0))
        )
        result = lx.RESULTS.where(
            rnorm <= target,
            lx.RESULTS.successful,
            lx.RESULTS.where(
                stall >= self.stagnation_cycles,
                lx.RESULTS.stagnation,
                lx.RESULTS.max_steps_reached,
            ),
        )
        return unravel(x), result, {"num_steps": steps, "residual_norm": rnorm}

    def transpose(self, state, options):
        out = {}
        if "preconditioner" in options:
            out["preconditioner"] = options["preconditioner"].transpose()
        return state.transpose(), out

    def conj(self, state, options):
        out = {}
        if "preconditioner" in options:
            out["preconditioner"] = lx.conj(options["preconditioner"])
        return lx.conj(state), out

    def assume_full_rank(self):
        return True


# --------------------------------------------------------------------------------------
# Bordered Krylov solve
# --------------------------------------------------------------------------------------


class MatrixFreeSteadyState(eqx.Module):
    """A steady state from a matrix-free Krylov solve, with its convergence report.

    Attributes:
        rho: the density matrix (Hermitian, unit trace), shape ``(d, d)``.
        residual: ``‖L(ρ)‖_F`` recomputed at the returned state.
        iterations: GMRES iterations spent (preconditioned applications of ``L``,
            not counting one residual evaluation per restart).
        converged: whether GMRES met its tolerance (``‖b - A x‖ <= tol ‖b‖`` for the
            bordered system) and ``residual <= residual_tol``.
    """

    rho: Array
    residual: Array
    iterations: Array
    converged: Array


_DEFAULTS = dict(
    tol=1e-14, residual_tol=1e-10, max_iterations=3000, restart=40, stagnation_cycles=10
)


def _options(solver_options: dict) -> dict:
    unknown = set(solver_options) - set(_DEFAULTS)
    if unknown:
        raise TypeError(f"unexpected solver options {sorted(unknown)}; valid: {sorted(_DEFAULTS)}")
    opts = {**_DEFAULTS, **solver_options}
    if int(opts["restart"]) < 1 or int(opts["max_iterations"]) < 1:
        raise ValueError("solver options: restart and max_iterations must be >= 1")
    return opts


def _solve_packed(
    apply_l: Callable[[Array], Array],
    precondition: Callable[[Array], Array] | None,
    d: int,
    dtype,
    opts: dict,
    name: str,
    throw: bool,
) -> MatrixFreeSteadyState:
    """Solve ``L(x) + u tr(x) = u`` on packed Hermitian matrices by restarted GMRES."""
    eye = jnp.eye(d, dtype=dtype)
    u = eye / d

    def bordered(s: Array) -> Array:
        return apply_l(s) + jnp.trace(s) * u

    structure = jax.ShapeDtypeStruct((d, d), dtype)
    operator = lx.FunctionLinearOperator(bordered, structure)
    tol = float(opts["tol"])
    solver = _GMRES(
        rtol=tol,
        atol=0.0,
        restart=min(int(opts["restart"]), d * d),
        max_steps=int(opts["max_iterations"]),
        stagnation_cycles=int(opts["stagnation_cycles"]),
    )
    options = {}
    if precondition is not None:
        options["preconditioner"] = lx.FunctionLinearOperator(precondition, structure)
    sol = lx.linear_solve(operator, u, solver, options=options, throw=False)
    s = sol.value
    s = s / jnp.trace(s)  # exact in exact arithmetic (tr L = 0); removes rounding drift
    residual = jnp.linalg.norm(apply_l(s))  # ‖pack(X)‖_F = ‖X‖_F for Hermitian X
    iterations = sol.stats["num_steps"]
    ok = (
        (sol.result == lx.RESULTS.successful)
        & jnp.isfinite(residual)
        & (residual <= opts["residual_tol"])
    )
    if throw:
        s = eqx.error_if(
            s,
            ~ok,
            f"{name}: the matrix-free steady-state solve did not converge (residual "
            f"tolerance tol={opts['tol']:g} not met, or ‖L(ρ)‖ above residual_tol="
            f"{opts['residual_tol']:g}, at the iteration cap or on stagnation). Raise "
            "max_iterations or restart, or loosen the tolerances; a Lindbladian without a "
            "unique steady state also ends here.",
        )
    return MatrixFreeSteadyState(
        rho=_unpack(s), residual=residual, iterations=iterations, converged=ok
    )


def steady_state_matrix_free(
    apply_L: Callable[[Array], Array],
    d: int,
    *,
    preconditioner: Callable[[Array], Array] | None = None,
    dtype=None,
    throw: bool = True,
    **solver_options,
) -> MatrixFreeSteadyState:
    """Unique steady state of a Lindbladian given as a function, by preconditioned GMRES.

    Solves ``L(ρ) = 0, tr ρ = 1`` through the bordered system ``L(x) + tr(x) I/d = I/d``
    (well posed iff ``ker L`` is one-dimensional) over Hermitian matrices. The solve is
    implicitly differentiable (``lineax``): gradients with respect to anything ``apply_L``
    closes over cost one adjoint Krylov solve.

    Args:
        apply_L: ``X -> L(X)`` on complex ``(d, d)`` matrices; must be linear and map
            Hermitian matrices to Hermitian matrices (every Lindbladian does). Never
            materialised.
        d: Hilbert-space dimension (static).
        preconditioner: optional ``X -> M(X)`` approximating ``L^{-1}`` (on Hermitian
            matrices; linear). Without one GMRES is plain and often slow.
        dtype: real dtype of the Krylov vectors (default: float64 when x64 is on).
        throw: raise (``EquinoxRuntimeError``) when the solve does not converge; with
            ``False`` the result's ``converged`` flag reports it instead.
        **solver_options: ``tol`` (GMRES tolerance relative to ``‖I/d‖``, 1e-14),
            ``residual_tol`` (accepted
            ``‖L(ρ)‖_F``, 1e-10), ``max_iterations`` (3000), ``restart`` (40),
            ``stagnation_cycles`` (10).

    Returns:
        :class:`MatrixFreeSteadyState` (``rho``, ``residual``, ``iterations``,
        ``converged``).

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> tau = jnp.diag(jnp.array([0.8, 0.2]))
        >>> H = jnp.array([[0.0, 0.3], [0.3, 1.0]])
        >>> L = lambda X: -1j * (H @ X - X @ H) + (tau * jnp.trace(X) - X)
        >>> ss = jaxqep.qrm.steady_state_matrix_free(L, 2)
        >>> bool(ss.converged), bool(ss.residual < 1e-10)
        (True, True)
    """
    d = int(d)
    opts = _options(solver_options)
    if dtype is None:
        dtype = jnp.result_type(float)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        raise TypeError("dtype: give the real dtype of the packed Krylov vectors")

    def apply_packed(s: Array) -> Array:
        return _pack(apply_L(_unpack(s))).astype(dtype)

    prec: Callable[[Array], Array] | None = (
        None
        if preconditioner is None
        else lambda s: _pack(preconditioner(_unpack(s))).astype(dtype)
    )

    return _solve_packed(apply_packed, prec, d, dtype, opts, "L", throw)


# --------------------------------------------------------------------------------------
# Tripartite reset models (chains with resets on their end sites)
# --------------------------------------------------------------------------------------


class TripartiteSteadyStates(eqx.Module):
    """The three steady states of a tripartite reset model, from matrix-free solves.

    Attributes:
        rho: steady state ``ρ⁺_g`` of ``L_g``, ``(d, d)``.
        partial_states: ``(ρ^A, ρ^B)``, steady states of ``L^A_{λg}``, ``L^B_{(1-λ)g}``.
        residuals: ``‖L_k(ρ_k)‖_F`` for ``(L_g, L^A, L^B)``, shape ``(3,)``.
        iterations: GMRES iterations of the three solves, shape ``(3,)``.
        converged: per-solve convergence flags, shape ``(3,)``.
    """

    rho: Array
    partial_states: Array
    residuals: Array
    iterations: Array
    converged: Array


def _tripartite_parts(h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam):
    """``(H coefficient, resets)`` of ``L_g``, ``L^A_{λg}`` and ``L^B_{(1-λ)g}``."""
    both = _Resets(tau_a, tau_b, gamma_a, gamma_b, dims)
    only_a = _Resets(tau_a, None, gamma_a, gamma_b, dims)
    only_b = _Resets(None, tau_b, gamma_a, gamma_b, dims)
    return ((g, both), (g * lam, only_a), (g * (1.0 - lam), only_b))


def _tripartite_states(h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam, opts, throw):
    d = h.shape[0]
    rdtype = jnp.real(jnp.zeros((), jnp.result_type(h.dtype, tau_a.dtype, float))).dtype
    names = ("L_g (total)", "L^A (part A)", "L^B (part B)")
    sols = []
    for (coef, resets), name in zip(
        _tripartite_parts(h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam), names
    ):
        apply_l = _lindblad_packed(h, coef, resets)
        prec = _two_level_preconditioner(h, coef, resets)
        sols.append(_solve_packed(apply_l, prec, d, rdtype, opts, name, throw))
    return TripartiteSteadyStates(
        rho=sols[0].rho,
        partial_states=jnp.stack([sols[1].rho, sols[2].rho]),
        residuals=jnp.stack([s.residual for s in sols]),
        iterations=jnp.stack([s.iterations for s in sols]),
        converged=jnp.stack([s.converged for s in sols]),
    )


def tripartite_steady_states_iterative(
    H: ArrayLike,
    tau_A: ArrayLike,
    tau_B: ArrayLike,
    gamma_A: ArrayLike,
    gamma_B: ArrayLike,
    dims: Sequence[int],
    g: ArrayLike,
    lam: ArrayLike,
    *,
    throw: bool = True,
    **solver_options,
) -> TripartiteSteadyStates:
    """Steady states ``ρ⁺_g, ρ^A, ρ^B`` of a tripartite reset model, matrix-free.

    Same model and arguments as :func:`jaxqep.qrm.tripartite_entropy_production`; for an
    N-qubit chain with resets on its end sites, ``dims = (2, 2**(N-2), 2)``. Three
    preconditioned GMRES solves (see the module docstring), each costing a few real
    ``d x d`` matrix products per iteration; memory ``O(restart · d²)``.

    Args:
        H, tau_A, tau_B, gamma_A, gamma_B, dims, g, lam: as in
            :func:`~jaxqep.qrm.tripartite_entropy_production`.
        throw: raise if a solve does not converge (else see ``converged``).
        **solver_options: see :func:`steady_state_matrix_free`.

    Returns:
        :class:`TripartiteSteadyStates`, including residuals and iteration counts.

    Example:
        >>> import jaxqep
        >>> m = jaxqep.models.reset_chain(6)
        >>> st = jaxqep.qrm.tripartite_steady_states_iterative(*m.tripartite_args(), 1.0, 0.3)
        >>> bool(st.converged.all())
        True
    """
    from ._tripartite import validate_coupling, validate_tripartite

    h, tau_a, tau_b, gamma_a, gamma_b, dims = validate_tripartite(
        H, tau_A, tau_B, gamma_A, gamma_B, dims
    )
    g, lam = validate_coupling(g, lam)
    return _tripartite_states(
        h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam, _options(solver_options), throw
    )


def tripartite_entropy_production_iterative(
    h: Array,
    tau_a: Array,
    tau_b: Array,
    gamma_a: Array,
    gamma_b: Array,
    dims: Sequence[int],
    g: Array,
    lam: Array,
    **solver_options,
) -> EntropyProduction:
    """Matrix-free route of :func:`jaxqep.qrm.tripartite_entropy_production`.

    Takes already validated arrays (the public entry point validates and dispatches here
    for ``method="iterative"``, or ``"auto"`` with ``d > 32``). Raises when any of the
    three steady-state solves does not converge.

    Args:
        h: Hermitian ``(d, d)``; tau_a, tau_b: reset states; gamma_a, gamma_b: rates;
        dims: ``(n_A, n_C, n_B)``; g: coupling; lam: splitting.
        **solver_options: see :func:`steady_state_matrix_free`.

    Returns:
        :class:`EntropyProduction` (parts and fluxes ordered ``(A, B)``; ``residual`` is
        the largest of the three ``‖L_k(ρ_k)‖_F``).

    Example:
        >>> import jaxqep
        >>> m = jaxqep.models.reset_chain(6)
        >>> ep = jaxqep.qrm.tripartite_entropy_production(*m.tripartite_args(), 1.0, 0.3)
        >>> bool(ep.total > 0)
        True
    """
    states = _tripartite_states(
        h, tau_a, tau_b, gamma_a, gamma_b, tuple(dims), g, lam, _options(solver_options), True
    )
    return _entropy_production_from_states(states, h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam)


def _entropy_production_from_states(
    states: TripartiteSteadyStates, h, tau_a, tau_b, gamma_a, gamma_b, dims, g, lam
) -> EntropyProduction:
    from ._tripartite import tripartite_result

    return tripartite_result(
        h,
        tau_a,
        tau_b,
        gamma_a,
        gamma_b,
        dims,
        g,
        lam,
        states.rho,
        states.partial_states,
        jnp.max(states.residuals),
    )
