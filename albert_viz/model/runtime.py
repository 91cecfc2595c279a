"""Process-wide settings for a server shared by a class: the torch thread budget and the app's temporary folders.

`start_up()` runs once per process (app.py and the CLI call it): it sets torch's thread counts from the cores
this process may use and the training slots, sweeps temporary folders that earlier runs left behind, and
registers a sweep of this process's own folders at exit.
"""
from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch

LOG = logging.getLogger(__name__)

TRAINING_SLOTS_ENV = "ALBERT_VIZ_TRAINING_SLOTS"  # how many fine-tuning jobs may train at once (default 1)
TEMP_PREFIX = "albert_viz_"  # every temporary folder the app makes starts with this
# albert_viz_<kind>_pid<pid> or albert_viz_<kind>_pid<pid>_<random>: the process whose folder it is
_OWNED_BY_PID = re.compile(rf"{TEMP_PREFIX}[a-z_]+?_pid(\d+)(?:_.*)?")
MAX_TEMP_AGE_S = 24 * 3600  # folders without a pid (fine-tuning work folders) are swept after a day


@dataclass(frozen=True)
class ThreadBudget:
    """How many CPU threads a forward pass in the web process and each training job may use."""

    cores: int
    training_slots: int
    forward_threads: int  # intra-op threads of the web process (forwards queue on the model lock, one at a time)
    job_threads: int  # intra-op threads of one training job


def usable_cores() -> int:
    """The cores this process may run on (CPU affinity / container limits), not every core of the machine."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return max(1, os.cpu_count() or 1)


def training_slots() -> int:
    """ALBERT_VIZ_TRAINING_SLOTS, at least 1."""
    try:
        return max(1, int(os.environ.get(TRAINING_SLOTS_ENV, "1")))
    except ValueError:
        return 1


def thread_budget(cores: int | None = None, slots: int | None = None) -> ThreadBudget:
    """Split the cores between the web process's forwards and the training slots so that together they never
    ask for more threads than there are cores: oversubscribed torch slows down tenfold or more.

    Each slot and the web process get an equal share, rounded down, at least one thread each; the web process
    also takes what is left over.
    """
    cores = cores or usable_cores()
    slots = slots or training_slots()
    job_threads = max(1, cores // (slots + 1))
    forward_threads = max(1, cores - slots * job_threads)
    return ThreadBudget(cores, slots, forward_threads, job_threads)


def cli_threads() -> int:
    """torch threads for a job started from the command line: every usable core (no web server shares them)."""
    return usable_cores()


_STARTED = threading.Lock()
_started = False


def start_up(role: str = "web") -> ThreadBudget:
    """Once per process: apply the thread budget (a 'web' server's forwards, one training 'job', or the command
    line's 'cli': no web server beside it, so its job may use every core), sweep stale temporary folders, and
    sweep this process's own at exit."""
    global _started
    budget = thread_budget()
    with _STARTED:
        if _started:
            return budget
        _started = True
        _log_to_stderr()
        apply_threads(budget.forward_threads if role == "web" else budget.job_threads if role == "job"
                      else budget.cores)
        removed = sweep_temp_folders()
        atexit.register(sweep_own_temp_folders)
    if role == "cli":
        LOG.info("albert_viz: %d usable cores, no web server in this process: the job trains on %d threads; "
                 "%d stale temporary folder(s) removed", budget.cores, cli_threads(), len(removed))
        return budget
    LOG.info("albert_viz: %d usable cores, %d training slot(s): %d thread(s) per forward, %d per job; "
             "%d stale temporary folder(s) removed", budget.cores, budget.training_slots, budget.forward_threads,
             budget.job_threads, len(removed))
    return budget


def _log_to_stderr() -> None:
    """The app's own log lines (failed loads and captures, with their tracebacks) on the server's console."""
    logger = logging.getLogger("albert_viz")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def apply_threads(threads: int) -> None:
    """torch's intra-op threads, and one inter-op thread (a forward is one chain of ops; it has nothing to overlap)."""
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # torch allows this only before its first parallel work; then keep what it has
        pass


def temp_folder(kind: str) -> Path:
    """A fresh temporary folder named albert_viz_<kind>_pid<pid>_<random>, swept when this process exits."""
    return Path(tempfile.mkdtemp(prefix=own_temp_name(kind) + "_"))


def own_temp_name(kind: str) -> str:
    """albert_viz_<kind>_pid<pid>: the name of a temporary folder that belongs to this process."""
    return f"{TEMP_PREFIX}{kind}_pid{os.getpid()}"


def is_app_temp_folder(path: Path) -> bool:
    """Whether `path` (resolved) lies in a temporary folder this app made, e.g. a fine-tuned model."""
    temp = Path(tempfile.gettempdir()).resolve()
    return path.is_relative_to(temp) and path != temp and path.relative_to(temp).parts[0].startswith(TEMP_PREFIX)


def _app_temp_entries(temp_dir: Path) -> list[Path]:
    return [entry for entry in temp_dir.glob(f"{TEMP_PREFIX}*") if entry.is_dir() and not entry.is_symlink()]


def _owner_pid(entry: Path) -> int | None:
    match = _OWNED_BY_PID.fullmatch(entry.name)
    return int(match.group(1)) if match else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep_temp_folders(temp_dir: str | Path | None = None, max_age_s: float = MAX_TEMP_AGE_S) -> list[Path]:
    """Remove the app's temporary folders that nobody uses: those of processes that have ended, and those
    without an owner that are older than `max_age_s`. Returns what was removed."""
    temp_dir, now, removed = Path(temp_dir or tempfile.gettempdir()), time.time(), []
    for entry in _app_temp_entries(temp_dir):
        pid = _owner_pid(entry)
        stale = (not _alive(pid)) if pid is not None else now - entry.stat().st_mtime > max_age_s
        if stale and pid != os.getpid():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def sweep_own_temp_folders(temp_dir: str | Path | None = None) -> list[Path]:
    """Remove this process's temporary folders (at exit)."""
    temp_dir, removed = Path(temp_dir or tempfile.gettempdir()), []
    for entry in _app_temp_entries(temp_dir):
        if _owner_pid(entry) == os.getpid():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
