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

# version 3: live classes (albert_viz/teaching/live_class.py decides the rules; store/classes.py reads and writes).
# A class is one row, found by its join code; `version` bumps on every change its followers must redraw for.
classes = sa.Table(
    "classes", metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("lesson", sa.Text, nullable=False),
    sa.Column("step", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sentence", sa.Text),  # a student's sentence on the projector, else NULL
    sa.Column("sentence_id", sa.Integer),  # the class_sentences row it came from
    sa.Column("question_id", sa.Integer),  # the current question, else NULL
    sa.Column("ended", sa.Integer, nullable=False, server_default="0"),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float),
    sa.Column("teacher_at", sa.Float),  # version 4: the teacher's last action (NULL: none since `created`)
)

# a student token is kept only as its sha256; `token_sealed` lets the same browser session (and only it) get its
# token back when it joins again (the token XOR a pad derived from the session id, which is never stored)
class_members = sa.Table(
    "class_members", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("class_code", sa.Text, sa.ForeignKey("classes.code"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),  # 1, 2, ... in order of joining ("Student 7")
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("name_key", sa.Text, nullable=False),  # the name case-folded: "Ana" and "ana" clash
    sa.Column("token_hash", sa.Text, nullable=False),
    sa.Column("session_hash", sa.Text, nullable=False),
    sa.Column("token_sealed", sa.Text, nullable=False),
    sa.Column("joined", sa.Float, nullable=False),
    sa.UniqueConstraint("class_code", "name_key", name="class_members_unique_name"),
    sa.UniqueConstraint("class_code", "session_hash", name="class_members_one_per_session"),
    sa.UniqueConstraint("token_hash", name="class_members_unique_token"),
)

class_questions = sa.Table(
    "class_questions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("class_code", sa.Text, sa.ForeignKey("classes.code"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("choices", sa.JSON, nullable=False),
    sa.Column("model_choice", sa.Integer, nullable=False),
    sa.Column("explanation", sa.Text, nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # open | closed | revealed
    sa.Column("counts", sa.JSON(none_as_null=True)),  # per choice, frozen at the reveal
    sa.Column("opened", sa.Float, nullable=False),
)
class_questions_by_class = sa.Index("class_questions_by_class", class_questions.c.class_code, class_questions.c.id)

# one answer per member per question: the primary key makes a retried answer replace, never add
class_answers = sa.Table(
    "class_answers", metadata,
    sa.Column("question_id", sa.Integer, sa.ForeignKey("class_questions.id"), primary_key=True, autoincrement=False),
    sa.Column("member_id", sa.Integer, sa.ForeignKey("class_members.id"), primary_key=True, autoincrement=False),
    sa.Column("choice", sa.Integer, nullable=False),
    sa.Column("answered", sa.Float, nullable=False),
)

class_sentences = sa.Table(
    "class_sentences", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("class_code", sa.Text, sa.ForeignKey("classes.code"), nullable=False),
    sa.Column("member_id", sa.Integer, sa.ForeignKey("class_members.id"), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("sent_at", sa.Float, nullable=False),
    sa.Column("hidden", sa.Integer, nullable=False, server_default="0"),
)
class_sentences_by_class = sa.Index("class_sentences_by_class", class_sentences.c.class_code, class_sentences.c.sent_at)
class_sentences_by_member = sa.Index("class_sentences_by_member", class_sentences.c.member_id,
                                     class_sentences.c.sent_at)

def _failures_table(name: str) -> tuple[sa.Table, sa.Index]:
    """A log of failed attempts, one row each, by browser session (hashed) and time: what a rate limit counts."""
    table = sa.Table(
        name, metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_hash", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    return table, sa.Index(f"{name}_by_session", table.c.session_hash, table.c.at)


# failed joins (a code no class has), for the rate limit that keeps codes unguessable
class_join_failures, class_join_failures_by_session = _failures_table("class_join_failures")

# version 4: failed joins counted across every session too (a guesser opening new sessions), by time
class_join_failures_by_time = sa.Index("class_join_failures_by_time", class_join_failures.c.at)

# version 4: wrong teacher passphrases, for their own limit
teacher_failures, teacher_failures_by_session = _failures_table("teacher_failures")

CLASS_TABLES = (classes, class_members, class_questions, class_answers, class_sentences, class_join_failures)
