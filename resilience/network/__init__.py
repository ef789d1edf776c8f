"""The compiled Network: structure-of-arrays (`arrays`), the compiler from a Scenario
(`compiler`), the static index tables every engine reads (`tables`) and consumer exposure
(`exposure`). Imports only `resilience.scenario` below it."""
