"""Ray's overhead where it cannot add machines: 8 small jobs on a local Ray vs the local runner, same slots.

Each job fine-tunes the bundled model on the movie-review sample for --steps steps (then the usual
validation pass and save). The local runner gets --slots processes; Ray gets `ray.init(num_cpus=slots)`
and one CPU per job, so both run `slots` jobs at a time. Wall time from the first submit to the last
job's end; Ray's start-up (ray.init) is printed apart. The last line is `ratio=` Ray / local.

    RAY_AUTH_MODE=disabled python bench/ray_jobs.py
    python bench/ray_jobs.py --jobs 4 --steps 10
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local, loopback-only cluster

from albert_viz.finetune.data import SAMPLES_DIR, load_csv_file  # noqa: E402
from albert_viz.finetune.job import DONE, FinetuneConfig  # noqa: E402
from albert_viz.finetune.runner import LocalRunner  # noqa: E402
from albert_viz.finetune.store import JobStore  # noqa: E402
from albert_viz.model.loading import ModelSpec  # noqa: E402


def run_all(runner, spec, dataset, config, jobs: int) -> float:
    """Submit every job, wait for all; wall seconds. Every job must finish."""
    started = time.monotonic()
    ids = [runner.submit(spec, dataset, config) for _ in range(jobs)]
    for job_id in ids:
        snapshot = runner.wait(job_id, timeout_s=1800, every_s=0.5)
        if snapshot.state != DONE:
            raise RuntimeError(f"job {job_id} ended {snapshot.state}: {snapshot.error}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--slots", type=int, default=2)
    args = parser.parse_args()

    import ray

    from albert_viz.finetune.ray_runner import RayRunner, runtime_env

    spec = ModelSpec("bundled", device="cpu")
    dataset = load_csv_file(SAMPLES_DIR / "movie_reviews.csv")
    config = FinetuneConfig(max_steps=args.steps, evaluations=0, device="cpu")
    print(f"cpus={os.cpu_count()} jobs={args.jobs} steps={args.steps} slots={args.slots}", flush=True)

    local = LocalRunner(JobStore(tempfile.mkdtemp(prefix="albert_viz_bench_local_")), slots=args.slots)
    local_s = run_all(local, spec, dataset, config, args.jobs)
    local.close()
    print(f"local_runner_s={local_s:.1f} ({local.threads} torch thread(s) per job)", flush=True)

    started = time.monotonic()
    ray.init(num_cpus=args.slots, include_dashboard=False, log_to_driver=False, runtime_env=runtime_env())
    print(f"ray_init_s={time.monotonic() - started:.1f}", flush=True)
    try:
        remote = RayRunner(JobStore(tempfile.mkdtemp(prefix="albert_viz_bench_ray_")), num_cpus=1)
        ray_s = run_all(remote, spec, dataset, config, args.jobs)
    finally:
        ray.shutdown()
    print(f"ray_runner_s={ray_s:.1f}")
    print(f"ratio={ray_s / local_s:.2f}")


if __name__ == "__main__":
    main()
