"""Running a scenario end to end: Monte Carlo runs (`runner`) and one-replication traces
(`trace`). The layer the CLI and the notebook API call."""
