"""Self-consistent reservoirs on rectangular lattices: :class:`EighSchur` with the
eigenbasis of a Kronecker-sum Hamiltonian ``H = H_x ⊗ 1 + 1 ⊗ H_y`` (why: see
:class:`KroneckerSchur`)."""

from __future__ import annotations

from ._gaussian_common import register_gaussian
from ._gaussian_eigh_schur import EighSchur, schur_routes

__all__ = ["KroneckerSchur"]


class KroneckerSchur(EighSchur):
    """:class:`EighSchur` for lattices ``H = H_x ⊗ 1 + 1 ⊗ H_y``: ``O(L² (l_x + l_y))``
    per Krylov step instead of ``O(L³)``.

    Rectangular lattices with any chain along each direction (open or periodic, any
    hopping and on-site profile along ``x`` and along ``y``, complex hoppings included),
    and 3D lattices as ``(x) ⊗ (yz)``; site ``(i, j)`` has index ``i l_y + j`` (the order
    of :func:`jaxqep.gaussian.lattice_hamiltonian`). The eigenbasis is ``U_x ⊗ U_y`` from
    two small ``eigh`` and is never formed: each product of :class:`EighSchur`'s Krylov
    step becomes a sequence of mode products (32 times fewer flops on a 32 × 32 lattice,
    and no ``L × L`` eigendecomposition). Why: with a probe on every site the NESS
    equation couples all ``L²`` entries of ``C``, and with a dense eigenbasis each
    Krylov step costs two ``L³`` products (2 × 2.1 GFLOP at ``L = 1024``) on top of a
    0.4 s ``eigh``; the Kronecker structure of a lattice makes both ``O(L^{5/2})``.

    Same unknowns, preconditioner, exactness and derivatives as :class:`EighSchur`. The
    structure is checked at run time (``H`` equal to the Kronecker sum of its first block
    row and column to rounding); where it does not hold (disorder, a flux), or the
    damping is not uniform but on ``sites`` sites, the solve continues as
    :class:`EighSchur` with a dense basis (then :class:`EighKrylov`, then
    :class:`DirectLyapunov`), only where needed, also under ``vmap``.
    :class:`jaxqep.solvers.Auto` chooses it where :class:`jaxqep.GaussianNetwork`
    detected a Kronecker sum at construction (``kron_shape``), from ``L = 48``.

    Args:
        shape: ``(l_x, l_y)`` with ``l_x l_y = L``; ``None``: the network's
            ``kron_shape`` (plain :class:`EighSchur` if it has none).
        rtol: as :class:`EighSchur`.
        restart: as :class:`EighSchur`.
        max_steps: as :class:`EighSchur`.
        fallback: as :class:`EighSchur`.
        sites: as :class:`EighSchur`.

    Example:
        >>> import jax.numpy as jnp, jaxqep
        >>> H = jaxqep.gaussian.lattice_hamiltonian(6, 8, 1.0, 0.5)
        >>> g = jnp.zeros(48).at[0].set(0.1).at[-1].set(0.1)
        >>> n = jnp.zeros(48).at[0].set(1.0).at[-1].set(2.0)
        >>> net = jaxqep.GaussianNetwork(H, g, n, 0.05 * jnp.ones(48))
        >>> net.kron_shape, type(net.default_solver()).__name__
        ((6, 8), 'KroneckerSchur')
        >>> a = jaxqep.entropy_production(net)
        >>> b = jaxqep.entropy_production(net, jaxqep.solvers.DirectLyapunov())
        >>> bool(abs(a.total / b.total - 1) < 1e-9)
        True
    """

    shape: tuple[int, int] | None = None

    def __check_init__(self):
        super().__check_init__()
        if self.shape is not None:
            ok = (isinstance(self.shape, tuple) and len(self.shape) == 2
                  and all(isinstance(v, int) and v >= 1 for v in self.shape))
            if not ok:
                raise ValueError(
                    f"KroneckerSchur: shape must be a pair of positive ints (l_x, l_y), "
                    f"got {self.shape!r}")


def _routes(problem, solver):
    shape = solver.shape if solver.shape is not None else problem.kron_shape
    if shape is not None and shape[0] * shape[1] != problem.size:
        raise ValueError(
            f"KroneckerSchur: shape {shape} has {shape[0] * shape[1]} sites but the network "
            f"has L = {problem.size}")
    kron = None if shape is None else (int(shape[0]), int(shape[1]))
    return schur_routes(problem, solver, kron=kron, name="KroneckerSchur")


register_gaussian(KroneckerSchur, _routes)
