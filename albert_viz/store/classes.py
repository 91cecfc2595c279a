"""Live classes' rows, shared by every app server on one database; the rules live in teaching/live_class.py.

Reads are single statements (`state_row` is what 30 followers poll every second: one SELECT with two
indexed counts). Every write to a class happens inside `locked(code)`: one transaction that first locks the
class's row (SELECT ... FOR UPDATE on PostgreSQL, SQLite's write lock), so the rule that checks ("is the
question still open?") and the write it allows can never be split by another server's write.
Every call may raise DatabaseUnavailable (its message is for the page) when the database is down or locked.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from albert_viz.store import migrations
from albert_viz.store.engine import (
    DatabaseUnavailable,
    database_url,
    guarded,
    open_engine,
    unavailable_message,
)
from albert_viz.store.schema import (
    class_answers,
    class_join_failures,
    class_members,
    class_questions,
    class_sentences,
    classes,
    teacher_failures,
)

Row = Mapping[str, Any]
LOCK_TIMEOUT_S = 5.0  # PostgreSQL: a class's row held longer than this by a stuck writer fails the call, clearly

__all__ = [
    "ClassTables",
    "CodeTaken",
    "LockedClass",
    "Row",
    "class_answers",
    "class_join_failures",
    "class_members",
    "class_questions",
    "class_sentences",
    "classes",
    "teacher_failures",
]


class CodeTaken(Exception):
    """Another class already has this code (the caller draws another)."""


def _state_query() -> sa.Select:
    """The class row, its current question and the two live counts, in one statement."""
    members = (sa.select(sa.func.count()).select_from(class_members)
               .where(class_members.c.class_code == classes.c.code).scalar_subquery())
    answered = (sa.select(sa.func.count()).select_from(class_answers)
                .where(class_answers.c.question_id == class_questions.c.id).scalar_subquery())
    return (sa.select(classes.c.code, classes.c.lesson, classes.c.step, classes.c.sentence, classes.c.ended,
                      classes.c.version, classes.c.created, classes.c.teacher_at, members.label("members"),
                      class_questions.c.id.label("question_id"), class_questions.c.kind, class_questions.c.prompt,
                      class_questions.c.choices, class_questions.c.state.label("question_state"),
                      class_questions.c.counts, class_questions.c.model_choice, class_questions.c.explanation,
                      class_questions.c.spec, answered.label("answered"))
            .select_from(classes.outerjoin(class_questions, class_questions.c.id == classes.c.question_id))
            .where(classes.c.code == sa.bindparam("code")))


STATE_QUERY = _state_query()  # built once: the poll only binds the code


class LockedClass:
    """One class's row, locked for one write transaction, and the statements a rule needs; it decides nothing."""

    def __init__(self, connection: Connection, row: Row | None):
        self.connection = connection
        self.row = row  # None: no class has this code

    @property
    def code(self) -> str:
        return self.row["code"]

    def _one(self, query) -> Row | None:
        row = self.connection.execute(query).mappings().first()
        return dict(row) if row else None

    def change(self, **values: Any) -> None:
        """Update the class's row and bump its version (followers redraw)."""
        self.connection.execute(classes.update().where(classes.c.code == self.code)
                                .values(version=classes.c.version + 1, **values))

    def touch_teacher(self, now: float) -> None:
        """The teacher acted on the class: its code keeps working (not a change followers redraw for)."""
        self.connection.execute(classes.update().where(classes.c.code == self.code).values(teacher_at=now))

    # Members

    def member_by_session(self, session_hash: str) -> Row | None:
        return self._one(sa.select(class_members).where(class_members.c.class_code == self.code,
                                                        class_members.c.session_hash == session_hash))

    def member_by_token(self, token_hash: str) -> Row | None:
        return self._one(sa.select(class_members).where(class_members.c.class_code == self.code,
                                                        class_members.c.token_hash == token_hash))

    def name_taken(self, name_key: str) -> bool:
        return self._one(sa.select(class_members.c.id).where(class_members.c.class_code == self.code,
                                                             class_members.c.name_key == name_key)) is not None

    def member_count(self) -> int:
        return self.connection.execute(sa.select(sa.func.count()).select_from(class_members)
                                       .where(class_members.c.class_code == self.code)).scalar_one()

    def add_member(self, values: Row) -> int:
        return self.connection.execute(class_members.insert().values(class_code=self.code, **values)
                                       .returning(class_members.c.id)).scalar_one()

    # Questions and answers

    def question(self, question_id: int) -> Row | None:
        return self._one(sa.select(class_questions).where(class_questions.c.class_code == self.code,
                                                          class_questions.c.id == question_id))

    def add_question(self, values: Row) -> int:
        return self.connection.execute(class_questions.insert().values(class_code=self.code, **values)
                                       .returning(class_questions.c.id)).scalar_one()

    def set_question(self, question_id: int, **values: Any) -> None:
        self.connection.execute(class_questions.update().where(class_questions.c.id == question_id).values(**values))

    def close_open_questions(self) -> None:
        self.connection.execute(class_questions.update().where(class_questions.c.class_code == self.code,
                                                               class_questions.c.state == "open")
                                .values(state="closed"))

    def upsert_answer(self, question_id: int, member_id: int, choice: int, now: float) -> None:
        """The member's answer to this question, replacing an earlier one (a retry never adds a second)."""
        insert = (postgresql.insert if self.connection.dialect.name == "postgresql" else sqlite.insert)(class_answers)
        self.connection.execute(insert.values(question_id=question_id, member_id=member_id, choice=choice,
                                              answered=now)
                                .on_conflict_do_update(index_elements=["question_id", "member_id"],
                                                       set_={"choice": choice, "answered": now}))

    def answer_counts(self, question_id: int) -> dict[int, int]:
        query = (sa.select(class_answers.c.choice, sa.func.count()).where(class_answers.c.question_id == question_id)
                 .group_by(class_answers.c.choice))
        return {int(choice): int(count) for choice, count in self.connection.execute(query)}

    # Sentences

    def sentence(self, offer_id: int) -> Row | None:
        return self._one(sa.select(class_sentences).where(class_sentences.c.class_code == self.code,
                                                          class_sentences.c.id == offer_id))

    def add_sentence(self, member_id: int, text: str, now: float) -> int:
        return self.connection.execute(class_sentences.insert().values(
            class_code=self.code, member_id=member_id, text=text, sent_at=now).returning(class_sentences.c.id)
        ).scalar_one()

    def sentences_since(self, member_id: int, since: float) -> int:
        return self.connection.execute(sa.select(sa.func.count()).select_from(class_sentences).where(
            class_sentences.c.member_id == member_id, class_sentences.c.sent_at >= since)).scalar_one()

    def hide_sentence(self, offer_id: int) -> None:
        self.connection.execute(class_sentences.update().where(class_sentences.c.id == offer_id).values(hidden=1))


