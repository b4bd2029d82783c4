"""The embedded stack used by `make run`, `make demo` and the end-to-end tests."""
