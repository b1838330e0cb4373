"""Gaussian bosonic networks (seed 000): NESS covariance, Wigner entropy production,
currents, self-consistent reservoirs and transient dynamics."""

from ._api import entropy_production as entropy_production
from ._builders import (
    chain_baths as chain_baths,
    chain_closed_form as chain_closed_form,
    chain_hamiltonian as chain_hamiltonian,
    lattice_hamiltonian as lattice_hamiltonian,
)
from ._currents import (
    PhaseSpaceCurrents as PhaseSpaceCurrents,
    RelativeEntropyBalance as RelativeEntropyBalance,
    current_fields as current_fields,
    phase_space_currents as phase_space_currents,
    relative_entropy_balance as relative_entropy_balance,
    wigner_function as wigner_function,
)
from ._dynamics import (
    Trajectory as Trajectory,
    covariance_rhs as covariance_rhs,
    evolve_covariance as evolve_covariance,
)
from ._lyapunov import solve_lyapunov as solve_lyapunov
from ._model import GaussianNetwork as GaussianNetwork, bose_einstein as bose_einstein
from ._ness import ness_covariance as ness_covariance, stability_matrix as stability_matrix
from ._observables import (
    EntropyProduction as EntropyProduction,
    GaussianEntropyProduction as GaussianEntropyProduction,
    GaussianSteadyState as GaussianSteadyState,
    energy_currents as energy_currents,
    entropy_flux as entropy_flux,
    entropy_production_rates as entropy_production_rates,
    pi_from_currents as pi_from_currents,
    wigner_covariance as wigner_covariance,
    wigner_entropy as wigner_entropy,
    wigner_relative_entropy as wigner_relative_entropy,
)
from ._squeezed import SqueezedGaussianNetwork as SqueezedGaussianNetwork
from ._squeezed_dynamics import evolve_squeezed_covariance as evolve_squeezed_covariance
from ._squeezed_observables import (
    SqueezedGaussianEntropyProduction as SqueezedGaussianEntropyProduction,
    SqueezedGaussianSteadyState as SqueezedGaussianSteadyState,
    squeezed_covariance_rhs as squeezed_covariance_rhs,
    squeezed_entropy_flux as squeezed_entropy_flux,
    squeezed_entropy_production_rates as squeezed_entropy_production_rates,
)
