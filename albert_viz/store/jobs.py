"""Job rows, app servers and training slots, shared by every server on one database.

The rows are plain mappings (column -> value); albert_viz.finetune.store turns them into JobRecords.
Slots: `job_slots` has one row per training slot of the whole deployment. A server that wants to start
a job locks one free slot row and the oldest waiting job row with SELECT ... FOR UPDATE SKIP LOCKED
(PostgreSQL), or takes SQLite's write lock for the same transaction, so two servers never fill one slot
and never start one job twice. A job's end frees its slot in the same transaction.
"""
from __future__ import annotations

import time
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from albert_viz.store import migrations
from albert_viz.store.engine import database_url, guarded, open_engine
from albert_viz.store.schema import job_inputs, job_slots, jobs, servers

Row = Mapping[str, Any]


class JobTable:
    """The shared tables on one database, migrated on first use; every call may raise DatabaseUnavailable."""

    def __init__(self, url: str | None = None):
        self.url = url or database_url()
        self.engine: Engine = open_engine(self.url)
        guarded(migrations.migrate, self.url)(self.engine)
        for name in ("insert", "update", "finish", "finish_unclaimed", "get", "select", "count", "dataset", "register_server",
                     "heartbeat", "remove_server", "servers", "ensure_slots", "claim_next", "release_server",
                     "claimed_slots"):
            setattr(self, name, guarded(getattr(self, name), self.url))

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    # Jobs

    def insert(self, values: Row, dataset: Row | None = None) -> None:
        with self.engine.begin() as connection:
            connection.execute(jobs.insert(), dict(values))
            if dataset is not None:
                connection.execute(job_inputs.insert(), {"job_id": values["id"], "dataset": dataset})

    def update(self, job_id: str, values: Row, unless_in: Iterable[str] = ()) -> int:
        """Change one job's row, unless its state is one of `unless_in`; the rows changed (0 or 1)."""
        query = jobs.update().where(jobs.c.id == job_id).values(**values)
        if unless_in:
            query = query.where(jobs.c.state.not_in(tuple(unless_in)))
        with self.engine.begin() as connection:
            return connection.execute(query).rowcount

    def finish(self, job_id: str, values: Row, final_states: Iterable[str]) -> bool:
        """End a job once (False if it had already ended): its row, its slot freed, its inputs dropped."""
        with self.engine.begin() as connection:
            changed = connection.execute(jobs.update().where(jobs.c.id == job_id, jobs.c.state.not_in(
                tuple(final_states))).values(**values)).rowcount
            if changed:
                connection.execute(job_slots.update().where(job_slots.c.job_id == job_id).values(
                    job_id=None, server_id=None, claimed=None))
                connection.execute(job_inputs.delete().where(job_inputs.c.job_id == job_id))
        return changed == 1

    def finish_unclaimed(self, job_id: str, waiting_state: str, values: Row) -> bool:
        """End a waiting job no server has claimed (a claim that got there first wins); True if it ended."""
        with self.engine.begin() as connection:
            changed = connection.execute(jobs.update().where(
                jobs.c.id == job_id, jobs.c.state == waiting_state, jobs.c.claimed_by.is_(None)).values(**values))
            if changed.rowcount:
                connection.execute(job_inputs.delete().where(job_inputs.c.job_id == job_id))
        return changed.rowcount == 1

    def get(self, job_id: str) -> Row | None:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return dict(row) if row else None

    def select(self, states: Iterable[str] = (), limit: int = 200, oldest_first: bool = False,
               **equal: Any) -> list[Row]:
        """Jobs newest first (or oldest first), only these states and column values if given."""
        query = sa.select(jobs).where(*(jobs.c[name] == value for name, value in equal.items()))
        if states:
            query = query.where(jobs.c.state.in_(tuple(states)))
        order = jobs.c.created.asc() if oldest_first else jobs.c.created.desc()
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query.order_by(order).limit(int(limit))).mappings()]

    def count(self, states: Iterable[str]) -> int:
        query = sa.select(sa.func.count()).select_from(jobs).where(jobs.c.state.in_(tuple(states)))
        with self.engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def dataset(self, job_id: str) -> Row | None:
        with self.engine.connect() as connection:
            return connection.execute(sa.select(job_inputs.c.dataset).where(job_inputs.c.job_id == job_id)).scalar()

    # Servers and slots

    def register_server(self, server_id: str, host: str, pid: int) -> None:
        now = time.time()
        with self.engine.begin() as connection:
            connection.execute(servers.insert(), {"id": server_id, "host": host, "pid": pid, "started": now,
                                                  "heartbeat": now})

    def heartbeat(self, server_id: str) -> bool:
        """This server is alive; False if another server has already declared it dead (its row is gone)."""
        with self.engine.begin() as connection:
            return connection.execute(servers.update().where(servers.c.id == server_id).values(
                heartbeat=time.time())).rowcount == 1

    def remove_server(self, server_id: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(servers.delete().where(servers.c.id == server_id))

    def servers(self) -> list[Row]:
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(sa.select(servers).order_by(servers.c.started))
                    .mappings()]

    def ensure_slots(self, count: int) -> None:
        """Slot rows 0 .. count-1 exist (each server may use only the first `count`: its own setting)."""
        with self.engine.connect().execution_options(write_lock=True) as connection, connection.begin():
            existing = set(connection.execute(sa.select(job_slots.c.slot)).scalars())
            missing = [{"slot": slot} for slot in range(count) if slot not in existing]
            if missing:
                connection.execute(job_slots.insert(), missing)

    def claim_next(self, server_id: str, slots: int, waiting_state: str, **equal: Any) -> str | None:
        """Take a free slot and the oldest waiting job for this server, or None; one transaction, locked rows."""
        with self.engine.connect().execution_options(write_lock=True) as connection, connection.begin():
            slot = connection.execute(
                sa.select(job_slots.c.slot).where(job_slots.c.job_id.is_(None), job_slots.c.slot < slots)
                .order_by(job_slots.c.slot).limit(1).with_for_update(skip_locked=True)).scalar()
            if slot is None:
                return None
            job_id = connection.execute(
                sa.select(jobs.c.id).where(jobs.c.state == waiting_state, jobs.c.claimed_by.is_(None),
                                           jobs.c.cancel_requested == 0,
                                           *(jobs.c[name] == value for name, value in equal.items()))
                .order_by(jobs.c.created).limit(1).with_for_update(skip_locked=True)).scalar()
            if job_id is None:
                return None
            connection.execute(job_slots.update().where(job_slots.c.slot == slot).values(
                job_id=job_id, server_id=server_id, claimed=time.time()))
            connection.execute(jobs.update().where(jobs.c.id == job_id).values(claimed_by=server_id))
        return job_id

    def claimed_slots(self) -> list[Row]:
        with self.engine.connect() as connection:
            query = sa.select(job_slots).where(job_slots.c.job_id.is_not(None)).order_by(job_slots.c.slot)
            return [dict(row) for row in connection.execute(query).mappings()]

    def release_server(self, server_id: str, final_states: Iterable[str]) -> list[str]:
        """A server that is gone: its row deleted, its slots freed; the unfinished jobs it had claimed."""
        with self.engine.connect().execution_options(write_lock=True) as connection, connection.begin():
            connection.execute(servers.delete().where(servers.c.id == server_id))
            connection.execute(job_slots.update().where(job_slots.c.server_id == server_id).values(
                job_id=None, server_id=None, claimed=None))
            return list(connection.execute(sa.select(jobs.c.id).where(
                jobs.c.claimed_by == server_id, jobs.c.state.not_in(tuple(final_states)))).scalars())
