"""CPU-side helpers: the opt-in allocator setting, and the host eigenvector solve of
solve_lyapunov (singular eigenvectors must not pass as a solution)."""

import platform
import subprocess
import sys

import numpy as np
import pytest
import scipy.linalg

import jaxqep
from jaxqep import _lyapunov


def test_keep_freed_memory_validates_and_reports():
    # Applied in a child process: it changes the allocator of the whole process.
    code = "import sys, jaxqep; sys.exit(0 if jaxqep.keep_freed_memory() is True else 3)"
    rc = subprocess.run([sys.executable, "-c", code], timeout=120).returncode
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert rc == (0 if glibc else 3)
    for bad in (0, -1, 2**31, 1.5, True, "1"):
        with pytest.raises(ValueError, match="limit_bytes"):
            jaxqep.keep_freed_memory(bad)  # type: ignore[arg-type]


def test_host_eig_solve_flags_singular_eigenvectors_and_instability():
    # A Jordan block: V is (numerically) singular; the residual says so and the sign
    # iteration takes over (the public solve is still exact).
    A = np.array([[-1.0, 1.0], [0.0, -1.0]], complex)
    Q = np.array([[1.0, 2.0], [0.5, -1.0]], complex)
    _, stable, res = _lyapunov._host_eig_solve(A, A.conj().T, Q, True)
    assert bool(stable) and not res <= 1e-11
    X = jaxqep.linalg.solve_lyapunov(A, Q)
    np.testing.assert_allclose(X, scipy.linalg.solve_continuous_lyapunov(A, Q), atol=1e-12)
    # Not stable: flagged, and the public entry raises naming A.
    B = np.diag([-1.0, 0.5]).astype(complex)
    assert not bool(_lyapunov._host_eig_solve(B, B.conj().T, Q, True)[1])
    with pytest.raises(ValueError, match="A: the spectra"):
        jaxqep.linalg.solve_lyapunov(B, Q)
