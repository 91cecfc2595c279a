"""The jobs' record, on the app's one data layer (albert_viz.store): SQLite by default, PostgreSQL when configured.

Every job has one row: what it trains (base model spec, config), where it is (state, progress
snapshot), how it ended (result as JSON, error message, model folder) and when. A waiting job's dataset
is in the database too, so whichever server has a free slot can start it. Finished models live in
`<ALBERT_VIZ_DATA>/results/<job id>/`: with several servers that folder must be on storage they all read
(one machine, or a shared disk). Kept models are cleaned by age and size.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from albert_viz.finetune.data import LabelledDataset
from albert_viz.finetune.job import (
    CANCELLED, FAILED, FINAL_STATES, INTERRUPTED, QUEUED, RUNNING, FinetuneConfig, FinetuneResult, ProgressSnapshot,
)
from albert_viz.model.loading import ModelSpec
from albert_viz.store.engine import DatabaseUnavailable, data_dir, database_url
from albert_viz.store.jobs import JobTable

__all__ = ["DatabaseUnavailable", "JobRecord", "JobStore", "data_dir"]

DEFAULT_MAX_AGE_DAYS = 7.0  # a finished job's model is kept this long ...
DEFAULT_MAX_RESULTS_MB = 2_000.0  # ... while all kept models together stay under this size (oldest go first)
INTERRUPTED_MESSAGE = "The server stopped while this job was training, so it did not finish. Start it again."


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
    submitted_by: str | None = None  # the server (or CLI run) that took the job in
    claimed_by: str | None = None  # the server whose training slot runs it

    @property
    def state(self) -> str:
        return self.snapshot.state


class JobStore:
    """Jobs in the app's database; safe to use from many threads, processes and servers at once.

    Every method may raise DatabaseUnavailable (its message is for the page) when the database is down.
    """

    def __init__(self, folder: str | Path | None = None, url: str | None = None):
        self.folder = Path(folder) if folder else data_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.url = url or database_url(self.folder)
        self.results_dir = self.folder / "results"
        self.table = JobTable(self.url)

    def job_folder(self, job_id: str) -> Path:
        return self.results_dir / job_id

    def create(self, job_id: str, spec: ModelSpec, config: FinetuneConfig, owner: str = "", runner: str = "",
               model_dir: Path | None = None, server_pid: int | None = None, dataset: LabelledDataset | None = None,
               submitted_by: str | None = None) -> None:
        """A new queued job, with the dataset it trains on when any server may start it."""
        now = time.time()
        self.table.insert({
            "id": job_id, "owner": owner, "runner": runner, "base_spec": asdict(spec), "config": asdict(config),
            "state": QUEUED, "progress": _plain(ProgressSnapshot().to_json()), "model_dir": str(model_dir) if
            model_dir else None, "server_pid": server_pid or os.getpid(), "created": now, "last_seen": now,
            "submitted_by": submitted_by}, dataset=dataset_json(dataset) if dataset is not None else None)

    def publish(self, job_id: str, snapshot: ProgressSnapshot) -> None:
        """A running job's latest progress; only finish() ends a job, and an ended job is never moved back."""
        if snapshot.finished:
            return
        record = self.get(job_id) if snapshot.state == RUNNING else None
        values = {"progress": _plain(snapshot.to_json()), "state": snapshot.state}
        if record is not None and record.started is None:
            values["started"] = time.time()
        self.table.update(job_id, values, unless_in=FINAL_STATES)

    def set_queue_position(self, job_id: str, position: int, message: str) -> None:
        record = self.get(job_id)
        if record and record.state == QUEUED:
            self.publish(job_id, replace(record.snapshot, queue_position=position, message=message))

    def finish(self, job_id: str, state: str, error: str | None = None, result: FinetuneResult | None = None,
               snapshot: ProgressSnapshot | None = None) -> bool:
        """Move a job to its final state once, freeing its slot; False if it had already ended (the first wins)."""
        record = self.get(job_id)
        if record is None or record.snapshot.finished:
            return False
        error = error or (record.snapshot.error if state != FAILED else None) or None
        final = replace(snapshot or record.snapshot, state=state, error=error, queue_position=0, eta_s=None,
                        message={CANCELLED: "Cancelled", FAILED: "Failed", INTERRUPTED: "Interrupted"}.get(state,
                                                                                                  "Finished"))
        return self.table.finish(job_id, {"state": state, "progress": _plain(final.to_json()), "error": error,
                                          "result": _plain(result.to_json()) if result else None,
                                          "finished": time.time(), "pid": None}, FINAL_STATES)

    def finish_when_back(self, job_id: str, wait_s: float, *args, **kwargs) -> bool:
        """finish(), retried while the database is down (a training process must not lose a finished job)."""
        deadline, pause = time.monotonic() + wait_s, 0.5
        while True:
            try:
                return self.finish(job_id, *args, **kwargs)
            except DatabaseUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    def request_cancel(self, job_id: str, reason: str | None = None) -> None:
        """Ask the job to stop; the reason (if any) is what the page will say."""
        values = {"cancel_requested": 1} | ({"error": reason} if reason else {})
        self.table.update(job_id, values)

    def cancel_if_waiting(self, job_id: str, reason: str | None = None) -> bool:
        """A job no server has taken yet ends at once; False if one has (its server stops it)."""
        record = self.get(job_id)
        if record is None or record.state != QUEUED or record.claimed_by:
            return False
        final = replace(record.snapshot, state=CANCELLED, error=reason or record.snapshot.error, queue_position=0,
                        eta_s=None, message="Cancelled")
        return self.table.finish_unclaimed(job_id, QUEUED, {"state": CANCELLED, "progress": _plain(final.to_json()),
                                                            "error": final.error, "finished": time.time()})

    def cancel_requested(self, job_id: str) -> bool:
        row = self.table.get(job_id)
        return bool(row and row["cancel_requested"])

    def set_pid(self, job_id: str, pid: int | None) -> None:
        self.table.update(job_id, {"pid": pid})

    def touch(self, job_id: str) -> None:
        """Someone is looking at this job (a page polls it); abandoned jobs are the ones nobody touches."""
        self.table.update(job_id, {"last_seen": time.time()})

    def get(self, job_id: str) -> JobRecord | None:
        row = self.table.get(job_id)
        return _record(row) if row else None

    def jobs(self, states: tuple[str, ...] | None = None, limit: int = 200, oldest_first: bool = False,
             **equal) -> list[JobRecord]:
        """Newest first (or oldest first); only these states and column values if given."""
        return [_record(row) for row in self.table.select(states or (), limit, oldest_first, **equal)]

    def dataset(self, job_id: str) -> LabelledDataset | None:
        """What a waiting job trains on (gone once it has ended)."""
        fields = self.table.dataset(job_id)
        return LabelledDataset(**{name: tuple(value) if isinstance(value, list) else value
                                  for name, value in fields.items()}) if fields else None

    def interrupt(self, job_ids: list[str], message: str = INTERRUPTED_MESSAGE) -> list[str]:
        """These jobs' server is gone: say so, drop their files (how far they got is still shown)."""
        for job_id in job_ids:
            shutil.rmtree(self.job_folder(job_id), ignore_errors=True)  # files first: "interrupted" finds none
            self.finish(job_id, INTERRUPTED, error=message)
        return job_ids

    def mark_interrupted(self, runner: str) -> list[str]:
        """Jobs of this runner kind left waiting or running by a server process on this machine that stopped.

        Only jobs outside the shared queue (the Ray runner's, or an old store's): a queued job in the shared queue
        waits for any server, and a claimed one goes with its server's slots (LocalRunner's sweep).
        Another live process's jobs are left alone.
        """
        ids = [record.id for record in self.jobs((QUEUED, RUNNING), limit=100_000)
               if record.runner == runner and record.submitted_by is None and record.claimed_by is None
               and not process_alive(record.server_pid)]
        return self.interrupt(ids, "The server stopped while this job was waiting or training, so it did not "
                                   "finish. Start it again.")

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
                self.table.update(record.id, {"result": None, "error": (
                    "This job's model was deleted to make room (results are kept "
                    f"{max_age_days:g} days, {max_total_mb:g} MB in all).")})
        return removed


