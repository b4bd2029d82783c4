"""The case's state machine: every command in every state, and the rules each command checks (no I/O)."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from divert_assessment.domain import events
from divert_assessment.domain.case import Case, CaseStatus
from divert_assessment.domain.commands import (
    AssignManager,
    CaseCommand,
    ChangeEngagement,
    Close,
    CompleteAssessment,
    Decline,
    Enroll,
    OpenCase,
    RecordConsent,
    RecordContact,
    Reopen,
    RevokeConsent,
)
from divert_assessment.domain.errors import ConsentAlreadyRevoked, ConsentNotFound, InvalidTransition, RulesBroken
from divert_contracts.referrals import Subject

REFERRED = datetime(2025, 3, 3, 18, 0, tzinfo=UTC)
OPENED = REFERRED + timedelta(minutes=5)
ASSESSED = datetime(2025, 3, 5, 9, 0, tzinfo=UTC)
LATER = datetime(2025, 3, 8, 9, 0, tzinfo=UTC)
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)

P, A, E, D, C = (
    CaseStatus.PENDING_ASSESSMENT,
    CaseStatus.ASSESSED,
    CaseStatus.ENROLLED,
    CaseStatus.DECLINED,
    CaseStatus.CLOSED,
)
OPEN = {P, A, E, D}
ACTS = {
    CompleteAssessment: Case.complete_assessment,
    AssignManager: Case.assign_manager,
    RecordContact: Case.record_contact,
    RecordConsent: Case.record_consent,
    RevokeConsent: Case.revoke_consent,
    Enroll: Case.enroll,
    Decline: Case.decline,
    ChangeEngagement: Case.change_engagement,
    Close: Case.close,
    Reopen: Case.reopen,
}


def handle(case: Case, command: CaseCommand) -> None:
    """Give `command` to the case method that takes it (as its handler in the service layer does)."""
    ACTS[type(command)](case, command)


def open_case() -> Case:
    case = Case(id=uuid4())
    subject = Subject(given_name="Ana", family_name="Diaz", date_of_birth=date(1990, 1, 2), rms_person_id="P-9")
    case.open(OpenCase(case.id, "king-county", "arrest_diversion", REFERRED, None, subject, "SPD", None, None, OPENED))
    return case


def in_state(state: CaseStatus, *, closed_from: CaseStatus = CaseStatus.ENROLLED) -> Case:
    """A case brought to `state` through its commands (a closed one closed from `closed_from`)."""
    case = open_case()
    path = {P: [], A: [assessment], E: [assessment, enrollment], D: [assessment, declining]}
    for step in path[closed_from if state == C else state]:
        handle(case, step(case.id))
    if state == C:
        handle(case, closure(case.id))
    return case


def assessment(referral_id: UUID) -> CompleteAssessment:
    return CompleteAssessment(referral_id, ASSESSED, "cm-7", (), NOW)


def enrollment(referral_id: UUID) -> Enroll:
    return Enroll(referral_id, LATER, NOW)


def declining(referral_id: UUID) -> Decline:
    return Decline(referral_id, "not_interested", NOW)


def closure(referral_id: UUID) -> Close:
    return Close(referral_id, "moved_away", LATER, NOW)


def consent(referral_id: UUID, expires_at: datetime = NOW + timedelta(days=90), *parties: str) -> RecordConsent:
    return RecordConsent(
        referral_id,
        uuid4(),
        parties or ("org-housing",),
        "housing_application",
        "contact_details",
        False,
        expires_at,
        NOW,
    )


def contact(referral_id: UUID, outcome: str = "made", at: datetime = LATER) -> RecordContact:
    return RecordContact(referral_id, uuid4(), at, "phone", outcome, NOW)


COMMANDS: dict[str, tuple[Callable[[UUID], CaseCommand], set[CaseStatus], type[events.DomainEvent]]] = {
    "complete the assessment": (assessment, {P}, events.AssessmentCompleted),
    "assign a manager": (lambda rid: AssignManager(rid, "cm-9", "dcs", NOW), OPEN, events.ManagerAssigned),
    "record a contact": (contact, OPEN, events.ContactRecorded),
    "record a consent": (consent, OPEN, events.ConsentRecorded),
    "enroll": (enrollment, {A}, events.ParticipantEnrolled),
    "decline": (declining, {A}, events.ParticipantDeclined),
    "make inactive": (lambda rid: ChangeEngagement(rid, "inactive", NOW), {E}, events.EngagementChanged),
    "close": (closure, OPEN, events.CaseClosed),
    "reopen": (lambda rid: Reopen(rid, NOW), {C}, events.CaseReopened),
}
STATUS_AFTER = {
    "complete the assessment": A,
    "enroll": E,
    "decline": D,
    "close": C,
    "reopen": E,  # closed from enrolled in `in_state`
}
EVERY_CASE = [(name, state) for name in COMMANDS for state in CaseStatus]


@pytest.mark.parametrize(("name", "state"), [(n, s) for n, s in EVERY_CASE if s in COMMANDS[n][1]])
def test_an_allowed_command_records_its_event(name: str, state: CaseStatus) -> None:
    make, _, event_type = COMMANDS[name]
    case = in_state(state)
    before = len(case.pending)

    handle(case, make(case.id))

    [recorded] = case.pending[before:]
    assert type(recorded) is event_type
    assert recorded.referral_id == case.id
    assert case.status == STATUS_AFTER.get(name, state)
    rebuilt = Case.from_events(case.id, case.pending)
    assert (rebuilt.status, rebuilt.engagement) == (case.status, case.engagement)


@pytest.mark.parametrize(("name", "state"), [(n, s) for n, s in EVERY_CASE if s not in COMMANDS[n][1]])
def test_a_command_the_state_does_not_allow_is_refused_with_the_current_state(name: str, state: CaseStatus) -> None:
    make, _, _ = COMMANDS[name]
    case = in_state(state)
    before = list(case.pending)

    with pytest.raises(InvalidTransition) as raised:
        handle(case, make(case.id))

    assert raised.value.current_state == state
    assert case.pending == before and case.status == state


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_case_never_opened_refuses_every_command(name: str) -> None:
    make, _, _ = COMMANDS[name]

    with pytest.raises(InvalidTransition) as raised:
        handle(Case(id=uuid4()), make(uuid4()))

    assert raised.value.current_state is None


def test_only_the_first_contact_made_is_first_made() -> None:
    case = open_case()
    for outcome in ("attempted", "made", "attempted", "made"):
        handle(case, contact(case.id, outcome))

    recorded = [e for e in case.pending if isinstance(e, events.ContactRecorded)]
    assert [(e.outcome, e.first_made) for e in recorded] == [
        ("attempted", False),
        ("made", True),
        ("attempted", False),
        ("made", False),
    ]
    rebuilt = Case.from_events(case.id, case.pending)
    handle(rebuilt, contact(case.id, "made"))
    assert isinstance(last := rebuilt.pending[-1], events.ContactRecorded) and last.first_made is False


def test_contacts_are_allowed_in_every_open_state_and_still_count_after_reopening() -> None:
    case = in_state(C)
    handle(case, Reopen(case.id, NOW))

    handle(case, contact(case.id, "made"))

    assert isinstance(made := case.pending[-1], events.ContactRecorded) and made.first_made is True


@pytest.mark.parametrize(
    ("command", "field", "code"),
    [
        (lambda rid: contact(rid, at=NOW + timedelta(seconds=1)), "at", "in_future"),
        (lambda rid: contact(rid, at=REFERRED - timedelta(seconds=1)), "at", "before_referral"),
        (lambda rid: consent(rid, NOW), "expires_at", "not_in_future"),
        (lambda rid: consent(rid, NOW - timedelta(days=1)), "expires_at", "not_in_future"),
        (lambda rid: consent(rid, NOW + timedelta(days=1), "org-a", "org-a"), "parties", "duplicate_party"),
        (lambda rid: Close(rid, "deceased", NOW + timedelta(seconds=1), NOW), "closed_at", "in_future"),
        (lambda rid: Close(rid, "deceased", OPENED - timedelta(seconds=1), NOW), "closed_at", "before_opening"),
    ],
)
def test_a_command_breaking_a_rule_is_refused_naming_the_field(command, field, code) -> None:
    case = open_case()

    with pytest.raises(RulesBroken) as raised:
        handle(case, command(case.id))

    assert [(v.field, v.code) for v in raised.value.violations] == [(field, code)]
    assert len(case.pending) == 1


@pytest.mark.parametrize(
    ("enrolled_at", "code"),
    [
        (NOW + timedelta(seconds=1), "in_future"),
        (REFERRED - timedelta(seconds=1), "before_referral"),
        (ASSESSED - timedelta(seconds=1), "before_assessment"),
    ],
)
def test_enrolled_at_must_be_between_the_assessment_and_now(enrolled_at: datetime, code: str) -> None:
    case = in_state(A)

    with pytest.raises(RulesBroken) as raised:
        handle(case, Enroll(case.id, enrolled_at, NOW))

    assert {(v.field, v.code) for v in raised.value.violations} >= {("enrolled_at", code)}


def test_a_consent_expiring_after_now_is_recorded_with_now() -> None:
    case = open_case()

    handle(case, consent(case.id, NOW + timedelta(seconds=1), "org-a", "org-b"))

    assert isinstance(recorded := case.pending[-1], events.ConsentRecorded)
    assert recorded.recorded_at == NOW and recorded.parties == ("org-a", "org-b")


@pytest.mark.parametrize("state", list(CaseStatus))
def test_a_consent_can_be_revoked_once_in_every_state(state: CaseStatus) -> None:
    case = open_case()
    given = consent(case.id)
    handle(case, given)
    case = Case.from_events(case.id, case.pending)
    for step in {P: [], A: [assessment], E: [assessment, enrollment], D: [assessment, declining]}.get(
        state, [assessment, enrollment, closure]
    ):
        handle(case, step(case.id))

    handle(case, RevokeConsent(case.id, given.consent_id, NOW))

    assert isinstance(revoked := case.pending[-1], events.ConsentRevoked)
    assert revoked.revoked_at == NOW
    with pytest.raises(ConsentAlreadyRevoked) as raised:
        handle(Case.from_events(case.id, case.pending), RevokeConsent(case.id, given.consent_id, NOW))
    assert raised.value.revoked_at == NOW


def test_revoking_an_unknown_consent_is_refused() -> None:
    case = open_case()

    with pytest.raises(ConsentNotFound):
        handle(case, RevokeConsent(case.id, uuid4(), NOW))


def test_enrollment_starts_active_and_engagement_goes_both_ways() -> None:
    case = in_state(E)
    assert case.engagement == "active"

    handle(case, ChangeEngagement(case.id, "inactive", NOW))
    handle(case, ChangeEngagement(case.id, "active", NOW))

    changes = [e for e in case.pending if isinstance(e, events.EngagementChanged)]
    assert [(e.engagement, e.changed_at) for e in changes] == [("inactive", NOW), ("active", NOW)]


def test_the_same_engagement_again_is_refused_with_the_engagement() -> None:
    case = in_state(E)

    with pytest.raises(InvalidTransition) as raised:
        handle(case, ChangeEngagement(case.id, "active", NOW))

    assert raised.value.current_state == E and raised.value.engagement == "active"


def test_assigning_the_manager_the_case_already_has_is_refused() -> None:
    case = open_case()
    handle(case, AssignManager(case.id, "cm-9", None, NOW))

    with pytest.raises(InvalidTransition):
        handle(case, AssignManager(case.id, "cm-9", None, NOW))
    handle(case, AssignManager(case.id, "cm-10", None, NOW))

    assert case.case_manager_id == "cm-10"


def test_whoever_assessed_looks_after_the_case_until_a_manager_is_assigned() -> None:
    assert in_state(A).case_manager_id == "cm-7"


@pytest.mark.parametrize("closed_from", [P, A, E, D])
def test_reopening_returns_the_case_to_the_state_it_was_closed_in(closed_from: CaseStatus) -> None:
    case = in_state(C, closed_from=closed_from)

    handle(case, Reopen(case.id, NOW))

    assert isinstance(reopened := case.pending[-1], events.CaseReopened)
    assert reopened.status == closed_from and reopened.reopened_at == NOW
    assert case.status == closed_from
    assert Case.from_events(case.id, case.pending).status == closed_from


def test_an_inactive_participant_is_inactive_again_after_reopening() -> None:
    case = in_state(E)
    handle(case, ChangeEngagement(case.id, "inactive", NOW))
    handle(case, closure(case.id))

    handle(case, Reopen(case.id, NOW))

    assert (case.status, case.engagement) == (E, "inactive")


def test_a_declined_case_records_the_reason_and_the_time() -> None:
    case = in_state(A)

    handle(case, Decline(case.id, "already_served_elsewhere", NOW))

    assert isinstance(declined := case.pending[-1], events.ParticipantDeclined)
    assert (declined.reason, declined.declined_at) == ("already_served_elsewhere", NOW)
