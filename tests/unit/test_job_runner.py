"""The local runner in real training processes: progress, cancel, crashes, slots, and a store that survives."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest

from albert_viz.finetune.data import load_csv
from albert_viz.finetune.job import (
    CANCELLED, DONE, FAILED, INTERRUPTED, QUEUED, RUNNING, FinetuneConfig, ProgressSnapshot,
)
from albert_viz.finetune.runner import LocalRunner, thread_budget
from albert_viz.finetune.store import JobStore
from albert_viz.model.loading import ModelSpec
from tests.unit.test_finetune_job import QUICK, labelled_csv

LONG = FinetuneConfig(epochs=20, batch_size=2, max_length=16, evaluations=1)  # minutes: only ever cancelled
START_S = 120  # a fresh process imports torch and transformers first: slow on a busy 2-core machine


@pytest.fixture(scope="module")
def dataset():
    return load_csv(labelled_csv())


@pytest.fixture(scope="module")
def long_dataset():
    """Enough rows that LONG takes minutes even on an idle machine: a cancel never races the last step."""
    return load_csv(labelled_csv(400))


@pytest.fixture(scope="module")
def spec(tiny_model) -> ModelSpec:
    return tiny_model.spec  # a saved random folder: the training process loads it itself


@pytest.fixture
def runner(tmp_path):
    runner = LocalRunner(JobStore(tmp_path / "data"), slots=1, abandon_after_s=0)
    yield runner
    runner.close()


def wait_until(condition, timeout_s: float = START_S):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_job_trains_in_its_own_process_and_its_record_survives_a_reopen(runner, spec, dataset):
    job_id = runner.submit(spec, dataset, QUICK, owner="ada")
    pid = wait_until(lambda: runner.record(job_id).pid)
    assert pid != os.getpid()
    snapshot = runner.wait(job_id, START_S)
    assert snapshot.state == DONE, snapshot.error
    assert snapshot.step == 3 and snapshot.losses and snapshot.evaluations
    result = runner.result(job_id)
    assert (result.model_dir / "config.json").exists() and result.report.confusion.sum() == result.report.size
    reopened = JobStore(runner.store.folder).get(job_id)  # a new connection, as after a server restart
    assert reopened.state == DONE and reopened.owner == "ada"
    assert reopened.result.report.accuracy == result.report.accuracy
    assert reopened.snapshot.evaluations == snapshot.evaluations
    assert not (runner.store.job_folder(job_id) / "work").exists()


def test_cancel_stops_a_training_process_within_five_seconds(runner, spec, dataset, long_dataset):
    job_id = runner.submit(spec, long_dataset, LONG)
    wait_until(lambda: runner.snapshot(job_id).step >= 2)
    pid = runner.record(job_id).pid
    runner.cancel(job_id)
    cancelled_at = time.monotonic()
    snapshot = runner.wait(job_id, 10)
    assert snapshot.state == CANCELLED and time.monotonic() - cancelled_at < 5
    wait_until(lambda: runner.queue() == ([], []), 30)  # the slot is free once its process has been reaped
    assert process_gone(pid) and not runner.store.job_folder(job_id).exists()


def test_a_killed_process_is_reported_and_frees_its_slot_for_the_next_job(runner, spec, dataset, long_dataset):
    first = runner.submit(spec, long_dataset, LONG)
    second = runner.submit(spec, dataset, QUICK)
    wait_until(lambda: runner.snapshot(first).step >= 1)
    assert runner.snapshot(second).state == QUEUED and runner.snapshot(second).queue_position == 1
    os.kill(runner.record(first).pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    failed = runner.wait(first, 10)
    assert failed.state == FAILED and "stopped unexpectedly" in failed.error and "SIGKILL" in failed.error
    assert not runner.store.job_folder(first).exists()
    assert runner.wait(second, START_S).state == DONE  # the slot went to the next in line


def test_an_error_inside_training_ends_the_job_with_its_message(runner, spec, dataset):
    job_id = runner.submit(spec, dataset, FinetuneConfig(max_steps=2, max_length=16, precision="fp16", device="cpu"))
    snapshot = runner.wait(job_id, START_S)
    assert snapshot.state == FAILED and "fp16 training needs a GPU" in snapshot.error
    assert not runner.store.job_folder(job_id).exists()
    wait_until(lambda: runner.queue() == ([], []), 30)  # the slot is freed once the process has exited


def test_a_waiting_job_cancels_at_once(runner, spec, dataset, long_dataset):
    first = runner.submit(spec, long_dataset, LONG)
    second = runner.submit(spec, dataset, QUICK)
    runner.cancel(second)
    assert runner.snapshot(second).state == CANCELLED
    runner.cancel(first)
    assert runner.wait(first, START_S).state == CANCELLED


def test_a_job_nobody_polls_is_stopped_and_says_why(tmp_path, spec, dataset, long_dataset):
    runner = LocalRunner(JobStore(tmp_path / "data"), slots=1, abandon_after_s=2)
    try:
        job_id = runner.submit(spec, long_dataset, LONG)
        record = wait_until(lambda: (r := runner.store.get(job_id)).snapshot.finished and r, START_S)  # never polled
        assert record.state == CANCELLED and "no page had this job open" in record.snapshot.error
    finally:
        runner.close()


def claimed_by_server(store: JobStore, job_id: str, spec, server: str, host: str, pid: int) -> None:
    """A job that server `server` (on `host`, process `pid`) has taken from the queue and trains."""
    store.create(job_id, spec, QUICK, runner="local", dataset=load_csv(labelled_csv()), submitted_by=server)
    store.table.register_server(server, host, pid)
    store.table.ensure_slots(1)
    assert store.table.claim_next(server, 1, QUEUED, runner="local") == job_id
    store.publish(job_id, ProgressSnapshot(state=RUNNING, step=4, total_steps=10))


def test_a_job_whose_server_stopped_on_this_machine_shows_as_interrupted_and_frees_its_slot(tmp_path, spec):
    store = JobStore(tmp_path / "data")
    stopped_server = subprocess.Popen(["true"])
    stopped_server.wait()
    claimed_by_server(store, "left-running", spec, "stopped", socket.gethostname(), stopped_server.pid)
    LocalRunner(store, slots=1).close()  # what the restarted server does first
    record = JobStore(tmp_path / "data").get("left-running")
    assert record.state == INTERRUPTED and "server stopped" in record.snapshot.error
    assert record.snapshot.step == 4  # how far it got is still shown
    assert store.table.claimed_slots() == []


def test_a_server_that_went_silent_elsewhere_loses_its_job_and_slot_after_the_timeout(tmp_path, spec):
    store = JobStore(tmp_path / "data")
    claimed_by_server(store, "on-a-dead-machine", spec, "far", "another-machine", 1)
    runner = LocalRunner(store, slots=1, server_timeout_s=2)
    try:
        assert store.get("on-a-dead-machine").state == RUNNING  # not yet: it may only be slow
        record = wait_until(lambda: (r := store.get("on-a-dead-machine")).state == INTERRUPTED and r, 30)
        assert "server stopped" in record.snapshot.error and store.table.claimed_slots() == []
        assert [server["id"] for server in store.table.servers()] == [runner.server_id]
    finally:
        runner.close()


def test_a_live_servers_job_is_left_alone(tmp_path, spec):
    store = JobStore(tmp_path / "data")
    claimed_by_server(store, "other-server", spec, "alive", socket.gethostname(), os.getpid())
    LocalRunner(store, slots=1).close()
    assert JobStore(tmp_path / "data").get("other-server").state == RUNNING


def test_an_old_stores_job_left_running_shows_as_interrupted(tmp_path, spec):
    store = JobStore(tmp_path / "data")
    stopped_server = subprocess.Popen(["true"])
    stopped_server.wait()
    store.create("old", spec, QUICK, runner="local", server_pid=stopped_server.pid)  # no queue, no server row
    LocalRunner(store, slots=1).close()
    assert JobStore(tmp_path / "data").get("old").state == INTERRUPTED


def test_a_job_on_one_server_is_seen_and_cancelled_on_another(tmp_path, postgres, spec, long_dataset):
    """Two app servers on one PostgreSQL: the second sees the first's job train and cancels it."""
    url = postgres.new_database()
    first = LocalRunner(JobStore(tmp_path / "data", url), slots=1, abandon_after_s=0)
    second = LocalRunner(JobStore(tmp_path / "data", url), slots=1, abandon_after_s=0)
    try:
        job_id = first.submit(spec, long_dataset, LONG)
        wait_until(lambda: second.snapshot(job_id).step >= 1)
        trained_by = first if job_id in first.queue()[0] else second
        pid = second.record(job_id).pid
        second.cancel(job_id, "Cancelled by the teacher.")
        snapshot = first.wait(job_id, 15)
        assert snapshot.state == CANCELLED and snapshot.error == "Cancelled by the teacher."
        wait_until(lambda: trained_by.queue() == ([], []), 30)
        assert process_gone(pid)
    finally:
        first.close()
        second.close()


def test_a_training_process_leaves_the_web_process_a_core():
    assert thread_budget(slots=1, cores=2) == 1
    assert thread_budget(slots=2, cores=16) == 7
    assert thread_budget(slots=4, cores=2) == 1  # never zero threads
