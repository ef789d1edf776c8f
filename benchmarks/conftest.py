"""Benchmarks run only under `make bench` (pytest-benchmark enabled, tests/ not collected)."""
