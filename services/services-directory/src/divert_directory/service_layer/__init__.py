"""Directory command and event handlers (catalogue imports and need matching come later)."""
