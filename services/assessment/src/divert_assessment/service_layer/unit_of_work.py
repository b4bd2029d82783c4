"""Assessment's unit of work: a case's events, its read models and the outbox in one transaction."""

from divert_assessment.adapters.cases import SqlCases
from divert_assessment.service_layer.ports import Cases
from divert_platform.unit_of_work import SqlUnitOfWork, UnitOfWork


class AssessmentUnitOfWork(UnitOfWork):
    """What assessment's handlers work in."""

    cases: Cases


class SqlAssessmentUnitOfWork(SqlUnitOfWork, AssessmentUnitOfWork):
    """Assessment's unit of work on its database."""

    cases: SqlCases

    def _open_repositories(self) -> None:
        self.cases = SqlCases(self)
