"""Assessment domain: the case aggregate, its commands and events, the assessment rules and the
consent gate. Imports no adapters."""
