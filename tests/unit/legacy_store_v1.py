"""Today's job store, frozen as it was before the data layer (schema version 1): the migration tests write with it.

A verbatim copy of albert_viz/finetune/store.py at f822572; never change it (it is what users' disks hold)."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from albert_viz.finetune.job import (
    CANCELLED, FAILED, FINAL_STATES, INTERRUPTED, QUEUED, RUNNING, FinetuneConfig, FinetuneResult, ProgressSnapshot,
)
from albert_viz.model.loading import ModelSpec

DEFAULT_DATA_DIR = Path.home() / ".cache" / "albert_viz"
DEFAULT_MAX_AGE_DAYS = 7.0  # a finished job's model is kept this long ...
DEFAULT_MAX_RESULTS_MB = 2_000.0  # ... while all kept models together stay under this size (oldest go first)

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL DEFAULT '',
    runner TEXT NOT NULL DEFAULT '',
    base_spec TEXT NOT NULL,
    config TEXT NOT NULL,
    state TEXT NOT NULL,
    progress TEXT NOT NULL,
    result TEXT,
    model_dir TEXT,
    error TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    pid INTEGER,
    server_pid INTEGER,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    last_seen REAL NOT NULL
)
"""


def data_dir() -> Path:
    """ALBERT_VIZ_DATA, or ~/.cache/albert_viz; created on first use."""
    folder = Path(os.environ.get("ALBERT_VIZ_DATA") or DEFAULT_DATA_DIR).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class JobRecord:
    """One row of the store, decoded."""

    id: str
    owner: str
    runner: str
    spec: ModelSpec
    config: FinetuneConfig
    snapshot: ProgressSnapshot  # its state and error are the row's own
    result: FinetuneResult | None
    model_dir: Path | None
    cancel_requested: bool
    pid: int | None
    server_pid: int | None
    created: float
    started: float | None
    finished: float | None
    last_seen: float

    @property
    def state(self) -> str:
        return self.snapshot.state


