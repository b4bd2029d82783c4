"""The benchmark's phases, each a coroutine taking the run's `Context` and returning its figures."""
