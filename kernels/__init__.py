"""Numba kernels of resilience: plain arrays and scalars in, arrays out.

This package never imports `resilience`; it knows nothing of scenarios, SimPy or files, and can
be imported and tested on its own.

- `kernels.codes`: the codes, output columns and tolerance shared with `resilience`.
- `kernels.rng`, `kernels.draws`, `kernels.timeline`: the counter-based uniform, the draws and
  the sampled timeline, compiled once and callable from Python.
- `kernels.elementary`: the log, exp and cosine of the demand draws, in arithmetic that a vector
  loop keeps bit for bit.
- `kernels.records`: the typed records (named tuples of arrays) the kernel passes around.
- `kernels.daily`: the day loop over blocks of replications, and `simulate`, its entry point.
- Phases: `kernels.states` (1), `kernels.flows` (2, 3, 7), `kernels.metrics` (4, outputs),
  `kernels.ordering` (5, 6a), `kernels.policies` (6b, 6c).
- `kernels.pages`, `kernels.prefetch`: memory hints for large networks (2 MiB pages for a
  block's lane arrays, prefetching the pipeline ring); no value depends on them.
- `kernels._jit`: the one jit policy.
"""

__all__: list[str] = []
