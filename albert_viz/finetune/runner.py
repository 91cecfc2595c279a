"""One job interface, two runners: where fine-tuning jobs train, out of the web process.

    runner = make_runner()                       # runner_choice: LocalRunner, or RayRunner (ALBERT_VIZ_RAY_ADDRESS)
    job_id = runner.submit(spec, dataset, config)
    runner.snapshot(job_id)                      # ProgressSnapshot, from the store
    runner.cancel(job_id); runner.result(job_id) # FinetuneResult once done

The page and the CLI use only this. Both runners train with `run_watched` (one FinetuneJob, the one
training code path) in a worker that loads the base model itself from its ModelSpec: the shared
model of the web process is never pickled, trained or touched. Progress and the outcome go
through the SQLite store, so a job outlives the tab that started it.
"""
from __future__ import annotations

import atexit
import multiprocessing
import os
import shutil
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from albert_viz.finetune.data import LabelledDataset
from albert_viz.finetune.job import (
    CANCELLED, DONE, FAILED, MAX_CONCURRENT_JOBS, MAX_LENGTH_LIMIT, MAX_WAITING_JOBS, QUEUED,
    FinetuneConfig, FinetuneJob, FinetuneResult, JobError, ProgressSnapshot, format_duration,
)
from albert_viz.finetune.store import JobRecord, JobStore
from albert_viz.model.loading import LoadedModel, ModelLoadError, ModelSpec, load_model

PUBLISH_EVERY_S = 0.5  # progress writes per job: at most two a second, plus every change of state or message
WATCH_EVERY_S = 0.3  # how often a worker checks for a cancel (the "stops within seconds" promise)
CANCEL_GRACE_S = 10.0  # a worker that has not stopped by itself this long after a cancel is terminated
DEFAULT_ABANDON_S = 15 * 60.0  # a job no page has polled for this long is stopped (its slot goes to the next)


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

    def _new_job(self, spec: ModelSpec, config: FinetuneConfig, owner: str, model_dir: Path | None) -> tuple[str, Path]:
        config.check(MAX_LENGTH_LIMIT)  # the worker checks again against the model's own number of positions
        job_id = uuid.uuid4().hex[:16]
        model_dir = Path(model_dir) if model_dir else self.store.job_folder(job_id) / "model"
        self.store.create(job_id, spec, config, owner=owner, runner=self.kind, model_dir=model_dir)
        return job_id, model_dir


@dataclass(frozen=True)
class _Pending:
    job_id: str
    spec: ModelSpec
    dataset: LabelledDataset
    config: FinetuneConfig
    model_dir: Path


