"""Benchmarks run only under `make bench` (pytest-benchmark enabled, tests/ not collected).

At the end of a run, every benchmark's figures (`extra_info`: rates, ratios measured in the same
run, targets) are printed, so that `make bench` shows them without opening the JSON.
"""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    session = getattr(terminalreporter.config, "_benchmarksession", None)
    benchmarks = getattr(session, "benchmarks", None) or []
    if not benchmarks:
        return
    terminalreporter.section("benchmark figures (same run)")
    for bench in benchmarks:
        info = getattr(bench, "extra_info", {}) or {}
        figures = ", ".join(f"{key}={_figure(value)}" for key, value in info.items())
        terminalreporter.write_line(f"{bench.name}: {figures}")


def _figure(value: Any) -> str:
    """A float to 4 significant figures, a list of them in brackets, anything else as is."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_figure(item) for item in value) + "]"
    return str(value)
