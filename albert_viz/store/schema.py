"""The tables, at the newest schema version. migrations.py brings any older database here.

JSON columns hold what today's store kept as JSON text (SQLite stores JSON as text, so an old store's rows
read unchanged); times are seconds since the epoch, as the old store wrote them.
"""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version", metadata,
    sa.Column("version", sa.Integer, nullable=False),
)

def job_columns() -> list[sa.Column]:
    """The `jobs` table as today's store (schema version 1) made it."""
    return [
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("owner", sa.Text, nullable=False, server_default=""),
        sa.Column("runner", sa.Text, nullable=False, server_default=""),
        sa.Column("base_spec", sa.JSON, nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("progress", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON(none_as_null=True)),
        sa.Column("model_dir", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("cancel_requested", sa.Integer, nullable=False, server_default="0"),
        sa.Column("pid", sa.Integer),
        sa.Column("server_pid", sa.Integer),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("started", sa.Float),
        sa.Column("finished", sa.Float),
        sa.Column("last_seen", sa.Float, nullable=False),
    ]


jobs = sa.Table(
    "jobs", metadata, *job_columns(),
    # version 2: the server that submitted the job, and the one whose slot trains it
    sa.Column("submitted_by", sa.Text),
    sa.Column("claimed_by", sa.Text),
)
jobs_by_state = sa.Index("jobs_by_state", jobs.c.state, jobs.c.created)  # version 2: the queue's one query

# version 2: what a queued job trains on, so that any server can start it (deleted once the job ends)
job_inputs = sa.Table(
    "job_inputs", metadata,
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("dataset", sa.JSON, nullable=False),
)

# version 2: every app server (or CLI run) that trains jobs, with its heartbeat
servers = sa.Table(
    "servers", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started", sa.Float, nullable=False),
    sa.Column("heartbeat", sa.Float, nullable=False),
)

# version 2: the training slots of all servers together; a claimed slot names its job and server
job_slots = sa.Table(
    "job_slots", metadata,
    sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("job_id", sa.Text),
    sa.Column("server_id", sa.Text),
    sa.Column("claimed", sa.Float),
)
