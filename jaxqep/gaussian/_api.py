"""``jaxqep.gaussian.entropy_production`` of 0.1, a thin wrapper over the problem object
:class:`jaxqep.GaussianNetwork` and :func:`jaxqep.entropy_production`."""

from __future__ import annotations

from jaxtyping import ArrayLike

from ._model import GaussianNetwork
from ._observables import GaussianEntropyProduction

__all__ = ["entropy_production", "network_solver"]


def network_solver(method):
    """The solver object of a 0.1 ``method=`` string (``auto``, ``eig``, ``sign``) or the
    solver object itself."""
    # Imported here: jaxqep.gaussian loads before jaxqep.solvers (which imports it).
    from ..solvers import AbstractSolver, Auto, Eig, SignIteration

    if isinstance(method, AbstractSolver):
        return method
    table = {"auto": Auto(), "eig": Eig(), "sign": SignIteration()}
    if method not in table:
        raise ValueError(f"method must be 'auto', 'sign' or 'eig', got {method!r}")
    return table[method]


def entropy_production(
    H: ArrayLike,
    gammas: ArrayLike,
    occupations: ArrayLike,
    sc_rates: ArrayLike | None = None,
    *,
    method="auto",
) -> GaussianEntropyProduction:
    """NESS, Wigner entropy production, fluxes and currents of a linear bosonic network.

    The model is the local master equation (3)-(4) of seed 000 for
    ``H = Σ H_kl a_k† a_l`` with a thermal bath ``(γ_k, n_k)`` on each site (``γ_k = 0``:
    none), plus optional self-consistent reservoirs of rates ``Γ_k`` whose occupations
    are fixed by zero net energy exchange (Sec. IV). Works under ``jit``, ``vmap`` and
    ``grad`` in all array arguments (implicit derivatives of the NESS). Same as
    ``jaxqep.entropy_production(jaxqep.GaussianNetwork(H, gammas, occupations, sc_rates),
    solver)``.

    Args:
        H: Hermitian ``(L, L)`` matrix (complex allowed, any connectivity).
        gammas: ``(L,)`` bath rates ``>= 0``.
        occupations: ``(L,)`` bath occupations ``>= 0`` (see :func:`bose_einstein`).
        sc_rates: optional ``(L,)`` or scalar self-consistent rates ``>= 0``.
        method: ``"auto"`` (:class:`jaxqep.solvers.Auto`), ``"eig"``
            (:class:`~jaxqep.solvers.Eig`), ``"sign"``
            (:class:`~jaxqep.solvers.SignIteration`), or a solver object.

    Returns:
        A :class:`GaussianEntropyProduction`.

    Raises:
        ValueError / TypeError: bad input (naming the argument); a network without NESS;
            a solve whose residual is not at rounding level (eagerly;
            ``equinox.EquinoxRuntimeError`` under ``jit``).

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxqep.gaussian import chain_hamiltonian, entropy_production
        >>> L = 4
        >>> g = jnp.zeros(L).at[0].set(1e-2).at[-1].set(1e-2)
        >>> n = jnp.zeros(L).at[0].set(1.0).at[-1].set(2.0)
        >>> r = entropy_production(chain_hamiltonian(L, 1.0, 1e-2), g, n, sc_rates=1e-3)
        >>> bool(jnp.allclose(r.pi_r + r.pi_sc_total, r.pi_ness, rtol=1e-8))
        True
    """
    from .._entry import run

    solver = network_solver(method)
    net = GaussianNetwork(H, gammas, occupations, sc_rates)
    return run("entropy_production", net, solver, True)
