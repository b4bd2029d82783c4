"""The trivial workflow behind the raw Temporal ceiling: it returns its input at once."""

from temporalio import workflow

TASK_QUEUE = "divert-bench-noop"


@workflow.defn
class BenchNoopWorkflow:
    """Does nothing: what remains of a start is the server's own cost (and one workflow task)."""

    @workflow.run
    async def run(self, name: str) -> str:
        return name
