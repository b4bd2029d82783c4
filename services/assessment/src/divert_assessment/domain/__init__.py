"""Assessment domain: the case aggregate, its events and the assessment rules. Imports no adapters."""
