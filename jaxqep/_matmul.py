"""Complex matrix products as real ones on CPU.

XLA's CPU backend multiplies ``complex128`` matrices about 1.7 times slower than four
``float64`` products of the real and imaginary parts (measured on the 2-core development
machine: 3.07 vs 1.82 ms at n = 256, 18.6 vs 11.0 ms at n = 500; ``benchmarks/
bench_gaussian.py --rows lyapunov``). :func:`cpu_matmul` is that split, for code that
runs only on CPU (the ``cpu`` branch of a ``jax.lax.platform_dependent``);
:func:`matmul` picks it on CPU and the native product elsewhere (cuBLAS multiplies
complex matrices at full speed). Four products, not Gauss's three: the same rounding as
the native product (the three-product form's error scales with ``|Re| + |Im|`` of
both factors).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array

__all__ = ["cpu_matmul", "matmul"]


def cpu_matmul(a: Array, b: Array) -> Array:
    """``a @ b``; four real products where both are complex, two where one is.

    Example:
        >>> import jax.numpy as jnp
        >>> a = jnp.array([[1 + 2j, 0], [1j, 1]])
        >>> bool(jnp.allclose(cpu_matmul(a, a), a @ a))
        True
    """
    ca, cb = jnp.iscomplexobj(a), jnp.iscomplexobj(b)
    if ca and cb:
        ar, ai, br, bi = jnp.real(a), jnp.imag(a), jnp.real(b), jnp.imag(b)
        return jax.lax.complex(ar @ br - ai @ bi, ar @ bi + ai @ br)
    if ca:
        return jax.lax.complex(jnp.real(a) @ b, jnp.imag(a) @ b)
    if cb:
        return jax.lax.complex(a @ jnp.real(b), a @ jnp.imag(b))
    return a @ b


def matmul(a: Array, b: Array) -> Array:
    """``a @ b``: :func:`cpu_matmul` on CPU, the native product on other backends.

    Example:
        >>> import jax.numpy as jnp
        >>> a = jnp.array([[1 + 2j, 0], [1j, 1]])
        >>> bool(jnp.allclose(matmul(a, a), a @ a))
        True
    """
    if not (jnp.iscomplexobj(a) or jnp.iscomplexobj(b)):
        return a @ b
    return jax.lax.platform_dependent(
        a, b, cpu=cpu_matmul, default=lambda x, y: x @ y
    )
