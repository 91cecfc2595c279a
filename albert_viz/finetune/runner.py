"""One job interface, two runners: where fine-tuning jobs train, out of the web process.

    runner = make_runner()                       # runner_choice: LocalRunner, or RayRunner (ALBERT_VIZ_RAY_ADDRESS)
    job_id = runner.submit(spec, dataset, config)
    runner.snapshot(job_id)                      # ProgressSnapshot, from the store
    runner.cancel(job_id); runner.result(job_id) # FinetuneResult once done

The page and the CLI use only this. Both runners train with `run_watched` (one FinetuneJob, the one
training code path) in a worker that loads the base model itself from its ModelSpec: the shared
model of the web process is never pickled, trained or touched. Progress and the outcome go
through the store (albert_viz.store: SQLite or PostgreSQL), so a job outlives the tab that started it
and can be watched, cancelled and downloaded from any server on the same database.
"""
from __future__ import annotations

import atexit
import multiprocessing
import os
import shutil
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from albert_viz.finetune.data import LabelledDataset
from albert_viz.finetune.job import (
    CANCELLED, DONE, FAILED, FINAL_STATES, MAX_CONCURRENT_JOBS, MAX_LENGTH_LIMIT, MAX_WAITING_JOBS, QUEUED,
    FinetuneConfig, FinetuneJob, FinetuneResult, JobError, ProgressSnapshot, format_duration,
)
from albert_viz.finetune.store import DatabaseUnavailable, JobRecord, JobStore, process_alive
from albert_viz.model.loading import LoadedModel, ModelLoadError, ModelSpec, load_model

PUBLISH_EVERY_S = 0.5  # progress writes per job: at most two a second, plus every change of state or message
WATCH_EVERY_S = 0.3  # how often a worker checks for a cancel (the "stops within seconds" promise)
CANCEL_GRACE_S = 10.0  # a worker that has not stopped by itself this long after a cancel is terminated
DEFAULT_ABANDON_S = 15 * 60.0  # a job no page has polled for this long is stopped (its slot goes to the next)
HEARTBEAT_EVERY_S = 2.0  # each server says it is alive this often ...
DEFAULT_SERVER_TIMEOUT_S = 30.0  # ... and one silent this long is gone: its jobs interrupted, its slots freed
DATABASE_WAIT_S = float(os.environ.get("ALBERT_VIZ_DATABASE_WAIT_S") or 3600)  # a finished job waits this long


class Throttled:
    """Pass snapshots on at most every `every_s`, but always when the state, message or evaluations change."""

    def __init__(self, publish: Callable[[ProgressSnapshot], None], every_s: float = PUBLISH_EVERY_S):
        self.publish, self.every_s = publish, every_s
        self._last_time, self._last_key = 0.0, None

    def __call__(self, snapshot: ProgressSnapshot) -> None:
        key = (snapshot.state, snapshot.message, len(snapshot.evaluations))
        now = time.monotonic()
        if key != self._last_key or now - self._last_time >= self.every_s:
            self._last_time, self._last_key = now, key
            self.publish(snapshot)


def run_watched(base: LoadedModel, dataset: LabelledDataset, config: FinetuneConfig, model_dir: Path,
                work_dir: Path, publish: Callable[[ProgressSnapshot], None],
                should_stop: Callable[[], bool],
                began_at: float | None = None) -> tuple[ProgressSnapshot, FinetuneResult | None]:
    """Train in this thread while a watcher polls `should_stop` and cancels; the final snapshot and result.

    began_at: when the worker began (before it loaded the model), so the job's loading time includes that."""
    job = FinetuneJob(base, dataset, config, model_dir=model_dir, listener=Throttled(publish), work_dir=work_dir,
                      queue=None, began_at=began_at)
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(WATCH_EVERY_S):
            if should_stop():
                job.cancel()
                return

    watcher = threading.Thread(target=watch, name="finetune-watch", daemon=True)
    watcher.start()
    try:
        job.run()
    finally:
        finished.set()
        watcher.join()
    return job.snapshot(), job.result