class ClassTables:
    """The live-class tables on one database, migrated on first use; every call may raise DatabaseUnavailable."""

    def __init__(self, url: str | None = None):
        self.url = url or database_url()
        self.engine: Engine = open_engine(self.url)
        guarded(migrations.migrate, self.url)(self.engine)
        for name in ("create_class", "state_row", "class_row", "member_by_token", "answer_of", "sentences",
                     "answer_rows", "members", "questions", "join_failures_since", "record_join_failure",
                     "join_failures_anywhere_since", "teacher_failures_since", "record_teacher_failure"):
            setattr(self, name, guarded(getattr(self, name), self.url))

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def locked(self, code: str) -> Iterator[LockedClass]:
        """One write transaction on this class, its row locked first; committed when the block ends."""
        try:
            with self.engine.connect().execution_options(write_lock=True) as connection, connection.begin():
                if connection.dialect.name == "postgresql":  # SQLite waits SQLITE_BUSY_S for its write lock
                    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT_S * 1000)}ms'")
                row = connection.execute(sa.select(classes).where(classes.c.code == code).with_for_update()
                                         ).mappings().first()
                yield LockedClass(connection, dict(row) if row else None)
        except (exc.OperationalError, exc.InterfaceError) as error:
            raise DatabaseUnavailable(unavailable_message(error, self.url)) from None

    def create_class(self, code: str, lesson: str, now: float) -> None:
        """A new class row; CodeTaken if another class has the code."""
        try:
            with self.engine.begin() as connection:
                connection.execute(classes.insert().values(code=code, lesson=lesson, step=0, ended=0, version=1,
                                                           created=now))
        except exc.IntegrityError:
            raise CodeTaken(code) from None

    def state_row(self, code: str) -> Row | None:
        with self.engine.connect() as connection:
            row = connection.execute(STATE_QUERY, {"code": code}).mappings().first()
        return dict(row) if row else None

    def class_row(self, code: str) -> Row | None:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(classes).where(classes.c.code == code)).mappings().first()
        return dict(row) if row else None

    def member_by_token(self, token_hash: str) -> Row | None:
        """The member with this token hash, in any class, with its class's `ended`."""
        query = (sa.select(class_members, classes.c.ended)
                 .select_from(class_members.join(classes, classes.c.code == class_members.c.class_code))
                 .where(class_members.c.token_hash == token_hash))
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return dict(row) if row else None

    def answer_of(self, question_id: int, member_id: int) -> int | None:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(class_answers.c.choice).where(
                class_answers.c.question_id == question_id, class_answers.c.member_id == member_id)).scalar()

    def sentences(self, code: str, include_hidden: bool) -> list[Row]:
        """The class's sentences with their senders' names, newest first."""
        query = (sa.select(class_sentences, class_members.c.name)
                 .select_from(class_sentences.join(class_members, class_members.c.id == class_sentences.c.member_id))
                 .where(class_sentences.c.class_code == code)
                 .order_by(class_sentences.c.sent_at.desc(), class_sentences.c.id.desc()))
        if not include_hidden:
            query = query.where(class_sentences.c.hidden == 0)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def members(self, code: str) -> list[Row]:
        query = (sa.select(class_members.c.id, class_members.c.name, class_members.c.number, class_members.c.joined)
                 .where(class_members.c.class_code == code).order_by(class_members.c.number))
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def questions(self, code: str) -> list[Row]:
        query = sa.select(class_questions).where(class_questions.c.class_code == code).order_by(class_questions.c.id)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def answer_rows(self, code: str) -> list[Row]:
        """Every answer in the class: question id, member id, choice, time."""
        query = (sa.select(class_answers)
                 .select_from(class_answers.join(class_questions, class_questions.c.id == class_answers.c.question_id))
                 .where(class_questions.c.class_code == code))
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def join_failures_since(self, session_hash: str, since: float) -> int:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(class_join_failures).where(
                class_join_failures.c.session_hash == session_hash, class_join_failures.c.at >= since)).scalar_one()

    def join_failures_anywhere_since(self, since: float) -> int:
        """Failed joins from every session of every server on this database (one indexed range count)."""
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(class_join_failures)
                                      .where(class_join_failures.c.at >= since)).scalar_one()

    def record_join_failure(self, session_hash: str, now: float, forget_before: float) -> None:
        """One more failed join; the ones older than any limit looks back to are deleted (the table stays small)."""
        with self.engine.begin() as connection:
            connection.execute(class_join_failures.delete().where(class_join_failures.c.at < forget_before))
            connection.execute(class_join_failures.insert().values(session_hash=session_hash, at=now))

    def teacher_failures_since(self, session_hash: str, since: float) -> int:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(teacher_failures).where(
                teacher_failures.c.session_hash == session_hash, teacher_failures.c.at >= since)).scalar_one()

    def record_teacher_failure(self, session_hash: str, now: float, forget_before: float) -> None:
        with self.engine.begin() as connection:
            connection.execute(teacher_failures.delete().where(teacher_failures.c.at < forget_before))
            connection.execute(teacher_failures.insert().values(session_hash=session_hash, at=now))
