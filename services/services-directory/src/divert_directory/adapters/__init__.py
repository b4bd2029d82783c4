"""Directory adapters (HSDS catalogue tables and repositories come later)."""
