"""Which runner trains this server's jobs: the local one, or Ray when ALBERT_VIZ_RAY_ADDRESS names a cluster.

Apart from both runners so that neither imports the other (ray_runner builds on runner's BaseRunner).
"""
from __future__ import annotations

import os

from albert_viz.finetune.runner import BaseRunner, LocalRunner
from albert_viz.finetune.store import JobStore


def make_runner(store: JobStore | None = None, serve_queue: bool = True, threads: int | None = None) -> BaseRunner:
    """RayRunner when ALBERT_VIZ_RAY_ADDRESS is set (and Ray is installed), else the LocalRunner.

    serve_queue=False (the CLI): a local runner trains only its own jobs, never the servers' waiting ones.
    threads: torch threads per local training process (default: the web server's split of the cores);
    a Ray worker's threads follow its num_cpus instead.
    """
    address = os.environ.get("ALBERT_VIZ_RAY_ADDRESS", "").strip()
    if address:
        try:
            from albert_viz.finetune.ray_runner import RayRunner
        except ImportError:
            runner = LocalRunner(store, serve_queue=serve_queue, threads=threads)
            runner.notes = ("ALBERT_VIZ_RAY_ADDRESS is set but Ray is not installed here "
                            "(pip install -r requirements-cluster.txt), so jobs train on this machine.",)
            return runner
        return RayRunner(store, address)
    return LocalRunner(store, serve_queue=serve_queue, threads=threads)

