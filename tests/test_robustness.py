"""No hangs: the XLA CPU deadlock of batched LU solves (CONVENTIONS, known traps) is handled
inside the package. The per-test timeout (pyproject: pytest-timeout) turns any future
hang into a failure instead of a stalled CI run."""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np

from jaxqep import internal, models, qrm


def test_import_sets_the_scheduler_flag_in_a_fresh_process():
    code = (
        "import os, jaxqep.internal; print(os.environ.get('XLA_FLAGS', '')); "
        "print(jaxqep.internal.XLA_WORKAROUND_ACTIVE)"
    )
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    flags, active = out.stdout.strip().splitlines()
    assert "--xla_cpu_enable_concurrency_optimized_scheduler=false" in flags
    assert active == "True"


def test_import_after_backend_init_warns():
    code = textwrap.dedent(
        """
        import warnings, jax, jax.numpy as jnp
        jnp.ones(1).block_until_ready()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            import jaxqep
        print(any("could not be applied" in str(x.message) for x in w))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_repeated_large_batched_runs_finish():
    """20 runs in a row of a batch of 1024 points, each with three batched LU solves in
    one jitted function (the pattern that deadlocked), in a fresh process that imports
    jaxqep first like a user would."""
    code = textwrap.dedent(
        """
        import jaxqep, jax, jax.numpy as jnp, numpy as np
        from jaxqep import models, qrm
        h = models.three_qubit_chain(0.08, 0.1, 0.05, 0.1, 0.05, 0.1)
        ta, tb = models.diagonal_reset_state(0.95), models.diagonal_reset_state(0.6)
        f = jax.jit(jax.vmap(lambda g, l: qrm.tripartite_entropy_production(
            h, ta, tb, 0.7, 0.6, (2, 2, 2), g, l).total))
        r = np.random.default_rng(0)
        for i in range(20):
            out = f(jnp.asarray(r.uniform(0.05, 1, 1024)), jnp.asarray(r.uniform(0.1, 0.9, 1024)))
            assert bool(jnp.all(jnp.isfinite(out)) & jnp.all(out > 0))
        print("done")
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=240
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("done")


def test_batched_single_space_model_repeated():
    h = models.single_qubit_hamiltonian(1.0, 0.7)
    taus = jnp.stack([models.diagonal_reset_state(t) for t in (0.9, 0.3, 0.6)])
    f = jax.jit(jax.vmap(lambda gm: qrm.entropy_production(h, taus, gm).total))
    r = np.random.default_rng(1)
    for _ in range(20):
        out = f(jnp.asarray(r.uniform(0.1, 2.0, (1024, 3))))
        assert np.all(np.isfinite(np.asarray(out)))
    assert internal.XLA_WORKAROUND_ACTIVE
