"""Numba kernels of resilience: plain arrays and scalars in, arrays out.

This package never imports `resilience`; it knows nothing of scenarios, SimPy or files, and can
be imported and tested on its own.
"""

__all__: list[str] = []