def dataset_json(dataset: LabelledDataset) -> dict:
    return {name: list(value) if isinstance(value, tuple) else value for name, value in asdict(dataset).items()}


def _plain(text: str):
    """A to_json() string as the JSON column's value; a NaN or infinite loss becomes null (PostgreSQL refuses NaN)."""
    return _finite(json.loads(text))


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def _record(row: dict) -> JobRecord:
    snapshot = replace(ProgressSnapshot.from_json(json.dumps(row["progress"])), state=row["state"], error=row["error"])
    return JobRecord(
        id=row["id"], owner=row["owner"], runner=row["runner"], spec=ModelSpec(**row["base_spec"]),
        config=FinetuneConfig(**row["config"]), snapshot=snapshot,
        result=FinetuneResult.from_json(json.dumps(row["result"])) if row["result"] else None,
        model_dir=Path(row["model_dir"]) if row["model_dir"] else None, cancel_requested=bool(row["cancel_requested"]),
        pid=row["pid"], server_pid=row["server_pid"], created=row["created"], started=row["started"],
        finished=row["finished"], last_seen=row["last_seen"], submitted_by=row["submitted_by"],
        claimed_by=row["claimed_by"])


def process_alive(pid: int | None) -> bool:
    """Whether a process of this machine with that id exists (the runner's and the store's one check)."""
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
