"""One submission's properties, run to outcomes and points."""
