"""The jobs' SQLite store: records survive a reopen, and kept models are cleaned by age and by total size."""
from __future__ import annotations

import time

from albert_viz.finetune.job import DONE, RUNNING, FinetuneConfig, ProgressSnapshot
from albert_viz.finetune.store import JobStore
from albert_viz.model.loading import ModelSpec

SPEC, CONFIG = ModelSpec("bundled"), FinetuneConfig(max_steps=3)


def finished_job(store: JobStore, job_id: str, megabytes: float) -> None:
    store.create(job_id, SPEC, CONFIG)
    folder = store.job_folder(job_id) / "model"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"\0" * int(megabytes * 1e6))
    store.finish(job_id, DONE)
    time.sleep(0.01)  # distinct finish times: "oldest first" is well defined


def test_progress_and_the_final_state_survive_a_reopen(tmp_path):
    store = JobStore(tmp_path)
    store.create("a", SPEC, CONFIG, owner="Ada")
    store.publish("a", ProgressSnapshot(state=RUNNING, step=2, total_steps=3, losses=((1, 0.7), (2, 0.6))))
    reopened = JobStore(tmp_path).get("a")
    assert reopened.state == RUNNING and reopened.snapshot.losses == ((1, 0.7), (2, 0.6))
    assert reopened.spec == SPEC and reopened.config == CONFIG and reopened.owner == "Ada"


def test_a_job_ends_once_and_never_moves_back(tmp_path):
    store = JobStore(tmp_path)
    store.create("a", SPEC, CONFIG)
    assert store.finish("a", "cancelled", error="Cancelled by the teacher.")
    assert not store.finish("a", "failed", error="late crash report")
    store.publish("a", ProgressSnapshot(state=RUNNING, step=9))
    record = store.get("a")
    assert record.state == "cancelled" and record.snapshot.error == "Cancelled by the teacher."


def test_cleanup_deletes_the_oldest_models_beyond_the_size_limit(tmp_path):
    store = JobStore(tmp_path)
    for job_id in ("old", "middle", "new"):
        finished_job(store, job_id, megabytes=1.0)
    assert store.cleanup(max_age_days=7, max_total_mb=2.5) == ["old"]
    assert not store.job_folder("old").exists() and store.job_folder("new").exists()
    assert "deleted to make room" in store.get("old").snapshot.error and store.get("old").result is None


def test_cleanup_deletes_models_older_than_the_age_limit(tmp_path):
    store = JobStore(tmp_path)
    finished_job(store, "a", megabytes=0.1)
    assert store.cleanup(max_age_days=7, max_total_mb=100) == []
    assert store.cleanup(max_age_days=7, max_total_mb=100, now=time.time() + 8 * 86_400) == ["a"]
