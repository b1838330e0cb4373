"""Result types of the thermal (GKLS) entry points."""

from __future__ import annotations

import equinox as eqx
from jaxtyping import Array

from .._solution import RESULTS, Stats

__all__ = ["ThermalEntropyProduction", "CurrentStatistics", "HeatCurrents"]


class ThermalEntropyProduction(eqx.Module):
    """Clausius entropy production of a :class:`~jaxqep.GKLSModel` at its steady state
    (returned by :func:`jaxqep.entropy_production`).

    Attributes:
        total: ``σ = −Σ_b β_b J_b`` (≥ 0 for the global, Davies, master equation; the local
            equation can violate it and the value is returned as is).
        parts: ``−β_b J_b`` per bath, ``(B,)`` (the entropy flowing into bath ``b``).
        heat_currents: ``J_b = tr(H_ref D_b(ρ))``, energy from bath ``b`` into the system.
        power: ``Σ_b J_b`` (the power delivered by the system; 0 when ``H_ref = H``).
        rho: the steady state.
        result: a :class:`~jaxqep.RESULTS` code.
        stats: :class:`~jaxqep.Stats` of the steady-state solve.
    """

    total: Array
    parts: Array
    heat_currents: Array
    power: Array
    rho: Array
    result: RESULTS
    stats: Stats


class HeatCurrents(eqx.Module):
    """Heat currents at the steady state with the outcome of the solve (returned by
    :func:`jaxqep.heat_currents` with ``throw=False``).

    Attributes:
        currents: ``J_b = tr(H_ref D_b(ρ))``, ``(B,)``, energy from bath ``b`` into the system.
        power: ``Σ_b J_b``.
        rho: the steady state.
        result: a :class:`~jaxqep.RESULTS` code (the currents mean nothing unless it is
            ``RESULTS.successful``).
        stats: :class:`~jaxqep.Stats` of the steady-state solve.
    """

    currents: Array
    power: Array
    rho: Array
    result: RESULTS
    stats: Stats


class CurrentStatistics(eqx.Module):
    """Full counting statistics of a weighted jump current at the steady state.

    Attributes:
        cumulants: ``(order,)``, ``c_n = dⁿθ/dsⁿ`` at ``s = 0`` (``c_1`` the mean current,
            ``c_2`` the zero-frequency noise, ``c_3`` the skewness).
        fano: ``c_2 / |c_1|`` (``inf`` where ``c_1`` vanishes to rounding).
        tur: ``c_2 σ / c_1²`` (≥ 2 by the thermodynamic uncertainty relation for the
            global equation); ``nan`` without ``betas``. At and near equilibrium
            (``c_1 → 0``, ``σ → 0``) it is 0/0: where its rounding error estimate
            exceeds ``1e-3`` :func:`~jaxqep.thermal.current_statistics` raises, or with
            ``throw=False`` returns ``nan`` with ``result = RESULTS.nonfinite``.
        sigma: the Clausius entropy production ``−Σ β_b J_b`` (``nan`` without ``betas``).
        rho: the steady state.
        result: a :class:`~jaxqep.RESULTS` code.
        stats: :class:`~jaxqep.Stats` of the factorisation shared by every order.
    """

    cumulants: Array
    fano: Array
    tur: Array
    sigma: Array
    rho: Array
    result: RESULTS
    stats: Stats
