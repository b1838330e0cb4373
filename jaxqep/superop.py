"""Superoperators in row-major vectorisation (public namespace)."""

from ._superop import (
    apply_reset_A as apply_reset_A,
    apply_reset_B as apply_reset_B,
    commutator as commutator,
    hamiltonian_superop as hamiltonian_superop,
    lindblad_dissipator as lindblad_dissipator,
    reset_dissipator as reset_dissipator,
    spost as spost,
    spre as spre,
    sprepost as sprepost,
    tripartite_reset_A as tripartite_reset_A,
    tripartite_reset_B as tripartite_reset_B,
    unvec as unvec,
    vec as vec,
)
