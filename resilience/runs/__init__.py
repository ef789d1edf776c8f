"""Running scenarios end to end: the layer the CLI and the notebook API call.

`runner` (a Monte Carlo or SimPy run and its directory), `rerun`, `trace`, `compare`, `sweep`,
`frontier`, `criticality`, `views` (plots of an output) and `report` (its HTML page); `api` is
the notebook API that `resilience.run`, `compare`, `sweep` and `load_run` stand for.
"""
