"""The thread budget and the sweep of the app's temporary folders."""
import os
import subprocess
import sys
import time

import pytest

from albert_viz.model.runtime import own_temp_name, sweep_own_temp_folders, sweep_temp_folders, thread_budget


@pytest.mark.parametrize("cores, slots, forward, job", [(2, 1, 1, 1), (8, 1, 4, 4), (16, 2, 6, 5), (1, 1, 1, 1)])
def test_thread_budget_splits_the_cores_between_forwards_and_training_slots(cores, slots, forward, job):
    budget = thread_budget(cores, slots)
    assert (budget.forward_threads, budget.job_threads) == (forward, job)


def test_the_budget_never_asks_for_more_threads_than_cores_when_there_is_one_per_slot_and_the_server():
    for cores in range(2, 65):
        for slots in range(1, cores):
            budget = thread_budget(cores, slots)
            assert budget.forward_threads + slots * budget.job_threads <= cores


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def make(folder):
    folder.mkdir()
    (folder / "file").write_text("x")
    return folder


def test_sweep_removes_folders_of_ended_processes_and_old_unowned_ones_only(tmp_path):
    ended = make(tmp_path / f"albert_viz_random_tiny_pid{dead_pid()}")
    ours = make(tmp_path / own_temp_name("random_tiny"))
    young = make(tmp_path / "albert_viz_finetune_k2j3h4")
    old = make(tmp_path / "albert_viz_finetune_a8d7f6")
    stranger = make(tmp_path / "someone_elses_folder")
    two_days_ago = time.time() - 2 * 24 * 3600
    for folder in (old, stranger):
        os.utime(folder, (two_days_ago, two_days_ago))
    removed = sweep_temp_folders(tmp_path)
    assert sorted(removed) == sorted([ended, old])
    assert ours.exists() and young.exists() and stranger.exists()


def test_sweep_at_exit_removes_this_processes_folders_only(tmp_path):
    ours = make(tmp_path / f"{own_temp_name('finetune')}_x1y2")
    other = make(tmp_path / "albert_viz_finetune_pid1_abc")  # pid 1 is alive everywhere
    assert sweep_own_temp_folders(tmp_path) == [ours]
    assert other.exists()


def test_start_up_applies_the_budget_and_its_exit_sweep_removes_the_random_model_folder(tmp_path):
    script = ("from albert_viz.model import loading as models, runtime; import torch; budget = runtime.start_up(); "
              "folder = models._random_model_folder(); print(torch.get_num_threads(), budget.forward_threads, "
              "folder.exists())")
    env = {**os.environ, "TMPDIR": str(tmp_path), "ALBERT_VIZ_TRAINING_SLOTS": "1"}
    output = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    threads, budgeted, existed = output.stdout.split()
    assert threads == budgeted and existed == "True"
    assert not list(tmp_path.glob("albert_viz_*"))  # swept when the process ended
