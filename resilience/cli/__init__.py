"""The command line: `resilience run`, `trace`, `list`, `show`, `validate`, `resolve`, `schema`."""

from resilience.cli.main import main

__all__ = ["main"]
