"""Analysis across replications: summaries with intervals and tail risk (`summary`)."""
