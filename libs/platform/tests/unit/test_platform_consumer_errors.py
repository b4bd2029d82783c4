"""Which handler failures the consumer waits out and which it eventually dead-letters."""

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from temporalio.service import RPCError, RPCStatusCode

from divert_platform.consumer import is_transient


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT 1", {}, Exception("database is locked")),
        ConnectionRefusedError(),
        TimeoutError(),
        RPCError("down", RPCStatusCode.UNAVAILABLE, b""),
    ],
)
def test_infrastructure_failures_are_waited_out(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bug"),
        IntegrityError("INSERT", {}, Exception("value too long")),
        RPCError("bad", RPCStatusCode.INVALID_ARGUMENT, b""),
    ],
)
def test_defects_and_impossible_records_are_not(error: BaseException) -> None:
    assert not is_transient(error)
