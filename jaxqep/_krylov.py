"""The package's GMRES: restarted, right-preconditioned, as a lineax linear solver.

One Krylov solver for every matrix-free solve of jaxqep (the bordered Lindbladian of the
reset chains today; Gaussian Schur complements and GKLS generators are meant to use it
too). Use it like any lineax solver::

    sol = lineax.linear_solve(operator, b, GMRES(rtol=1e-12, atol=0.0),
                              options={"preconditioner": M}, throw=False)

with ``M`` a ``lineax.AbstractLinearOperator`` approximating ``operator⁻¹`` (applied on
the right: ``A M y = b``, ``x = M y``). ``sol.result`` is ``successful``, ``stagnation``
or ``max_steps_reached``; ``sol.stats`` holds ``num_steps`` and ``residual_norm``.
Derivatives are lineax's implicit ones (one further GMRES solve with the transposed
operator and preconditioner per JVP/VJP), never a backpropagation through the iterations.

Why not ``lx.GMRES``: lineax 0.1.1 orthogonalises by one pass of classical Gram-Schmidt and
stops on the *preconditioned* residual; on the ill-conditioned reset models of
:mod:`jaxqep.qrm._matrix_free` (weak coupling) that loses orthogonality and stagnates after
hundreds of iterations where a stable GMRES needs tens; see :class:`GMRES` for what is done
instead.
"""

from __future__ import annotations

import numbers

import jax
import jax.flatten_util
import jax.numpy as jnp
import lineax as lx

__all__ = ["GMRES"]


