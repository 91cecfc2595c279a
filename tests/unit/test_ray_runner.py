"""The Ray runner against a real local Ray (started here, loopback only), through the same job interface."""
from __future__ import annotations

import os
import signal
import time
from dataclasses import replace

import pytest

ray = pytest.importorskip("ray")

from albert_viz.finetune.data import load_csv  # noqa: E402
from albert_viz.finetune.job import CANCELLED, DONE, FAILED, RUNNING  # noqa: E402
from albert_viz.finetune.store import JobStore  # noqa: E402
from albert_viz.model.loading import ModelSpec, load_model  # noqa: E402
from tests.unit.test_finetune_job import QUICK, labelled_csv  # noqa: E402
from tests.unit.test_job_runner import LONG, START_S, wait_until  # noqa: E402


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    from albert_viz.finetune.ray_runner import RayRunner, runtime_env

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env=runtime_env())
    try:
        yield RayRunner(JobStore(tmp_path_factory.mktemp("ray_data")), num_cpus=1)
    finally:
        ray.shutdown()


def test_a_tiny_job_runs_end_to_end_on_ray_and_its_model_loads(runner, tiny_model):
    # a few hundred steps: a few seconds even on a quiet machine, so its progress outlives the 0.5 s polls
    job_id = runner.submit(tiny_model.spec, load_csv(labelled_csv(400)), replace(QUICK, max_steps=400))
    seen = set()
    deadline = time.monotonic() + START_S
    while not (snapshot := runner.snapshot(job_id)).finished and time.monotonic() < deadline:
        seen.add(snapshot.state)
        time.sleep(0.1)
    assert snapshot.state == DONE, snapshot.error
    assert RUNNING in seen and snapshot.losses  # progress streamed back while it trained
    result = runner.result(job_id)
    assert result.model_dir.is_relative_to(runner.store.folder) and result.report.size > 0
    tuned = load_model(ModelSpec("local", str(result.model_dir), "cpu"))  # as the page loads it
    assert tuned.config.id2label == {0: "neg", 1: "pos"}


def test_cancel_stops_a_ray_job_within_seconds(runner, tiny_model):
    job_id = runner.submit(tiny_model.spec, load_csv(labelled_csv(400)), LONG)  # minutes of steps: no race
    wait_until(lambda: runner.snapshot(job_id).step >= 2)
    runner.cancel(job_id)
    cancelled_at = time.monotonic()
    assert runner.wait(job_id, 15).state == CANCELLED
    assert time.monotonic() - cancelled_at < 5
    assert not runner.store.job_folder(job_id).exists()


def test_a_lost_ray_worker_fails_the_job_with_a_clear_message(runner, tiny_model):
    job_id = runner.submit(tiny_model.spec, load_csv(labelled_csv(400)), LONG)  # minutes of steps: no race
    wait_until(lambda: runner.snapshot(job_id).step >= 1)
    os.kill(runner.record(job_id).pid, signal.SIGKILL)  # the worker reports its pid with its progress
    snapshot = runner.wait(job_id, 30)
    assert snapshot.state == FAILED and "Ray worker training this job was lost" in snapshot.error
    assert runner.queue() == ([], [])
