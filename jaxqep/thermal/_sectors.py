"""Symmetry sectors of a GKLS model: block-diagonal steady states, solved block by block.

A conserved quantity ``Q`` of ``H`` (and of ``G = Σ_k L_k†L_k``) whose eigenspaces every
jump maps into one another, one onto one (``L_k`` a ladder operator of ``Q``: the boundary
``σ±`` of an XXZ chain change the magnetisation by ±1), keeps the block-diagonal matrices
``ρ = ⊕_a ρ_aa`` invariant under ``L``: ``[H, ·]`` and ``{G, ·}`` act inside each block and
``L_k ρ_aa L_k†`` lands in one block ``(b, b)``. The bordered steady-state operator then
maps that subspace into itself; restricted to it, it is still injective (a restriction of
an injective map) and so bijective, and ``u = I/d`` lies in it: the unique steady state is
block diagonal, and only ``Σ_a n_a²`` unknowns are solved for (``C(2N, N)`` for an N-site
chain: 184,756 instead of 1,048,576 at N = 10).

Detection (:func:`detect_sectors`, run once when a :class:`~jaxqep.GKLSModel` is built) is
static and exact: it reads only non-zero patterns, those of the values where they are
concrete and the model's static patterns (``pattern=``, checked against the values) where
they are traced: the blocks are the connected components of the pattern of ``H`` and ``G``,
and the structure is used only if every jump maps each block into a single block. A
symmetry-breaking term (one entry between two blocks) merges blocks or sends a block to two
targets, and the solver falls back to the full space. The preconditioner runs per block as
well: one ``eigh`` per block (a dense ``eigh`` of ``H`` would mix degenerate levels of
different blocks), coherences divided by their secular decay inside each block, populations
from the ``d × d`` bordered Pauli matrix.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import lineax as lx
import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph

from .._errors import error_if
from .._krylov import GMRES
from .._solution import RESULTS
from ..qrm._matrix_free._packing import _pack, _unpack

__all__ = ["Sectors", "detect_sectors", "find_sectors", "SectorSolve", "solve_sectors"]

# Sparse (ELL) products inside a block when a row holds at most this fraction non-zeros.
_ELL_MAX_FILL = 1 / 8
# More blocks than this: fall back to the full space (a Python loop per block at trace time).
_MAX_BLOCKS = 64


class Sectors:
    """Static block structure: basis indices of each block and, per jump, its block map.

    Attributes:
        blocks: index arrays (sorted) of the blocks, covering ``0 … d−1``.
        maps: for every jump ``k``, the pairs ``(a, b)``: ``L_k`` maps block ``a`` into
            block ``b`` (at most one ``b`` per ``a``).
        h_patterns: non-zero pattern of ``H`` in each diagonal block ``(a, a)``.
        jump_patterns: for every jump ``k``, the pattern of its block ``(b, a)`` for each
            pair of ``maps[k]``.
    """

    __slots__ = ("blocks", "maps", "h_patterns", "jump_patterns", "_key")

    def __init__(self, blocks, maps, h_patterns, jump_patterns):
        self.blocks = tuple(np.asarray(b, np.int64) for b in blocks)
        self.maps = tuple(tuple((int(a), int(b)) for a, b in m) for m in maps)
        self.h_patterns = tuple(np.asarray(p, bool) for p in h_patterns)
        self.jump_patterns = tuple(tuple(np.asarray(p, bool) for p in m) for m in jump_patterns)
        self._key = (
            tuple(b.tobytes() for b in self.blocks),
            self.maps,
            tuple(p.tobytes() for p in self.h_patterns),
            tuple(p.tobytes() for m in self.jump_patterns for p in m),
        )

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(int(b.size) for b in self.blocks)

    @property
    def unknowns(self) -> int:
        """Real unknowns of the packed block-diagonal state, ``Σ_a n_a²``."""
        return sum(n * n for n in self.sizes)

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other) -> bool:
        return isinstance(other, Sectors) and other._key == self._key

    def __repr__(self) -> str:
        return f"Sectors(sizes={self.sizes}, unknowns={self.unknowns})"


def _concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)  # pyright: ignore[reportAttributeAccessIssue]


def detect_sectors(h, jumps, h_pattern=None, jump_pattern=None) -> Sectors | None:
    """The sector structure of ``(H, jumps)`` from their non-zeros, or ``None``.

    Concrete values give their exact non-zero patterns; a traced array uses its static
    pattern (``h_pattern``/``jump_pattern``, boolean arrays or ``StaticPattern``), and with
    neither the answer is ``None``. ``None`` also when the patterns connect all of the
    basis, when a jump maps one block into two (no block-diagonal invariant subspace), or
    beyond 64 blocks. Called once by :class:`~jaxqep.GKLSModel` at construction.

    Args:
        h: the Hamiltonian ``(d, d)``.
        jumps: the jump operators ``(K, d, d)``.
        h_pattern: static non-zero pattern of ``h`` (used when ``h`` is traced).
        jump_pattern: static non-zero pattern of ``jumps`` (used when they are traced).

    Returns:
        :class:`Sectors` or ``None``.

    Example:
        >>> import numpy as np
        >>> from jaxqep.thermal._sectors import detect_sectors
        >>> h = np.diag([0.0, 1.0, 1.0, 2.0]); h[1, 2] = h[2, 1] = 0.5  # two spins, XX
        >>> sm = np.zeros((4, 4)); sm[0, 2] = sm[1, 3] = 1.0            # σ⁻ on spin 0
        >>> detect_sectors(h, np.stack([sm, sm.T])).sizes
        (1, 2, 1)
        >>> h[0, 1] = h[1, 0] = 0.1                                     # breaks it
        >>> detect_sectors(h, np.stack([sm, sm.T])) is None
        True
    """

    def pattern(x, given):
        if _concrete(x):
            return np.asarray(x) != 0
        if given is None:
            return None
        return np.asarray(getattr(given, "array", given), bool)

    hp = pattern(h, h_pattern)
    jp = pattern(jumps, jump_pattern)
    if hp is None or jp is None:
        return None
    d = hp.shape[0]
    jps = [sp.csr_matrix(j) for j in jp]
    hs = sp.csr_matrix(hp)
    conn = (hs + hs.T).astype(np.float32)
    for j in jps:
        conn = conn + (j.T.astype(np.float32) @ j.astype(np.float32))  # pattern of L†L
    n, lab = csgraph.connected_components(conn, directed=False)
    if n < 2 or n > _MAX_BLOCKS:
        return None
    maps = []
    for j in jps:
        rows, cols = j.nonzero()
        pairs = np.unique(np.stack([lab[cols], lab[rows]], axis=1), axis=0)  # (source, target)
        if pairs.size and np.unique(pairs[:, 0]).size != pairs.shape[0]:
            return None  # a block sent to two blocks: L ρ L† leaves the block diagonal
        maps.append([tuple(p) for p in pairs])
    blocks = [np.flatnonzero(lab == a) for a in range(n)]
    assert sum(b.size for b in blocks) == d
    h_pats = [hp[np.ix_(i, i)] | hp[np.ix_(i, i)].T for i in blocks]
    j_pats = [[jp[k][np.ix_(blocks[b], blocks[a])] for a, b in m] for k, m in enumerate(maps)]
    return Sectors(blocks, maps, h_pats, j_pats)


def find_sectors(model) -> Sectors | None:
    """The sector structure of a :class:`~jaxqep.GKLSModel` (read at its construction by
    :func:`detect_sectors`), or ``None``.

    Args:
        model: a :class:`~jaxqep.GKLSModel`.

    Returns:
        :class:`Sectors` or ``None``.

    Example:
        >>> import jaxqep
        >>> from jaxqep.thermal._sectors import find_sectors
        >>> m = jaxqep.thermal.xxz_chain(4, 1.0, 0.5, 1.0, (0.1, 0.1), (0.5, 1.0))
        >>> find_sectors(m).sizes
        (1, 4, 6, 4, 1)
    """
    return getattr(model, "sectors", None)


# ---------------------------------------------------------------------- block products
def _rect_left(pattern: np.ndarray, gather):
    """``(X -> A X, X -> A X A†)`` for an ``(m, n)`` block ``A`` with static pattern
    ``pattern``; ``gather(rows, cols)`` reads entries of ``A`` (traced values are fine).

    ELL gathers when every row has at most ``n/8`` non-zeros, else dense products; with
    one non-zero per row (ladder operators) ``A X A† = (a a*ᵀ) ∘ X[c, c]``, one gather.
    Few operations per block, whatever the number of non-zeros: compile time grows with
    the number of operations, and there is one set per block.
    """
    m, n = pattern.shape
    counts = pattern.sum(axis=1)
    k = max(int(counts.max(initial=0)), 1)
    if k > _ELL_MAX_FILL * n or n < 16 and k > 1:
        dense = gather(np.arange(m)[:, None], np.arange(n)[None, :])
        return (lambda x: dense @ x), (lambda x: dense @ x @ _dag(dense))
    order = np.argsort(~pattern, axis=1, kind="stable")[:, :k]
    valid = np.arange(k)[None, :] < counts[:, None]
    col = np.where(valid, order, 0).astype(np.int32)
    vals = jnp.where(valid, gather(np.arange(m)[:, None], col), 0)
    if k == 1:
        c = col[:, 0]
        v = vals[:, 0]
        vv = v[:, None] * jnp.conj(v)[None, :]
        return (lambda x: v[:, None] * x[c]), (lambda x: vv * x[np.ix_(c, c)])

    def left(x):
        # one gather (m, k, n) and one contraction
        return jnp.einsum("mk,mkn->mn", vals, x[col])

    return left, (lambda x: _dag(left(_dag(left(x)))))


def _dag(x):
    return jnp.conj(x.T)


class _BlockOperators:
    """``L`` and the heat currents on block-diagonal matrices (tuples of blocks)."""

    def __init__(self, model, sec: Sectors):
        h, ls = model.H, model.jumps
        blocks = sec.blocks
        self.sec = sec
        self.jump_lefts = []  # per jump: list of (a, b, X_a -> L_ba X_a, L_ba as dense)
        g_blocks = [jnp.zeros((n, n), h.dtype) for n in sec.sizes]
        g_pats = [np.zeros((n, n), bool) for n in sec.sizes]
        self.gk = []  # per jump: {a: G_k restricted to block a}
        for k, pairs in enumerate(sec.maps):
            lefts = []
            gk = {}
            for (a, b), pat in zip(pairs, sec.jump_patterns[k]):
                ia, ib = blocks[a], blocks[b]
                left, sandwich = _rect_left(
                    pat, lambda r, c, k=k, ia=ia, ib=ib: ls[k][ib[r], ia[c]]
                )
                dense = ls[k][np.ix_(ib, ia)]
                lefts.append((a, b, left, sandwich, dense))
                gka = _dag(dense) @ dense
                gk[a] = gka
                g_blocks[a] = g_blocks[a] + gka
                pf = pat.astype(np.float32)
                g_pats[a] |= (pf.T @ pf) != 0
            self.jump_lefts.append(lefts)
            self.gk.append(gk)
        self.g_blocks = g_blocks
        self.h_blocks = [h[np.ix_(i, i)] for i in blocks]
        self.heff_left = []
        for a in range(len(blocks)):
            heff = self.h_blocks[a] - 0.5j * g_blocks[a]
            pat = sec.h_patterns[a] | g_pats[a]
            left, _ = _rect_left(pat, lambda r, c, heff=heff: heff[r, c])
            self.heff_left.append(left)

    def apply(self, xs):
        """``L`` on a tuple of complex Hermitian blocks."""
        out = []
        for a, x in enumerate(xs):
            y = self.heff_left[a](x)
            out.append(-1j * (y - _dag(y)))  # −i(H_eff X − X H_eff†)
        for lefts in self.jump_lefts:
            for a, b, _, sandwich, _ in lefts:
                out[b] = out[b] + sandwich(xs[a])  # L X L†
        return out

    def currents(self, xs, energy):
        """``tr(E D_k(ρ))`` per jump for the block-diagonal ``ρ`` (``E``'s diagonal blocks)."""
        e_blocks = [energy[np.ix_(i, i)] for i in self.sec.blocks]
        out = []
        for lefts in self.jump_lefts:
            t = jnp.zeros((), jnp.real(energy).dtype)
            for a, b, left, sandwich, _ in lefts:
                z = sandwich(xs[a])  # L ρ L†
                t = t + jnp.real(jnp.sum(e_blocks[b].T * z))
                # ½ tr(E{L†L, ρ}) = Re tr((L E)† (L ρ)) for Hermitian E, ρ
                t = t - jnp.real(jnp.sum(jnp.conj(left(e_blocks[a])) * left(xs[a])))
            out.append(t)
        return jnp.stack(out)


def _block_preconditioner(model, ops: _BlockOperators):
    """Packed blocks ``S -> M(S)``: the secular approximation of the bordered ``L``,
    inverted, with one ``eigh`` per block (held fixed: ``stop_gradient``)."""
    sec = ops.sec
    d = model.d
    hb, gb, jl = jax.lax.stop_gradient(
        (ops.h_blocks, ops.g_blocks, [[x[4] for x in lefts] for lefts in ops.jump_lefts])
    )
    if model.real:  # real H and jumps (by dtype): real eigenvectors and products
        hb, gb = [jnp.real(x) for x in hb], [jnp.real(x) for x in gb]
        jl = [[jnp.real(x) for x in m] for m in jl]
    eig = [jnp.linalg.eigh(x) for x in hb]
    vs = [v for _, v in eig]
    es = [e for e, _ in eig]
    gms = [jnp.real(jnp.diagonal(_dag(v) @ g @ v)) for v, g in zip(vs, gb)]
    offs = np.concatenate([[0], np.cumsum(sec.sizes)])
    w = jnp.zeros((d, d))
    for k, lefts in enumerate(ops.jump_lefts):
        for (a, b, *_), dense in zip(lefts, jl[k]):
            blk = jnp.abs(_dag(vs[b]) @ dense @ vs[a]) ** 2
            w = w.at[offs[b] : offs[b + 1], offs[a] : offs[a + 1]].add(blk)
    gm = jnp.concatenate(gms)
    lu = jsl.lu_factor(w - jnp.diag(gm) + 1.0 / d)  # bordered Pauli matrix (d × d)
    invs = []
    for e, g in zip(es, gms):
        n = e.shape[0]
        off = ~np.eye(n, dtype=bool)
        denom = -1j * (e[:, None] - e[None, :]) - 0.5 * (g[:, None] + g[None, :])
        invs.append(jnp.where(off, 1 / jnp.where(off, denom, 1), 0))

    def precond(ss):
        if model.real:  # pack(V† X V) = Vᵀ pack(X) V for real V
            ys = [_unpack(v.T @ s @ v) for v, s in zip(vs, ss)]
        else:
            ys = [_dag(v) @ _unpack(s) @ v for v, s in zip(vs, ss)]
        pops = jsl.lu_solve(lu, jnp.concatenate([jnp.real(jnp.diagonal(y)) for y in ys]))
        out = []
        for a, (v, y, inv) in enumerate(zip(vs, ys, invs)):
            core = inv * y + jnp.diag(pops[offs[a] : offs[a + 1]])
            if model.real:
                out.append(v @ _pack(core) @ v.T)
            else:
                out.append(_pack(v @ core @ _dag(v)).astype(ss[a].dtype))
        return tuple(out)

    return precond


class SectorSolve:
    """What :func:`solve_sectors` returns: the dense state and the block data."""

    def __init__(self, rho, blocks, residual, iterations, currents):
        self.rho = rho
        self.blocks = blocks
        self.residual = residual
        self.iterations = iterations
        self.currents = currents


def solve_sectors(model, sec: Sectors, opts: dict, name: str = "L") -> SectorSolve:
    """Bordered GMRES solve ``L(x) + tr(x) I/d = I/d`` on packed block-diagonal matrices.

    ``opts`` in the form of :meth:`AbstractKrylovSolver.options`. Raises (under ``jit``:
    ``EquinoxRuntimeError``; code ``RESULTS.not_converged`` for ``throw=False``) when
    GMRES misses its tolerance or ``‖L(ρ)‖_F > residual_tol``.
    """
    d = model.d
    dtype = jnp.real(model.H).dtype
    ops = _BlockOperators(model, sec)
    precond = _block_preconditioner(model, ops)
    sizes = sec.sizes

    def apply_packed(ss):
        return tuple(_pack(y).astype(dtype) for y in ops.apply([_unpack(s) for s in ss]))

    def trace(ss):
        return sum(jnp.trace(s) for s in ss)

    u = tuple(jnp.eye(n, dtype=dtype) / d for n in sizes)
    structure = tuple(jax.ShapeDtypeStruct((n, n), dtype) for n in sizes)
    operator = lx.FunctionLinearOperator(
        lambda ss: jax.tree.map(lambda y, uu: y + trace(ss) * uu, apply_packed(ss), u), structure
    )
    solver = GMRES(
        rtol=float(opts["tol"]),
        atol=0.0,
        restart=min(int(opts["restart"]), sec.unknowns),
        max_steps=int(opts["max_iterations"]),
        stagnation_cycles=int(opts["stagnation_cycles"]),
    )
    pc = lx.FunctionLinearOperator(precond, structure)
    sol = lx.linear_solve(operator, u, solver, options={"preconditioner": pc}, throw=False)
    tr = trace(sol.value)
    ss = tuple(s / tr for s in sol.value)  # tr L = 0: removes rounding drift only
    residual = jnp.sqrt(sum(jnp.sum(y**2) for y in apply_packed(ss)))
    ok = (
        (sol.result == lx.RESULTS.successful)
        & jnp.isfinite(residual)
        & (residual <= opts["residual_tol"])
    )
    ss = error_if(
        ss,
        ~ok,
        f"{name}: the matrix-free steady-state solve did not converge (residual "
        f"tolerance tol={opts['tol']:g} not met, or ‖L(ρ)‖ above residual_tol="
        f"{opts['residual_tol']:g}, at the iteration cap or on stagnation). Raise "
        "max_iterations or restart, or loosen the tolerances; a Lindbladian without a "
        "unique steady state also ends here.",
        RESULTS.not_converged,
    )
    xs = [_unpack(s) for s in ss]
    rho = jnp.zeros((d, d), xs[0].dtype)
    for i, x in zip(sec.blocks, xs):
        rho = rho.at[np.ix_(i, i)].set(x)
    currents = ops.currents(xs, model.energy())
    return SectorSolve(rho, xs, residual, sol.stats["num_steps"], currents)
