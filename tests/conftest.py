import os

# Match the library's defaults even if a test imports jax before jaxqep.
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_enable_concurrency_optimized_scheduler=false")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jaxqep  # noqa: E402, F401
