"""Schema versions, numbered: each migration is one function run in one transaction, under a lock.

Why not Alembic: the app has a handful of tables and migrates itself on first start (there is no
operator to run `alembic upgrade`), and today's store has no version table at all; a numbered list of
small functions, one version row and a lock (a PostgreSQL advisory lock, SQLite's write lock) does the
same job with nothing to configure. Two servers starting at once: the first migrates, the other waits
on the lock, then finds the schema current and does nothing.
"""
from __future__ import annotations

from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from albert_viz.store import schema

ADVISORY_LOCK_KEY = 0x41_4C_42_45  # 'ALBE': one app-wide key, held for the migrating transaction only


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer version of the app."""


def _create_jobs(connection: Connection) -> None:
    """Version 1: today's store, one row per job (an old store already has it, written by sqlite3)."""
    sa.Table("jobs", sa.MetaData(), *schema.job_columns()).create(connection, checkfirst=True)


def _servers_and_slots(connection: Connection) -> None:
    """Version 2: several servers share one queue: who submitted and who trains a job, servers, slots, inputs."""
    for column in ("submitted_by", "claimed_by"):
        connection.exec_driver_sql(f"ALTER TABLE jobs ADD COLUMN {column} TEXT")
    for table in (schema.job_inputs, schema.servers, schema.job_slots):
        table.create(connection)
    schema.jobs_by_state.create(connection)


def _live_classes(connection: Connection) -> None:
    """Version 3: live classes: the class, its members, questions, answers, sentences, and failed joins."""
    for table in schema.CLASS_TABLES:
        table.create(connection)  # with its indexes


def _class_limits(connection: Connection) -> None:
    """Version 4: a class's code expires when its teacher is away for hours (the teacher's last action), failed
    joins are also counted server-wide (by time), wrong teacher passphrases are counted per session.

    Version 3 creates today's tables whole (with the column and index below), so each addition is made only where
    missing: a fresh database and one upgraded from version 3 end the same."""
    if "teacher_at" not in {column["name"] for column in sa.inspect(connection).get_columns("classes")}:
        connection.exec_driver_sql("ALTER TABLE classes ADD COLUMN teacher_at FLOAT")
    schema.class_join_failures_by_time.create(connection, checkfirst=True)
    schema.teacher_failures.create(connection, checkfirst=True)  # with its index


MIGRATIONS: tuple[tuple[int, Callable[[Connection], None]], ...] = (
    (1, _create_jobs), (2, _servers_and_slots), (3, _live_classes), (4, _class_limits))
LATEST = MIGRATIONS[-1][0]


def current_version(connection: Connection) -> int:
    """The version row; a database with only today's `jobs` table is version 1; an empty one is 0."""
    inspector = sa.inspect(connection)
    if inspector.has_table("schema_version"):
        return connection.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar() or 0
    return 1 if inspector.has_table("jobs") else 0


def migrate(engine: Engine, target: int | None = None) -> list[int]:
    """Bring the database to `target` (LATEST; an older one only in tests of an upgrade); the versions applied
    (none if another server got there first)."""
    target = LATEST if target is None else target
    with engine.connect().execution_options(write_lock=True) as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        version = current_version(connection)
        if version > LATEST:
            raise SchemaTooNew(f"The database is at schema version {version}, newer than this app's {LATEST}: "
                               "upgrade the app on this server.")
        applied = []
        for number, step in MIGRATIONS:
            if version < number <= target:
                step(connection)
                applied.append(number)
        if applied:
            schema.schema_version.create(connection, checkfirst=True)
            connection.execute(schema.schema_version.delete())
            connection.execute(schema.schema_version.insert(), {"version": applied[-1]})
    return applied
