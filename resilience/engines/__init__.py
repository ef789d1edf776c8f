"""Engines that run a Network: the Numba kernel wrapper (`kernel`), executors that place batches
(`execution`) and the SimPy engine (`des`). Imports `model`, `network` and `scenario`."""
