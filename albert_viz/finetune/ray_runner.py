"""The Ray runner: each fine-tuning job is a Ray task with declared CPUs/GPUs, on one machine or a cluster.

Used when ALBERT_VIZ_RAY_ADDRESS is set ('auto' for a head on this machine, 'ray://host:10001' for a
remote one). Ray is optional (requirements-cluster.txt); nothing imports this module without it.

A job is `train_on_worker` (the same `run_watched` the local runner uses) plus a tiny `JobChannel`
actor: the worker pushes progress snapshots into it and reads the cancel flag from it; the app polls
it into the SQLite store. The base model travels as its files (once per model, through Ray's object
store) and the fine-tuned model comes back as its save_pretrained files, so no node needs shared
storage, and the app loads the result from its own disk as it always did.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import ray
from ray import exceptions as ray_errors

import albert_viz
from albert_viz.finetune.data import LabelledDataset
from albert_viz.finetune.job import (
    CANCELLED, FAILED, QUEUED, FinetuneConfig, FinetuneResult, JobError, ProgressSnapshot, failure_message,
)
from albert_viz.finetune.runner import CANCEL_GRACE_S, BaseRunner, run_watched
from albert_viz.finetune.store import JobStore
from albert_viz.model.loading import BUNDLED_MODEL_DIR, ModelLoadError, ModelSpec, load_model

POLL_EVERY_S = 0.5


def runtime_env() -> dict:
    """Ship this package to every worker (a cluster's nodes need not have the app installed, only its deps)."""
    return {"py_modules": [albert_viz], "env_vars": {"TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE":
                                                   os.environ.get("HF_HUB_OFFLINE", "0")}}


@ray.remote(num_cpus=0)
class JobChannel:
    """Progress one way (worker -> app), the cancel flag the other; holds only the latest snapshot."""

    def __init__(self):
        self._snapshot, self._pid, self._cancelled = None, None, False

    def publish(self, snapshot_json: str, pid: int) -> None:
        self._snapshot, self._pid = snapshot_json, pid

    def latest(self) -> tuple[str | None, int | None]:
        return self._snapshot, self._pid

    def cancel(self) -> None:
        self._cancelled = True

    def cancelled(self) -> bool:
        return self._cancelled


def train_on_worker(spec: ModelSpec, base_files: dict[str, bytes] | None, dataset: LabelledDataset,
                    config: FinetuneConfig, channel) -> tuple[str, str | None, dict[str, bytes]]:
    """Runs on a Ray worker: (final snapshot, result, model files); its temporary folder is always removed."""
    folder = Path(tempfile.mkdtemp(prefix="albert_viz_ray_job_"))
    began_at = time.time()
    try:
        base = load_model(_materialise(spec, base_files, folder / "base"))
        base = replace(base, spec=spec)  # the result names the model the student chose, not our temporary copy
        publish = lambda snapshot: channel.publish.remote(snapshot.to_json(), os.getpid())
        should_stop = lambda: ray.get(channel.cancelled.remote())
        snapshot, result = run_watched(base, dataset, config, folder / "model", folder / "work", publish,
                                       should_stop, began_at)
    except (ModelLoadError, JobError) as error:
        return ProgressSnapshot(state=FAILED, error=str(error)).to_json(), None, {}
    finally:
        files = _read_folder(folder / "model") if (folder / "model" / "config.json").exists() else {}
        shutil.rmtree(folder, ignore_errors=True)
    return snapshot.to_json(), result.to_json() if result else None, files


def _materialise(spec: ModelSpec, files: dict[str, bytes] | None, folder: Path) -> ModelSpec:
    """The base model as a local folder on this worker, written from the files the app sent."""
    if not files:
        return spec  # 'random' builds itself; a hub id loads from the worker's own cache
    _write_folder(files, folder)
    return ModelSpec("local", str(folder), spec.device)


def _read_folder(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def _write_folder(files: dict[str, bytes], folder: Path) -> None:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _base_folder(spec: ModelSpec) -> Path | None:
    """The folder whose files a worker needs, for the sources that live on this machine."""
    if spec.source == "bundled" and (BUNDLED_MODEL_DIR / "config.json").exists():
        return BUNDLED_MODEL_DIR
    if spec.source == "local":
        return Path(spec.location).expanduser()
    return None


class RayRunner(BaseRunner):
    """Jobs as Ray tasks: Ray queues them by their declared resources; the app watches each from a thread."""

    kind = "ray"

    def __init__(self, store: JobStore | None = None, address: str | None = None, num_cpus: float | None = None,
                 num_gpus: float | None = None, cancel_grace_s: float = CANCEL_GRACE_S):
        super().__init__(store)
        if not ray.is_initialized():
            ray.init(address=address, log_to_driver=False, runtime_env=runtime_env())
        self.num_cpus = num_cpus if num_cpus is not None else float(os.environ.get("ALBERT_VIZ_RAY_CPUS") or 1)
        self.num_gpus = num_gpus if num_gpus is not None else float(os.environ.get("ALBERT_VIZ_RAY_GPUS") or 0)
        self.cancel_grace_s = cancel_grace_s
        self.store.mark_interrupted(self.kind)
        self.store.cleanup()
        self._base_refs: dict[ModelSpec, ray.ObjectRef | None] = {}
        self._waiting: list[str] = []  # submitted, not yet reporting from a worker (in submit order)
        self._lock = threading.Lock()

    def submit(self, spec: ModelSpec, dataset: LabelledDataset, config: FinetuneConfig, owner: str = "",
               model_dir: Path | None = None) -> str:
        job_id, model_dir = self._new_job(spec, config, owner, model_dir)
        channel = JobChannel.remote()
        task = ray.remote(train_on_worker).options(num_cpus=self.num_cpus, num_gpus=self.num_gpus, max_retries=0,
                                                   name=f"albert_viz-finetune-{job_id[:8]}")
        ref = task.remote(spec, self._base_files(spec), dataset, config, channel)
        with self._lock:
            self._waiting.append(job_id)
        threading.Thread(target=self._watch, args=(job_id, ref, channel, model_dir), daemon=True,
                         name=f"ray-watch-{job_id[:8]}").start()
        return job_id

    def cancel(self, job_id: str, reason: str | None = None) -> None:
        self.store.request_cancel(job_id, reason)  # the watcher passes it on to the worker

    def _base_files(self, spec: ModelSpec):
        """The base model's files in Ray's object store, put there once per model."""
        if spec not in self._base_refs:
            folder = _base_folder(spec)
            self._base_refs[spec] = ray.put(_read_folder(folder)) if folder else None
        return self._base_refs[spec]

    def _watch(self, job_id: str, ref, channel, model_dir: Path) -> None:
        """Copy progress into the store until the task ends, pass a cancel on (forcing it if ignored), then finish."""
        cancel_sent_at = None
        while not ray.wait([ref], timeout=POLL_EVERY_S)[0]:
            self._copy_progress(job_id, channel)
            if cancel_sent_at is None and self.store.cancel_requested(job_id):
                cancel_sent_at = time.monotonic()
                channel.cancel.remote()
                ray.cancel(ref)  # a task still waiting for resources never starts
            elif cancel_sent_at and time.monotonic() - cancel_sent_at > self.cancel_grace_s:
                ray.cancel(ref, force=True)  # it ignored the flag: kill its worker
        with self._lock:
            if job_id in self._waiting:
                self._waiting.remove(job_id)
        try:
            self._finish(job_id, ref, model_dir)
        finally:
            ray.kill(channel)

    def _copy_progress(self, job_id: str, channel) -> None:
        snapshot_json, pid = ray.get(channel.latest.remote())
        if snapshot_json:
            with self._lock:
                if job_id in self._waiting:
                    self._waiting.remove(job_id)
                    self.store.set_pid(job_id, pid)  # on its own node; the teacher's list shows it
            self.store.publish(job_id, ProgressSnapshot.from_json(snapshot_json))
            return
        with self._lock:
            position = self._waiting.index(job_id) + 1 if job_id in self._waiting else 0
        self.store.set_queue_position(job_id, position, f"Waiting for the Ray cluster to free {self.num_cpus:g} "
                                                        "CPU(s) for this job")

    def _finish(self, job_id: str, ref, model_dir: Path) -> None:
        cancelled = self.store.cancel_requested(job_id)
        try:
            snapshot_json, result_json, files = ray.get(ref)
        except ray_errors.TaskCancelledError:
            self.store.finish(job_id, CANCELLED)
            return
        except ray_errors.RayError as error:
            if cancelled:
                self.store.finish(job_id, CANCELLED)
            else:
                self.store.finish(job_id, FAILED, error=lost_message(error))
            return
        snapshot = ProgressSnapshot.from_json(snapshot_json)
        result = FinetuneResult.from_json(result_json) if result_json else None
        if result is not None:
            try:
                _write_folder(files, model_dir)
            except OSError as error:
                shutil.rmtree(self.store.job_folder(job_id), ignore_errors=True)
                self.store.finish(job_id, FAILED, error=failure_message(error))
                return
            result = replace(result, model_dir=model_dir)
        self.store.finish(job_id, snapshot.state, error=snapshot.error, result=result, snapshot=snapshot)

    def queue(self) -> tuple[list[str], list[str]]:
        """(training, waiting for resources) job ids of this runner."""
        with self._lock:
            waiting = list(self._waiting)
        training = [record.id for record in self.store.jobs() if record.runner == self.kind
                    and not record.snapshot.finished and record.id not in waiting]
        return training, waiting

    def close(self) -> None:
        for record in self.store.jobs():
            if record.runner == self.kind and not record.snapshot.finished and record.state != QUEUED:
                self.cancel(record.id, "The server stopped while this job was training.")


def lost_message(error: Exception) -> str:
    """A job whose worker or node vanished, in words for the page."""
    if isinstance(error, (ray_errors.WorkerCrashedError, ray_errors.NodeDiedError, ray_errors.ActorDiedError,
                          ray_errors.ObjectLostError)):
        return ("The Ray worker training this job was lost (its process or machine stopped, perhaps out of "
                "memory). Nothing was kept; start again.")
    return f"Training on the Ray cluster stopped with an error: {type(error).__name__}: {error}"
