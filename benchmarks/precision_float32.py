"""Accuracy of jaxqep in float32 (JAXQEP_ENABLE_X64=0) against float64.

Run:  python benchmarks/precision_float32.py

Prints the relative error of σ in float32 for the single-qubit three-reservoir model and
for the three-qubit chain over a range of couplings g (σ ~ g², so float32 loses accuracy
as g → 0).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

CODE = r"""
import json, jaxqep, jax, jax.numpy as jnp
from jaxqep import models, qrm
out = {}
h = models.single_qubit_hamiltonian(1.0, 0.7)
taus = jnp.stack([models.diagonal_reset_state(t) for t in (0.9, 0.3, 0.6)])
gam = jnp.array([1.0, 0.5, 1 / 3])
out["qubit"] = float(qrm.entropy_production(h, taus, gam, jnp.array([0.5, 0.3, 0.2])).total)
h3 = models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
ta, tb = models.diagonal_reset_state(0.95), models.diagonal_reset_state(0.6)
for g in (1.0, 0.3, 0.1, 0.03, 0.01):
    try:
        v = float(qrm.tripartite_entropy_production(h3, ta, tb, 0.7, 0.6, (2, 2, 2), g, 0.4).total)
    except Exception as e:
        v = "error: " + str(e).splitlines()[0][:80]
    out[f"chain g={g}"] = v
print(json.dumps(out))
"""


def run(x64: bool) -> dict:
    env = dict(os.environ, JAXQEP_ENABLE_X64="1" if x64 else "0")
    res = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-2000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    f64, f32 = run(True), run(False)
    print(f"{'quantity':18s}{'float64':>16s}{'float32':>16s}{'rel. error':>12s}")
    for k, v in f64.items():
        w = f32[k]
        if isinstance(w, str):
            print(f"{k:18s}{v:16.8e}  {w}")
        else:
            print(f"{k:18s}{v:16.8e}{w:16.8e}{abs(w - v) / abs(v):12.2e}")


if __name__ == "__main__":
    main()
