"""`make bench`: Divert's performance measured against the embedded stack (docs/performance.md).

Everything runs on one machine: the whole stack as processes, an open-loop load generator in its
own process, and ceilings (raw Kafka, raw Temporal, a bare FastAPI app) measured in the same run,
so that Divert's figures can be read as fractions of what the parts underneath allow.
"""