class LocalRunner(BaseRunner):
    """Each job in its own OS process (spawn), `slots` at a time, the rest in a visible FIFO queue."""

    kind = "local"

    def __init__(self, store: JobStore | None = None, slots: int | None = None, max_waiting: int | None = None,
                 abandon_after_s: float | None = None, cancel_grace_s: float = CANCEL_GRACE_S,
                 threads: int | None = None):
        super().__init__(store)
        self.slots = slots or MAX_CONCURRENT_JOBS
        self.max_waiting = max_waiting or MAX_WAITING_JOBS
        # the web server's split unless told otherwise (the command line passes every core: no server beside it)
        self.threads = threads or thread_budget(self.slots)
        self.abandon_after_s = abandon_after_s if abandon_after_s is not None else float(
            os.environ.get("ALBERT_VIZ_ABANDON_AFTER_S") or DEFAULT_ABANDON_S)
        self.cancel_grace_s = cancel_grace_s
        self.store.mark_interrupted(self.kind)  # left running by a server that stopped: say so
        self.store.cleanup()
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: no copied threads or locks
        self._waiting: list[_Pending] = []
        self._running: dict[str, multiprocessing.process.BaseProcess] = {}
        self._cancel_deadlines: dict[str, float] = {}
        self._positions: dict[str, int] = {}
        self._lock, self._wake, self._closed = threading.Lock(), threading.Event(), False
        self._dispatcher = threading.Thread(target=self._dispatch, name="albert_viz-jobs", daemon=True)
        self._dispatcher.start()
        atexit.register(self.close)

    def submit(self, spec: ModelSpec, dataset: LabelledDataset, config: FinetuneConfig, owner: str = "",
               model_dir: Path | None = None) -> str:
        with self._lock:
            if len(self._waiting) >= self.max_waiting:
                raise JobError(f"{len(self._waiting)} fine-tuning jobs are already waiting; "
                               "try again in a few minutes.")
            job_id, model_dir = self._new_job(spec, config, owner, model_dir)
            self._waiting.append(_Pending(job_id, spec, dataset, config, model_dir))
        self._wake.set()
        return job_id

    def cancel(self, job_id: str, reason: str | None = None) -> None:
        self.store.request_cancel(job_id, reason)
        with self._lock:
            waiting = [pending for pending in self._waiting if pending.job_id == job_id]
            if waiting:
                self._waiting.remove(waiting[0])
                self.store.finish(job_id, CANCELLED, error=reason)
            elif job_id in self._running:
                self._cancel_deadlines.setdefault(job_id, time.monotonic() + self.cancel_grace_s)
        self._wake.set()

    def queue(self) -> tuple[list[str], list[str]]:
        """(training, waiting in line) job ids."""
        with self._lock:
            return list(self._running), [pending.job_id for pending in self._waiting]

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop every job of this runner and its dispatcher (the server is stopping)."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            processes = dict(self._running)
        for job_id in processes:
            self.store.request_cancel(job_id, "The server stopped while this job was training.")
        deadline = time.monotonic() + timeout_s
        for job_id, process in processes.items():
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(5)
        self._reap()

    # The dispatcher: the only thread that starts, watches and ends training processes.

    def _dispatch(self) -> None:
        while not self._closed:
            self._reap()
            self._enforce_cancels()
            self._stop_abandoned()
            self._start_waiting()
            self._publish_queue()
            self._wake.wait(0.25)
            self._wake.clear()

    def _start_waiting(self) -> None:
        with self._lock:
            while self._waiting and len(self._running) < self.slots:
                pending = self._waiting.pop(0)
                process = self._context.Process(
                    target=_train_in_process, name=f"albert_viz-finetune-{pending.job_id[:8]}", daemon=True,
                    args=(str(self.store.folder), pending, self.threads, os.getpid()))
                process.start()
                self.store.set_pid(pending.job_id, process.pid)
                self._running[pending.job_id] = process

    def _reap(self) -> None:
        """A process that has ended: make sure the store says how, free its slot, drop what a failure left."""
        with self._lock:
            ended = {job_id: process for job_id, process in self._running.items() if not process.is_alive()}
            for job_id in ended:
                del self._running[job_id]
                self._cancel_deadlines.pop(job_id, None)
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

    def _enforce_cancels(self) -> None:
        now = time.monotonic()
        with self._lock:
            late = [(self._running[job_id], deadline) for job_id, deadline in self._cancel_deadlines.items()
                    if job_id in self._running and now > deadline]
        for process, deadline in late:
            process.terminate() if now < deadline + 3 else process.kill()

    def _stop_abandoned(self) -> None:
        if not self.abandon_after_s:
            return
        with self._lock:
            mine = list(self._running) + [pending.job_id for pending in self._waiting]
        cutoff = time.time() - self.abandon_after_s
        for job_id in mine:
            record = self.store.get(job_id)
            if record and record.last_seen < cutoff and not record.cancel_requested:
                minutes = self.abandon_after_s / 60
                self.cancel(job_id, f"Stopped because no page had this job open for {minutes:g} minutes, "
                                    "so its training slot went to the next in line.")

    def _publish_queue(self) -> None:
        with self._lock:
            waiting, training = [pending.job_id for pending in self._waiting], len(self._running)
        for position, job_id in enumerate(waiting, start=1):
            if self._positions.get(job_id) != position:
                self._positions[job_id] = position
                self.store.set_queue_position(job_id, position, f"Waiting for a free training slot "
                                                                f"({training} job(s) training)")


def _train_in_process(store_folder: str, pending: _Pending, threads: int, parent_pid: int) -> None:
    """A training process: its own thread budget, its own copy of the base model, progress into the store."""
    began_at = time.time()  # the job's "waiting" ends here: loading the model counts as loading
    import torch

    torch.set_num_threads(threads)
    store = JobStore(store_folder)
    job_id = pending.job_id

    def should_stop() -> bool:
        if os.getppid() != parent_pid:  # the server that started us is gone: never leave an orphan training
            _exit_after_grace(store.job_folder(job_id))
            return True
        return store.cancel_requested(job_id)

    try:
        base = load_model(pending.spec)
        snapshot, result = run_watched(base, pending.dataset, pending.config, pending.model_dir,
                                       store.job_folder(job_id) / "work", lambda s: store.publish(job_id, s),
                                       should_stop, began_at)
    except (ModelLoadError, JobError) as error:
        snapshot, result = ProgressSnapshot(state=FAILED, error=str(error)), None
    if snapshot.state != DONE:
        shutil.rmtree(store.job_folder(job_id), ignore_errors=True)  # before the record says it has ended
    store.finish(job_id, snapshot.state, error=snapshot.error, result=result, snapshot=snapshot)


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
