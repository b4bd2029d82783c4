"""`divert-intake replay` as an operator runs it: a process against the service's database."""

import os
import sqlite3
import subprocess
from pathlib import Path

from divert_platform.embedded import venv_bin


def divert_intake(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DIVERT_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    env["DIVERT_DATA_DIR"] = str(database.parent)
    return subprocess.run([venv_bin("divert-intake"), *args], env=env, capture_output=True, text=True, timeout=60)


def add_published_row(db: sqlite3.Connection, number: int, topic: str, created_at: str) -> None:
    db.execute(
        "INSERT INTO outbox (event_id, topic, message_key, event_type, source, subject, occurred_at, data,"
        " created_at, published_at) VALUES (?, ?, 'k', 'org.divert.referral.withdrawn.v1', '/divert/intake',"
        " 'referrals/k', ?, '{}', ?, ?)",
        (f"00000000-0000-0000-0000-{number:012d}", topic, created_at, created_at, created_at),
    )


def test_replay_marks_the_rows_since_a_time_for_the_relay(tmp_path: Path) -> None:
    database = tmp_path / "intake.db"
    assert divert_intake("migrate", database=database).returncode == 0
    with sqlite3.connect(database) as db:
        add_published_row(db, 1, "divert.referrals", "2026-11-29 23:00:00.000000")
        add_published_row(db, 2, "divert.referrals", "2026-11-30 09:00:00.000000")
        add_published_row(db, 3, "divert.referrals", "2026-11-30 10:00:00.000000")

    # 10:30 in Albany (UTC-5) is 15:30 UTC: nothing that late
    assert "marked 0 " in divert_intake("replay", "--since", "2026-11-30T10:30:00-05:00", database=database).stdout
    since = "2026-11-30T09:00:00Z"
    result = divert_intake("replay", "--since", since, "--topic", "divert.referrals", database=database)
    assert result.returncode == 0, result.stderr
    assert "marked 2 outbox rows" in result.stdout

    with sqlite3.connect(database) as db:
        unpublished = [row[0] for row in db.execute("SELECT id FROM outbox WHERE published_at IS NULL ORDER BY id")]
    assert unpublished == [2, 3]


def test_replay_refuses_a_time_it_cannot_read_and_a_topic_it_does_not_know(tmp_path: Path) -> None:
    database = tmp_path / "intake.db"
    assert divert_intake("migrate", database=database).returncode == 0
    assert divert_intake("replay", "--since", "yesterday", database=database).returncode == 2
    assert divert_intake("replay", "--topic", "divert.nope", database=database).returncode == 2