class JobStore:
    """Jobs in `<folder>/jobs.sqlite3`; safe to use from many threads and processes at once."""

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder else data_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "jobs.sqlite3"
        self.results_dir = self.folder / "results"
        self._local = threading.local()
        with self._connection() as connection:
            connection.execute(SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        """This thread's own connection (sqlite3 connections must not be shared between threads)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer, nor it them
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
        return connection

    def job_folder(self, job_id: str) -> Path:
        return self.results_dir / job_id

    def create(self, job_id: str, spec: ModelSpec, config: FinetuneConfig, owner: str = "", runner: str = "",
               model_dir: Path | None = None, server_pid: int | None = None) -> None:
        """A new queued job, owned by the process that submits it (a server or a CLI run)."""
        now = time.time()
        self._connection().execute(
            "INSERT INTO jobs (id, owner, runner, base_spec, config, state, progress, model_dir, server_pid,"
            " created, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (job_id, owner, runner, json.dumps(asdict(spec)), json.dumps(asdict(config)), QUEUED,
             ProgressSnapshot().to_json(), str(model_dir) if model_dir else None, server_pid or os.getpid(),
             now, now))

    def publish(self, job_id: str, snapshot: ProgressSnapshot) -> None:
        """A running job's latest progress; only finish() ends a job, and an ended job is never moved back."""
        if snapshot.finished:
            return
        started = time.time() if snapshot.state == RUNNING else None
        self._connection().execute(
            "UPDATE jobs SET progress = ?, state = ?, started = COALESCE(started, ?) WHERE id = ? AND state NOT IN"
            f" ({','.join('?' * len(FINAL_STATES))})",
            (snapshot.to_json(), snapshot.state, started, job_id, *FINAL_STATES))

    def set_queue_position(self, job_id: str, position: int, message: str) -> None:
        record = self.get(job_id)
        if record and record.state == QUEUED:
            self.publish(job_id, replace(record.snapshot, queue_position=position, message=message))

    def finish(self, job_id: str, state: str, error: str | None = None, result: FinetuneResult | None = None,
               snapshot: ProgressSnapshot | None = None) -> bool:
        """Move a job to its final state once; False if it had already ended (the first ending wins)."""
        record = self.get(job_id)
        if record is None or record.snapshot.finished:
            return False
        error = error or (record.snapshot.error if state != FAILED else None) or None
        final = replace(snapshot or record.snapshot, state=state, error=error, queue_position=0, eta_s=None,
                        message={CANCELLED: "Cancelled", FAILED: "Failed", INTERRUPTED: "Interrupted"}.get(state,
                                                                                                  "Finished"))
        cursor = self._connection().execute(
            "UPDATE jobs SET state = ?, progress = ?, error = ?, result = ?, finished = ?, pid = NULL WHERE id = ?"
            f" AND state NOT IN ({','.join('?' * len(FINAL_STATES))})",
            (state, final.to_json(), error, result.to_json() if result else None, time.time(), job_id, *FINAL_STATES))
        return cursor.rowcount == 1

    def request_cancel(self, job_id: str, reason: str | None = None) -> None:
        """Ask the job to stop; the reason (if any) is what the page will say."""
        self._connection().execute("UPDATE jobs SET cancel_requested = 1, error = COALESCE(?, error) WHERE id = ?",
                                   (reason, job_id))

    def cancel_requested(self, job_id: str) -> bool:
        row = self._connection().execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return bool(row and row[0])

    def set_pid(self, job_id: str, pid: int | None) -> None:
        self._connection().execute("UPDATE jobs SET pid = ? WHERE id = ?", (pid, job_id))

    def touch(self, job_id: str) -> None:
        """Someone is looking at this job (a page polls it); abandoned jobs are the ones nobody touches."""
        self._connection().execute("UPDATE jobs SET last_seen = ? WHERE id = ?", (time.time(), job_id))

    def get(self, job_id: str) -> JobRecord | None:
        row = self._connection().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _record(row) if row else None

    def jobs(self, states: tuple[str, ...] | None = None, limit: int = 200) -> list[JobRecord]:
        """Newest first; only these states if given."""
        query, parameters = "SELECT * FROM jobs", ()
        if states:
            query += f" WHERE state IN ({','.join('?' * len(states))})"
            parameters = states
        rows = self._connection().execute(f"{query} ORDER BY created DESC LIMIT {int(limit)}", parameters)
        return [_record(row) for row in rows.fetchall()]

    def mark_interrupted(self, runner: str) -> list[str]:
        """Jobs of this runner kind left queued or running by a server that stopped: say so, drop their files.

        Another live process's jobs (a second server or a CLI run on the same data folder) are left alone.
        """
        ids = [record.id for record in self.jobs((QUEUED, RUNNING))
               if record.runner == runner and not _alive(record.server_pid)]
        for job_id in ids:
            self.finish(job_id, INTERRUPTED, error="The server stopped while this job was waiting or training, "
                                                   "so it did not finish. Start it again.")
            shutil.rmtree(self.job_folder(job_id), ignore_errors=True)
        return ids

    def cleanup(self, max_age_days: float | None = None, max_total_mb: float | None = None,
                now: float | None = None) -> list[str]:
        """Delete kept models older than the age limit, then the oldest until the total fits the size limit."""
        max_age_days = _env_float("ALBERT_VIZ_RESULTS_MAX_AGE_DAYS", max_age_days, DEFAULT_MAX_AGE_DAYS)
        max_total_mb = _env_float("ALBERT_VIZ_RESULTS_MAX_MB", max_total_mb, DEFAULT_MAX_RESULTS_MB)
        finished = sorted((record for record in self.jobs(FINAL_STATES, limit=100_000)
                           if self.job_folder(record.id).exists()), key=lambda record: record.finished or 0)
        sizes = {record.id: _folder_bytes(self.job_folder(record.id)) for record in finished}
        total, removed, now = sum(sizes.values()), [], now or time.time()
        for record in finished:
            too_old = now - (record.finished or now) > max_age_days * 86_400
            if too_old or total > max_total_mb * 1e6:
                shutil.rmtree(self.job_folder(record.id), ignore_errors=True)
                total -= sizes[record.id]
                removed.append(record.id)
                self._connection().execute(
                    "UPDATE jobs SET result = NULL, error = ? WHERE id = ?",
                    ("This job's model was deleted to make room (results are kept "
                     f"{max_age_days:g} days, {max_total_mb:g} MB in all).", record.id))
        return removed


def _record(row: sqlite3.Row) -> JobRecord:
    snapshot = replace(ProgressSnapshot.from_json(row["progress"]), state=row["state"], error=row["error"])
    return JobRecord(
        id=row["id"], owner=row["owner"], runner=row["runner"], spec=ModelSpec(**json.loads(row["base_spec"])),
        config=FinetuneConfig(**json.loads(row["config"])), snapshot=snapshot,
        result=FinetuneResult.from_json(row["result"]) if row["result"] else None,
        model_dir=Path(row["model_dir"]) if row["model_dir"] else None, cancel_requested=bool(row["cancel_requested"]),
        pid=row["pid"], server_pid=row["server_pid"], created=row["created"], started=row["started"], finished=row["finished"],
        last_seen=row["last_seen"])


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _env_float(name: str, given: float | None, default: float) -> float:
    return given if given is not None else float(os.environ.get(name) or default)


def _folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
