"""`divert-intake callbacks new-key | reencrypt` as an operator runs them, against a real database."""

import asyncio
import json
import os
import sqlite3
import subprocess
from pathlib import Path

from cryptography.fernet import Fernet

from divert_platform.callbacks import registry
from divert_platform.callbacks.secret_box import SecretBox, SecretBoxError
from divert_platform.clock import utcnow
from divert_platform.db import create_engine, create_session_factory
from divert_platform.embedded import venv_bin


def divert_intake(*args: str, database: Path, keys: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DIVERT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "DIVERT_DATA_DIR": str(database.parent),
    }
    if keys is not None:
        env["DIVERT_CALLBACK_ENCRYPTION_KEYS"] = keys
    return subprocess.run([venv_bin("divert-intake"), *args], env=env, capture_output=True, text=True, timeout=60)


async def register(database: Path, box: SecretBox) -> str:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with create_session_factory(engine)() as session, session.begin():
            registered = await registry.register(
                session,
                box,
                audience="agency",
                agency="SPD",
                jurisdiction="king-county",
                url="https://rms.example.org/divert",
                event_types=["referral.accepted"],
                description=None,
                actor="test",
                now=utcnow(),
            )
        return registered.secret
    finally:
        await engine.dispose()


def test_new_key_prints_a_usable_key_each_time() -> None:
    first, second = (
        subprocess.run([venv_bin("divert-intake"), "callbacks", "new-key"], capture_output=True, text=True, timeout=60)
        for _ in range(2)
    )

    assert first.returncode == 0 and second.returncode == 0
    key = first.stdout.strip()
    assert key != second.stdout.strip()
    assert SecretBox([key]).open(SecretBox([key]).seal("whsec_x")) == "whsec_x"


def test_reencrypt_moves_every_secret_to_the_first_key_so_the_old_one_can_go(tmp_path: Path) -> None:
    database = tmp_path / "intake.db"
    assert divert_intake("migrate", database=database).returncode == 0
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    secret = asyncio.run(register(database, SecretBox([old])))

    result = divert_intake("callbacks", "reencrypt", database=database, keys=f"{new},{old}")

    assert result.returncode == 0, result.stderr
    assert "re-encrypted the secrets of 1 endpoint(s)" in result.stdout
    with sqlite3.connect(database) as db:
        [(stored,)] = db.execute("SELECT secrets FROM callback_endpoints").fetchall()
    [entry] = json.loads(stored)
    assert secret not in stored  # sealed, never the secret itself
    assert SecretBox([new]).open(entry["sealed"]) == secret
    try:
        SecretBox([old]).open(entry["sealed"])
    except SecretBoxError:
        pass
    else:
        raise AssertionError("the old key still opens the re-encrypted secret")


def test_reencrypt_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = divert_intake("callbacks", "reencrypt", database=tmp_path / "intake.db")

    assert result.returncode == 1
    assert "divert-intake migrate" in result.stderr
