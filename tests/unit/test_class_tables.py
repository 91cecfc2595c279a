"""The live-class tables in the data layer: the upgrade from the previous schema, the poll's indexes, and a database
that is down or locked mid-class (a clear DatabaseUnavailable, and the class intact when it is back)."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from albert_viz.finetune.job import QUEUED, FinetuneConfig
from albert_viz.finetune.store import JobStore
from albert_viz.model.loading import ModelSpec
from albert_viz.store import classes as class_store
from albert_viz.store import engine as store_engine
from albert_viz.store import migrations
from albert_viz.store.classes import STATE_QUERY, ClassTables
from albert_viz.store.engine import URL_VARIABLE, DatabaseUnavailable
from albert_viz.teaching import live_class
from albert_viz.teaching.live_class import LiveClasses

PASSPHRASE = "owl-and-pussycat"


@pytest.fixture(autouse=True)
def teacher_passphrase(monkeypatch):
    monkeypatch.setenv(live_class.PASSPHRASE_VARIABLE, PASSPHRASE)


def a_class_with_an_answer(live: LiveClasses):
    teacher = live.open_class("self_attention", PASSPHRASE)
    member = live.join(teacher.code, "Ana", "session-1")
    question = teacher.open_question("mask", "What goes in [MASK]?", ("cat", "dog", "mat"), 0, "cat: 0.4", {})
    live.answer(member, question, 1)
    return teacher, member, question


def test_the_upgrade_from_the_previous_schema_keeps_the_jobs(database_url, monkeypatch):
    with monkeypatch.context() as previous_app:  # the app before live classes: schema version 2
        previous_app.setattr(migrations, "LATEST", 2)
        previous_app.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:2])
        JobStore(url=database_url).create("old-job", ModelSpec("bundled"), FinetuneConfig(max_steps=3), owner="Ada")
    live = LiveClasses(database_url)  # this app's first start on that database
    with live.tables.engine.connect() as connection:
        assert migrations.current_version(connection) == migrations.LATEST
    record = JobStore(url=database_url).get("old-job")
    assert record.state == QUEUED and record.owner == "Ada"
    assert live.state(live.open_class("self_attention", PASSPHRASE).code).members == 0


def test_the_upgrade_from_schema_3_keeps_a_running_class_and_its_code_working(database_url, monkeypatch):
    """A class opened before version 4 (no `teacher_at`) runs on after the upgrade; its code counts from `created`."""
    with monkeypatch.context() as previous_app:
        previous_app.setattr(migrations, "LATEST", 3)
        previous_app.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
        old = LiveClasses(database_url)
        old.tables.create_class("K7P2QX", "self_attention", time.time())  # the old app's open_class
        member = old.join("K7P2QX", "Ana", "session-1")
        with old.tables.engine.begin() as connection:  # the shape version 3 shipped with (it had neither)
            connection.exec_driver_sql("DROP INDEX class_join_failures_by_time")
            connection.exec_driver_sql("ALTER TABLE classes DROP COLUMN teacher_at")
        old.tables.engine.dispose()
    live = LiveClasses(database_url)
    with live.tables.engine.connect() as connection:
        assert migrations.current_version(connection) == migrations.LATEST == 4
        assert sa.inspect(connection).has_table("teacher_failures")
    assert live.member("K7P2QX", member.token) == member and not live.state("K7P2QX").expired
    assert live.join("K7P2QX", "Ben", "session-2").name == "Ben"


def test_the_poll_reads_only_through_indexes():
    """SQLite's plan for state(): every table searched by key, none scanned (30 students poll every second)."""
    import tempfile

    tables = ClassTables(f"sqlite:///{tempfile.mkdtemp()}/classes.sqlite3")
    sql = str(STATE_QUERY.compile(tables.engine))
    with tables.engine.connect() as connection:
        plan = [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", ("ABCDEF",))]
    searched = [step for step in plan if step.startswith("SEARCH")]
    assert len(searched) == 4 and not [step for step in plan if step.startswith("SCAN")]


def test_the_server_wide_count_of_failed_joins_reads_through_its_index(tmp_path):
    """Every join asks how many failed in the last minute: a range search on the time index, not a scan."""
    tables = ClassTables(f"sqlite:///{tmp_path / 'classes.sqlite3'}")
    query = (sa.select(sa.func.count()).select_from(class_store.class_join_failures)
             .where(class_store.class_join_failures.c.at >= 0.0))
    sql = str(query.compile(tables.engine, compile_kwargs={"literal_binds": True}))
    with tables.engine.connect() as connection:
        plan = " ".join(row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "class_join_failures_by_time" in plan and "SCAN" not in plan


@pytest.fixture
def own_postgres():
    """A server of its own, for the test that stops it."""
    from tests.postgres import remove, start_postgres

    server = start_postgres()
    yield server
    remove(server)


def test_a_class_survives_its_database_going_down_and_coming_back(own_postgres):
    live = LiveClasses(own_postgres.new_database())
    teacher, member, question = a_class_with_an_answer(live)
    own_postgres.stop()
    for call in (lambda: live.state(teacher.code), lambda: live.answer(member, question, 2),
                 lambda: live.join(teacher.code, "Ben", "session-2"), lambda: teacher.reveal(question)):
        with pytest.raises(DatabaseUnavailable, match=URL_VARIABLE):
            call()
    own_postgres.start()
    live.answer(member, question, 1)  # the student's retry: replaces, never adds
    teacher.reveal(question)
    shown = live.state(teacher.code).question
    assert shown.answered == 1 and shown.counts == (0, 1, 0) and live.state(teacher.code).members == 1


def test_a_locked_sqlite_database_fails_writes_clearly_and_keeps_reads(tmp_path, monkeypatch):
    monkeypatch.setattr(store_engine, "SQLITE_BUSY_S", 0.2)  # a lock held past this is a fault, not a wait
    path = tmp_path / "jobs.sqlite3"
    live = LiveClasses(f"sqlite:///{path}")
    teacher, member, question = a_class_with_an_answer(live)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing and stuck
    try:
        with pytest.raises(DatabaseUnavailable, match="locked"):
            live.answer(member, question, 2)
        assert live.state(teacher.code).question.answered == 1  # followers still read (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    live.answer(member, question, 2)
    assert live.my_answer(member, question) == 2 and live.state(teacher.code).question.answered == 1


def test_a_class_row_locked_too_long_on_postgresql_fails_clearly(postgres, monkeypatch):
    monkeypatch.setattr(class_store, "LOCK_TIMEOUT_S", 0.3)
    url = postgres.new_database()
    live = LiveClasses(url)
    teacher, member, question = a_class_with_an_answer(live)
    stuck = sa.create_engine(url)
    with stuck.connect() as connection, connection.begin():
        connection.execute(sa.text("SELECT * FROM classes WHERE code = :code FOR UPDATE"), {"code": teacher.code})
        with pytest.raises(DatabaseUnavailable, match="lock"):
            live.answer(member, question, 2)
    stuck.dispose()
    live.answer(member, question, 2)
    assert live.my_answer(member, question) == 2


def test_a_write_waits_for_another_servers_write_on_the_same_class(database_url):
    """Two servers changing one class at once: both changes land, one after the other (the row lock)."""
    first, second = LiveClasses(database_url), LiveClasses(database_url)
    teacher = first.open_class("self_attention", PASSPHRASE)
    start = threading.Barrier(2)

    def join(live: LiveClasses, session: str) -> None:
        start.wait()
        live.join(teacher.code, "Ana", session)

    threads = [threading.Thread(target=join, args=(live, f"s{n}")) for n, live in enumerate((first, second))]
    [thread.start() for thread in threads]
    [thread.join(60) for thread in threads]
    names = sorted(row["name"] for row in first.tables.members(teacher.code))
    assert names == ["Ana", "Ana (2)"]
