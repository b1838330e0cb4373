"""Builders for the models of the seed papers."""

from ._chains import ResetChain as ResetChain, reset_chain as reset_chain
from ._gibbs import gibbs_state as gibbs_state, gibbs_states as gibbs_states
from ._qubits import (
    diagonal_reset_state as diagonal_reset_state,
    reset_chain_hamiltonian as reset_chain_hamiltonian,
    single_qubit_hamiltonian as single_qubit_hamiltonian,
    three_qubit_chain as three_qubit_chain,
)