def thread_budget(slots: int, cores: int | None = None) -> int:
    """torch threads per training process: the cores left after one for the web process, shared by the slots."""
    cores = cores or os.cpu_count() or 1
    return max(1, (cores - 1) // max(1, slots))


def crash_message(exit_code: int | None) -> str:
    """Why a training process ended without reporting, in words for the page."""
    if exit_code is not None and exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        cause = f"it was stopped by {name}"
        if -exit_code == signal.SIGKILL:
            cause += " (often: the machine ran out of memory)"
    else:
        cause = f"it exited with code {exit_code}"
    return (f"The training process stopped unexpectedly: {cause}. Nothing was kept. Start again, perhaps with a "
            "smaller batch size or maximum length.")


class BaseRunner:
    """What both runners share: everything the page reads comes from the store."""

    kind = "base"

    def __init__(self, store: JobStore | None = None):
        self.store = store or JobStore()
        self.notes: tuple[str, ...] = ()

    def submit(self, spec: ModelSpec, dataset: LabelledDataset, config: FinetuneConfig, owner: str = "",
               model_dir: Path | None = None) -> str:
        raise NotImplementedError

    def cancel(self, job_id: str, reason: str | None = None) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop this runner's jobs (the server or the CLI is exiting)."""

    def record(self, job_id: str) -> JobRecord | None:
        return self.store.get(job_id)

    def snapshot(self, job_id: str) -> ProgressSnapshot | None:
        """The job's latest progress; reading it counts as someone still watching the job."""
        self.store.touch(job_id)
        record = self.store.get(job_id)
        return record.snapshot if record else None

    def result(self, job_id: str) -> FinetuneResult | None:
        record = self.store.get(job_id)
        return record.result if record and record.state == DONE else None

    def jobs(self, limit: int = 200) -> list[JobRecord]:
        return self.store.jobs(limit=limit)

    def wait(self, job_id: str, timeout_s: float, every_s: float = 0.2) -> ProgressSnapshot | None:
        """Poll until the job has ended or the time is up (CLI, tests)."""
        deadline = time.monotonic() + timeout_s
        snapshot = self.snapshot(job_id)
        while snapshot is not None and not snapshot.finished and time.monotonic() < deadline:
            time.sleep(every_s)
            snapshot = self.snapshot(job_id)
        return snapshot

    def _new_job(self, spec: ModelSpec, config: FinetuneConfig, owner: str, model_dir: Path | None,
                 dataset: LabelledDataset | None = None, submitted_by: str | None = None) -> tuple[str, Path]:
        config.check(MAX_LENGTH_LIMIT)  # the worker checks again against the model's own number of positions
        job_id = uuid.uuid4().hex[:16]
        model_dir = Path(model_dir) if model_dir else self.store.job_folder(job_id) / "model"
        self.store.create(job_id, spec, config, owner=owner, runner=self.kind, model_dir=model_dir, dataset=dataset,
                          submitted_by=submitted_by)
        return job_id, model_dir


@dataclass(frozen=True)
class _Pending:
    job_id: str
    spec: ModelSpec
    dataset: LabelledDataset
    config: FinetuneConfig
    model_dir: Path


class LocalRunner(BaseRunner):
    """Each job in its own OS process (spawn); the queue and the training slots are shared by every server.

    A submitted job waits in the database with its dataset. Each server's dispatcher claims the oldest waiting
    job whenever one of the deployment's `slots` is free (albert_viz.store.jobs: locked rows, so several
    servers on one PostgreSQL never start more than the slots allow), heartbeats, and frees the slots of a
    server that stopped heartbeating (its jobs show as interrupted). `serve_queue=False` (the CLI) trains only
    the jobs it submitted itself.
    """

    kind = "local"

    def __init__(self, store: JobStore | None = None, slots: int | None = None, max_waiting: int | None = None,
                 abandon_after_s: float | None = None, cancel_grace_s: float = CANCEL_GRACE_S,
                 serve_queue: bool = True, server_timeout_s: float | None = None, threads: int | None = None):
        super().__init__(store)
        self.slots = slots or MAX_CONCURRENT_JOBS
        self.max_waiting = max_waiting or MAX_WAITING_JOBS
        # the web server's split unless told otherwise (the command line passes every core: no server beside it)
        self.threads = threads or thread_budget(self.slots)
        self.abandon_after_s = abandon_after_s if abandon_after_s is not None else float(
            os.environ.get("ALBERT_VIZ_ABANDON_AFTER_S") or DEFAULT_ABANDON_S)
        self.cancel_grace_s = cancel_grace_s
        self.server_timeout_s = server_timeout_s or float(os.environ.get("ALBERT_VIZ_SERVER_TIMEOUT_S")
                                                          or DEFAULT_SERVER_TIMEOUT_S)
        self.server_id, self.serve_queue = uuid.uuid4().hex[:16], serve_queue
        self.store.table.register_server(self.server_id, socket.gethostname(), os.getpid())
        self.store.table.ensure_slots(self.slots)
        self._healthy_since = time.monotonic()
        self._sweep_dead_servers(startup=True)  # a server that stopped on this machine: its jobs, its slots
        self.store.mark_interrupted(self.kind)  # an old store's jobs left running
        self.store.cleanup()
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: no copied threads or locks
        self._running: dict[str, multiprocessing.process.BaseProcess] = {}
        self._cancel_deadlines: dict[str, float] = {}
        self._positions: dict[str, int] = {}
        self._last_heartbeat = 0.0
        self._lock, self._wake, self._closed = threading.Lock(), threading.Event(), False
        self._dispatcher = threading.Thread(target=self._dispatch, name="albert_viz-jobs", daemon=True)
        self._dispatcher.start()
        atexit.register(self.close)

    def submit(self, spec: ModelSpec, dataset: LabelledDataset, config: FinetuneConfig, owner: str = "",
               model_dir: Path | None = None) -> str:
        waiting = self.store.table.count((QUEUED,))
        if waiting >= self.max_waiting:
            raise JobError(f"{waiting} fine-tuning jobs are already waiting; try again in a few minutes.")
        job_id, _ = self._new_job(spec, config, owner, model_dir, dataset=dataset, submitted_by=self.server_id)
        self._wake.set()
        return job_id

    def cancel(self, job_id: str, reason: str | None = None) -> None:
        """Stop a job wherever it is: a waiting one ends at once, a training one within seconds (on any server)."""
        self.store.request_cancel(job_id, reason)
        if not self.store.cancel_if_waiting(job_id, reason):
            with self._lock:
                if job_id in self._running:
                    self._cancel_deadlines.setdefault(job_id, time.monotonic() + self.cancel_grace_s)
        self._wake.set()

    def queue(self) -> tuple[list[str], list[str]]:
        """(training on this server, waiting in line for any server) job ids."""
        with self._lock:
            training = list(self._running)
        return training, [record.id for record in self._waiting()]

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop every job of this runner and its dispatcher (the server is stopping)."""
        if self._closed:
            return
        self._closed = True
        self._dispatcher.join(5)
        with self._lock:
            processes = dict(self._running)
        for job_id in processes:
            _quietly(self.store.request_cancel, job_id, "The server stopped while this job was training.")
        deadline = time.monotonic() + timeout_s
        for job_id, process in processes.items():
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(5)
        _quietly(self._reap)
        _quietly(self.store.table.remove_server, self.server_id)

    # The dispatcher: the only thread that starts, watches and ends this server's training processes.

    def _dispatch(self) -> None:
        while not self._closed:
            try:
                self._heartbeat()
                self._reap()
                self._enforce_cancels()
                self._stop_abandoned()
                self._sweep_dead_servers()
                self._start_waiting()
                self._publish_queue()
            except DatabaseUnavailable:
                self._healthy_since = time.monotonic()  # judge no other server until we have seen the database again
            self._wake.wait(0.25)
            self._wake.clear()

    def _heartbeat(self) -> None:
        if time.monotonic() - self._last_heartbeat < HEARTBEAT_EVERY_S:
            return
        if not self.store.table.heartbeat(self.server_id):
            # another server declared us dead (the database was out of reach too long): our slots went to
            # others and our jobs were marked interrupted, so stop their processes and start afresh
            with self._lock:
                processes = list(self._running.values())
            for process in processes:
                process.kill()
            self.store.table.register_server(self.server_id, socket.gethostname(), os.getpid())
        self._last_heartbeat = time.monotonic()

    def _waiting(self) -> list[JobRecord]:
        return self.store.jobs((QUEUED,), limit=self.max_waiting + 100, oldest_first=True, runner=self.kind,
                               claimed_by=None)

    def _start_waiting(self) -> None:
        own = {} if self.serve_queue else {"submitted_by": self.server_id}
        while not self._closed and (job_id := self.store.table.claim_next(self.server_id, self.slots, QUEUED,
                                                                          runner=self.kind, **own)):
            record, dataset = self.store.get(job_id), self.store.dataset(job_id)
            if record is None or dataset is None:
                self.store.finish(job_id, FAILED, error="This job's data was lost before it could start.")
                continue
            pending = _Pending(job_id, record.spec, dataset, record.config,
                               record.model_dir or self.store.job_folder(job_id) / "model")
            process = self._context.Process(
                target=_train_in_process, name=f"albert_viz-finetune-{job_id[:8]}", daemon=True,
                args=(str(self.store.folder), self.store.url, pending, self.threads, os.getpid()))
            process.start()
            with self._lock:
                self._running[job_id] = process
            self.store.set_pid(job_id, process.pid)

    def _reap(self) -> None:
        """A process that has ended: make sure the store says how, free its slot, drop what a failure left."""
        with self._lock:
            ended = {job_id: process for job_id, process in self._running.items() if not process.is_alive()}
        for job_id, process in ended.items():
            process.join()
            record = self.store.get(job_id)
            if record is None or record.state != DONE:
                # files first, record second: whoever reads "failed" or "cancelled" finds nothing left behind
                shutil.rmtree(self.store.job_folder(job_id), ignore_errors=True)
            if self.store.cancel_requested(job_id):
                self.store.finish(job_id, CANCELLED)
            else:
                self.store.finish(job_id, FAILED, error=crash_message(process.exitcode))
            with self._lock:  # only once the store says how it ended (the database may have been down)
                del self._running[job_id]
                self._cancel_deadlines.pop(job_id, None)

    def _enforce_cancels(self) -> None:
        """A cancel asked on any server: the process gets its grace, then is terminated, then killed."""
        with self._lock:
            running = [job_id for job_id in self._running if job_id not in self._cancel_deadlines]
        for job_id in running:
            if self.store.cancel_requested(job_id):
                with self._lock:
                    self._cancel_deadlines.setdefault(job_id, time.monotonic() + self.cancel_grace_s)
        now = time.monotonic()
        with self._lock:
            late = [(self._running[job_id], deadline) for job_id, deadline in self._cancel_deadlines.items()
                    if job_id in self._running and now > deadline]
        for process, deadline in late:
            process.terminate() if now < deadline + 3 else process.kill()

    def _stop_abandoned(self) -> None:
        """Jobs no page has polled for a while (this server's, and any still waiting) give their slot away."""
        if not self.abandon_after_s:
            return
        with self._lock:
            mine = list(self._running)
        cutoff = time.time() - self.abandon_after_s
        records = [self.store.get(job_id) for job_id in mine] + self._waiting()
        for record in records:
            if record and record.last_seen < cutoff and not record.cancel_requested:
                minutes = self.abandon_after_s / 60
                self.cancel(record.id, f"Stopped because no page had this job open for {minutes:g} minutes, "
                                       "so its training slot went to the next in line.")

    def _sweep_dead_servers(self, startup: bool = False) -> None:
        """Servers gone quiet past the timeout (or, on this machine, whose process is gone): free their slots.

        Only a server that has itself reached the database for a whole timeout judges others, so a database
        outage that silenced everyone does not make the first server back declare the rest dead.
        """
        host, now = socket.gethostname(), time.time()
        trusted = time.monotonic() - self._healthy_since >= self.server_timeout_s
        for server in self.store.table.servers():
            if server["id"] == self.server_id:
                continue
            gone_here = server["host"] == host and not process_alive(server["pid"])
            if gone_here or (trusted and not startup and server["heartbeat"] < now - self.server_timeout_s):
                self.store.interrupt(self.store.table.release_server(server["id"], FINAL_STATES))

    def _publish_queue(self) -> None:
        waiting = self._waiting()
        with self._lock:
            training = len(self._running)
        for position, record in enumerate(waiting, start=1):
            if record.snapshot.queue_position != position:
                self.store.set_queue_position(record.id, position, "Waiting for a free training slot "
                                                                   f"({training} job(s) training here)")


def _train_in_process(store_folder: str, url: str, pending: _Pending, threads: int, parent_pid: int) -> None:
    """A training process: its own thread budget, its own copy of the base model, progress into the store.

    Progress is best effort while the database is down; the outcome is retried until it is back, so a job
    that finishes during an outage is recorded when the database returns.
    """
    began_at = time.time()  # the job's "waiting" ends here: loading the model counts as loading
    import torch

    torch.set_num_threads(threads)
    store = JobStore(store_folder, url)
    job_id = pending.job_id

    def should_stop() -> bool:
        if os.getppid() != parent_pid:  # the server that started us is gone: never leave an orphan training
            _exit_after_grace(store.job_folder(job_id))
            return True
        return bool(_quietly(store.cancel_requested, job_id))

    try:
        base = load_model(pending.spec)
        snapshot, result = run_watched(base, pending.dataset, pending.config, pending.model_dir,
                                       store.job_folder(job_id) / "work",
                                       lambda s: _quietly(store.publish, job_id, s), should_stop, began_at)
    except (ModelLoadError, JobError) as error:
        snapshot, result = ProgressSnapshot(state=FAILED, error=str(error)), None
    if snapshot.state != DONE:
        shutil.rmtree(store.job_folder(job_id), ignore_errors=True)  # before the record says it has ended
    store.finish_when_back(job_id, DATABASE_WAIT_S, snapshot.state, error=snapshot.error, result=result,
                           snapshot=snapshot)


def _quietly(function: Callable, *args):
    """The call's value, or None while the database is out of reach."""
    try:
        return function(*args)
    except DatabaseUnavailable:
        return None


def class_rows(records: list[JobRecord], now: float) -> list[dict]:
    """The teacher's table: one row per job, newest first, with how long each has waited or run."""
    rows = []
    for record in records:
        snapshot = record.snapshot
        waited = (record.started or (record.finished if snapshot.finished else now)) - record.created
        ran = ((record.finished or now) - record.started) if record.started else 0.0
        rows.append({"job": record.id[:8], "student": record.owner or "(no name)", "state": record.state,
                     "place in line": snapshot.queue_position if record.state == QUEUED else None,
                     "step": f"{snapshot.step} / {snapshot.total_steps or '…'}", "waited": format_duration(waited),
                     "trained for": format_duration(ran), "where": record.runner,
                     "started at": time.strftime("%H:%M:%S", time.localtime(record.created))})
    return rows


def _exit_after_grace(folder: Path) -> None:
    """An orphaned training process gets CANCEL_GRACE_S to stop by itself, then removes its files and exits."""
    def leave() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        os._exit(1)

    if not any(thread.name == "orphan-exit" for thread in threading.enumerate()):
        timer = threading.Timer(CANCEL_GRACE_S, leave)
        timer.name, timer.daemon = "orphan-exit", True
        timer.start()
