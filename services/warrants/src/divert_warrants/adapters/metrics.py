"""The warrants service's business metrics: requests made and rescinded, counted as they commit."""

from divert_contracts.warrants import (
    WarrantRequestDisposed,
    WarrantRequested,
    WarrantRequestFlagged,
    WarrantRequestRescinded,
)
from divert_platform.metrics import CommittedEventCounter

count_committed = (
    CommittedEventCounter()
    .count(
        WarrantRequested,
        "divert.warrant_requests",
        "Warrant requests made for lapsed arrest diversions, by jurisdiction.",
        labels=("jurisdiction",),
    )
    .count(
        WarrantRequestRescinded,
        "divert.warrant_rescissions",
        "Warrant requests withdrawn because the referral was assessed on time or withdrawn.",
        labels=("jurisdiction", "reason"),
    )
    .count(
        WarrantRequestFlagged,
        "divert.warrant_flags",
        "Acknowledged warrant requests found wrongful afterwards: each needs a person to act.",
        labels=("jurisdiction", "reason"),
    )
    .count(
        WarrantRequestDisposed,
        "divert.warrant_dispositions",
        "What prosecutors did with warrant requests: filed, declined to file, returned to the program.",
        labels=("jurisdiction", "disposition"),
    )
)
"""Given to the warrants service's units of work."""