class GMRES(lx.AbstractLinearSolver):
    """Restarted GMRES(m), right-preconditioned, for real vectors (a lineax solver).

    Classical Gram-Schmidt with selective re-orthogonalisation (CGS2), Givens rotations,
    and a stopping rule on the *true* residual ``‖b - A x‖_2 <= atol + rtol ‖b‖`` (right
    preconditioning minimises it). The solve is reported successful if that holds, or the
    normwise backward error does: ``‖b - A x‖ <= atol + rtol (‖b‖ + ‖A‖ ‖x‖)`` with ``‖A‖``
    estimated from the Krylov directions (at ``rtol ~ 1e-14`` the first test can sit at the
    rounding floor when ``‖x‖ >> ‖b‖ / ‖A‖``, e.g. in adjoint solves). A restart cycle that
    reduces the residual by less than 10 % counts as stagnating. Being a lineax solver, it
    inherits lineax's implicit differentiation: JVPs solve with ``A`` and VJPs with ``A^T``
    (preconditioner transposed alike).

    The vector and the operator's input/output structure may be any pytree of real arrays
    (they are flattened); complex vectors raise a ``TypeError`` (pack Hermitian matrices
    into real ones first, as :mod:`jaxqep.qrm._matrix_free._packing` does). The
    preconditioner, if any, is passed as ``options={"preconditioner": M}``, a linear
    operator with the structure of the operator.

    The Krylov basis is stored in chunks of ``chunk`` vectors and each Gram-Schmidt pass
    only touches the chunks in use (``lax.cond`` per chunk): for long vectors the passes
    are memory bound, and a masked product over the whole basis would read on average
    twice the vectors needed.

    Args:
        rtol: relative tolerance on the true residual, relative to ``‖b‖_2``.
        atol: absolute tolerance on the true residual.
        restart: Krylov dimension ``m`` between restarts (capped at the vector size).
        max_steps: cap on the total number of iterations (operator applications in the
            Arnoldi process, over all cycles).
        stagnation_cycles: consecutive restart cycles without a 10 % residual reduction
            after which the solve stops with ``lineax.RESULTS.stagnation``.
        chunk: basis vectors per storage chunk (a performance knob only).

    Raises:
        ValueError: if ``restart``, ``max_steps``, ``stagnation_cycles`` or ``chunk`` is
            below 1, or a concrete ``rtol``/``atol`` is negative or NaN.

    Example:
        >>> import jax.numpy as jnp, lineax as lx
        >>> from jaxqep._krylov import GMRES
        >>> a = jnp.array([[4.0, 1.0, 0.0], [2.0, 3.0, 1.0], [0.0, 1.0, 5.0]])
        >>> b = jnp.array([1.0, 2.0, 3.0])
        >>> jacobi = lx.MatrixLinearOperator(jnp.diag(1.0 / jnp.diag(a)))
        >>> sol = lx.linear_solve(
        ...     lx.MatrixLinearOperator(a), b, GMRES(rtol=1e-12, atol=0.0),
        ...     options={"preconditioner": jacobi},
        ... )
        >>> bool(jnp.allclose(a @ sol.value, b, rtol=0, atol=1e-12))
        True
        >>> int(sol.stats["num_steps"]) <= 3
        True
    """

    rtol: float
    atol: float
    restart: int = 60
    max_steps: int = 3000
    stagnation_cycles: int = 10
    chunk: int = 8

    def __check_init__(self):
        for name in ("restart", "max_steps", "stagnation_cycles", "chunk"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"GMRES: {name} must be >= 1, got {getattr(self, name)!r}")
        for name in ("rtol", "atol"):
            value = getattr(self, name)
            if isinstance(value, numbers.Real) and not float(value) >= 0:
                raise ValueError(f"GMRES: {name} must be >= 0, got {value!r}")

    def init(self, operator, options):
        del options
        return operator

    def compute(self, state, vector, options):
        operator = state
        precond = options.get("preconditioner")
        b, unravel = jax.flatten_util.ravel_pytree(vector)
        if jnp.iscomplexobj(b):
            raise TypeError("GMRES works on real vectors (pack Hermitian matrices first)")

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

        def converged(x, rnorm, anorm):
            # ‖r‖ <= target, or else a normwise backward error (Rigal-Gaches) ‖r‖ <=
            # rtol (‖b‖ + ‖A‖ ‖x‖). At rtol ~ 1e-14 the first can sit at the rounding floor
            # eps ‖A‖ ‖x‖ of the residual itself when ‖x‖ >> ‖b‖ / ‖A‖ (adjoint solves), and
            # is then met or missed by chance. Iterations still aim at the first: σ is
            # sensitive enough to ρ that the looser test alone costs digits (3e-9 relative
            # at N = 6).
            backward = self.atol + self.rtol * (bnorm + anorm * jnp.linalg.norm(x))
            return rnorm <= jnp.maximum(target, backward)

        tiny = jnp.finfo(dtype).tiny ** 0.5
        c = max(1, min(self.chunk, m + 1))
        nch = -(-(m + 1) // c)  # chunks holding the m + 1 basis vectors

        def get_row(chunks, row):
            branches = [lambda chs, k=k: chs[k][row % c] for k in range(nch)]
            return jax.lax.switch(row // c, branches, chunks)

        def set_row(chunks, row, v):
            return tuple(
                jax.lax.cond(
                    row // c == k, lambda bk, v: bk.at[row % c].set(v), lambda bk, v: bk, bk, v
                )
                for k, bk in enumerate(chunks)
            )

        def dots(chunks, w, j):
            """``V^T w`` over the vectors ``0..j`` (zeros beyond)."""
            parts = [
                jax.lax.cond(
                    k * c <= j, lambda bk, w: bk @ w, lambda bk, w: jnp.zeros(c, dtype), bk, w
                )
                for k, bk in enumerate(chunks)
            ]
            return jnp.where(jnp.arange(nch * c) <= j, jnp.concatenate(parts), 0.0)

        def subtract(chunks, coeffs, w, j):
            """``w - V coeffs`` over the vectors ``0..j``."""
            for k, bk in enumerate(chunks):
                w = jax.lax.cond(
                    k * c <= j,
                    lambda w, bk, ck: w - ck @ bk,
                    lambda w, bk, ck: w,
                    w,
                    bk,
                    coeffs[k * c : (k + 1) * c],
                )
            return w

        def cycle(x, r, rnorm, steps, anorm):
            chunks = tuple(jnp.zeros((c, n), dtype) for _ in range(nch))
            chunks = set_row(chunks, 0, r / rnorm)
            hess = jnp.zeros((m + 1, m), dtype)
            rot = jnp.eye(m + 1, dtype=dtype)
            gvec = jnp.zeros(m + 1, dtype).at[0].set(rnorm)

            def inner_cond(carry):
                j, _, _, _, gvec, done, _ = carry
                return (j < m) & (jnp.abs(gvec[j]) > target) & (steps + j < self.max_steps) & ~done

            def inner_body(carry):
                j, chunks, hess, rot, gvec, _, anorm = carry
                z = pc(get_row(chunks, j))
                w = mv(z)
                h = dots(chunks, w, j)
                w0n = jnp.linalg.norm(w)
                # ‖A z‖ / ‖z‖ over the Krylov directions: a lower bound of ‖A‖, close after
                # a few steps (for the backward error in `converged`).
                zn = jnp.linalg.norm(z)
                anorm = jnp.maximum(anorm, w0n / jnp.where(zn > 0, zn, 1.0))
                w = subtract(chunks, h, w, j)
                hn = jnp.linalg.norm(w)

                def reorthogonalise(args):
                    w, h = args
                    h2 = dots(chunks, w, j)
                    return subtract(chunks, h2, w, j), h + h2

                # Selective second classical Gram-Schmidt pass ("twice is enough"), when the
                # first cancelled more than 90% of w: the rounding error of the new direction
                # is then ~10 eps at most. Kahan-Parlett's 1/√2 would fire at nearly every
                # step (a good preconditioner makes A M v_j close to v_j) for no change of
                # the iteration counts, measured at N = 6, 8 and g in [0.01, 30].
                w, h = jax.lax.cond(hn < 0.1 * w0n, reorthogonalise, lambda args: args, (w, h))
                h = h[: m + 1]
                hn = jnp.linalg.norm(w)
                breakdown = hn <= tiny * (1.0 + jnp.linalg.norm(h))
                safe = jnp.where(breakdown, 1.0, hn)
                chunks = set_row(chunks, j + 1, jnp.where(breakdown, 0.0, w / safe))

                # The j earlier Givens rotations, as one product with their accumulated
                # orthogonal matrix G_{j-1}···G_0 (a loop over them was j iterations of a
                # few small kernels each, on CPU the largest part of a step of a small
                # problem); rows above j of `rot` are still those of the identity.
                h = rot @ h.at[j + 1].set(hn)
                a, bb = h[j], h[j + 1]
                rho = jnp.hypot(a, bb)
                c_j = jnp.where(rho > 0, a / jnp.where(rho > 0, rho, 1.0), 1.0)
                s_j = jnp.where(rho > 0, bb / jnp.where(rho > 0, rho, 1.0), 0.0)
                h = h.at[j].set(rho).at[j + 1].set(0.0)
                hess = hess.at[:, j].set(h)
                r0, r1 = rot[j], rot[j + 1]
                rot = rot.at[j].set(c_j * r0 + s_j * r1).at[j + 1].set(c_j * r1 - s_j * r0)
                gj = gvec[j]
                gvec = gvec.at[j].set(c_j * gj).at[j + 1].set(-s_j * gj)
                return j + 1, chunks, hess, rot, gvec, breakdown, anorm

            k, chunks, hess, _, gvec, _, anorm = jax.lax.while_loop(
                inner_cond, inner_body, (0, chunks, hess, rot, gvec, False, anorm)
            )
            idx = jnp.arange(m)
            used = idx < k
            rmat = hess[:m, :m]
            diag = jnp.where(used & (jnp.diagonal(rmat) != 0), jnp.diagonal(rmat), 1.0)
            rmat = jnp.where(used[:, None] & used[None, :], rmat, 0.0)
            rmat = rmat.at[idx, idx].set(diag)
            y = jax.scipy.linalg.solve_triangular(rmat, jnp.where(used, gvec[:m], 0.0))
            y = jnp.zeros(nch * c, dtype).at[:m].set(y)
            x = x - pc(subtract(chunks, y, jnp.zeros(n, dtype), k - 1))  # x + M V y
            r = b - mv(x)
            return x, r, jnp.linalg.norm(r), steps + k, anorm

        def outer_cond(carry):
            _, _, rnorm, steps, stall, _ = carry
            return (rnorm > target) & (steps < self.max_steps) & (stall < self.stagnation_cycles)

        def outer_body(carry):
            x, r, rnorm, steps, stall, anorm = carry
            x, r, new_norm, steps, anorm = cycle(x, r, rnorm, steps, anorm)
            stall = jnp.where(new_norm < 0.9 * rnorm, 0, stall + 1)
            return x, r, new_norm, steps, stall, anorm

        x0 = jnp.zeros_like(b)
        zero = jnp.zeros((), dtype)
        x, _, rnorm, steps, stall, anorm = jax.lax.while_loop(
            outer_cond, outer_body, (x0, b, bnorm, jnp.array(0), jnp.array(0), zero)
        )
        result = lx.RESULTS.where(
            converged(x, rnorm, anorm),
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
