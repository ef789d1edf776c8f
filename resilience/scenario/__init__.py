"""Scenario files: the typed schema, the loader with precise errors, reference checks, the catalog
of shipped scenarios and a synthetic-scenario generator. The lowest layer: it imports no other
part of the package except `resilience.errors`."""
