"""Whole-registry backup and restore, wrapping the database's own tools.

PostgreSQL: pg_dump's custom format (schema, data, audit tables and their append-only
triggers) and pg_restore into a clean schema in one transaction, so a failed restore leaves
the database as it was. Both connect as the owner (DATABASE_ADMIN_URL) when one is set: only
the owner may drop and re-create the tables. Privileges are not restored from the file (it may
come from a site whose app role has another name); the app role's grants are re-applied
(registry.db_roles) after the restore instead. SQLite (the demo): the sqlite3 online-backup API. A SHA-256 checksum
is written beside each backup and checked before anything is restored.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection

from registry.db_roles import as_owner, grant_app_privileges, owner_credentials


class BackupError(RuntimeError):
    pass


def _checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_env_and_args() -> tuple[dict[str, str], list[str]]:
    settings = {**connection.settings_dict, **(owner_credentials() or {})}
    env = {**os.environ}
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    args = [
        "--host",
        str(settings.get("HOST") or "localhost"),
        "--port",
        str(settings.get("PORT") or 5432),
        "--username",
        str(settings.get("USER") or "postgres"),
        "--dbname",
        str(settings["NAME"]),
    ]
    return env, args


def _run(command: list[str], env: dict[str, str]) -> None:
    executable = shutil.which(command[0])
    if executable is None:
        raise BackupError(f"{command[0]} is not installed (apt-get install postgresql-client).")
    result = subprocess.run([executable, *command[1:]], env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


def backup(path: Path) -> str:
    """Write a full backup to `path` and its checksum to `path.sha256`; returns the checksum."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "postgresql":
        env, args = _pg_env_and_args()
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(path), *args], env)
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(path) as target:
            connection.connection.backup(target)
    else:
        raise BackupError(f"No backup method for {connection.vendor}.")
    checksum = _checksum(path)
    path.with_name(path.name + ".sha256").write_text(f"{checksum}  {path.name}\n")
    return checksum


def restore(path: Path) -> None:
    """Replace the whole database with a verified backup."""
    checksum_file = path.with_name(path.name + ".sha256")
    if not path.exists() or not checksum_file.exists():
        raise BackupError(f"{path} or its checksum file is missing.")
    if checksum_file.read_text().split()[0] != _checksum(path):
        raise BackupError(f"{path} does not match its checksum: refusing to restore a damaged backup.")
    if connection.vendor == "postgresql":
        env, args = _pg_env_and_args()
        connection.close()
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                *args,
                str(path),
            ],
            env,
        )
        with as_owner():
            grant_app_privileges()
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(path) as source:
            source.backup(connection.connection)
    else:
        raise BackupError(f"No restore method for {connection.vendor}.")
    connection.close()
