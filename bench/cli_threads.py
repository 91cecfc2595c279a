"""The command line's fine-tuning job against the same job on every core and on the web server's thread split.

Three variants train the same steps on the same data, alternating in one run (cli, all cores, web split, ...)
so background load hits all alike:
  cli        `python -m albert_viz finetune ...`, the real command (its job's process picks its own threads)
  all_cores  a FinetuneJob in a fresh process with torch on every usable core
  web_split  the same with the web server's share for one training slot (runtime.thread_budget().job_threads)
Each prints its training seconds (Trainer.train only). The last lines are `ratio_cli_vs_all_cores=` (about 1.0
when the command line uses every core) and `ratio_web_split_vs_all_cores=`.

    python bench/cli_threads.py [--steps 40] [--rounds 2] [--model bundled]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CSV = ROOT / "assets" / "datasets" / "movie_reviews.csv"


def worker(threads: int, model: str, steps: int) -> None:
    """One job in this (fresh) process on `threads` torch threads; prints training_s=."""
    import torch

    from albert_viz.finetune.cli import model_spec
    from albert_viz.finetune.data import load_csv_file
    from albert_viz.finetune.job import FinetuneConfig, FinetuneJob
    from albert_viz.model.loading import load_model

    torch.set_num_threads(threads)
    base = load_model(model_spec(model, "cpu"))
    # The command line's own defaults (its evaluations during training included), so all three do the same work.
    job = FinetuneJob(base, load_csv_file(CSV), FinetuneConfig(max_steps=steps, device="cpu"), queue=None)
    result = job.run()
    print(f"training_s={result.seconds:.2f}")


def _seconds(command: list[str]) -> float:
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return float(next(word for word in out.split() if word.startswith("training_s=")).split("=")[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.model, args.steps)

    from albert_viz.model.runtime import thread_budget, usable_cores

    cores, split = usable_cores(), thread_budget().job_threads
    here = [sys.executable, str(Path(__file__).resolve()), "--model", args.model, "--steps", str(args.steps)]
    with tempfile.TemporaryDirectory(prefix="albert_viz_bench_") as folder:
        variants = {
            "cli": [sys.executable, "-m", "albert_viz", "finetune", "--model", args.model, "--csv", str(CSV),
                    "--out", str(Path(folder) / "out"), "--max-steps", str(args.steps), "--device", "cpu"],
            "all_cores": [*here, "--worker", str(cores)],
            "web_split": [*here, "--worker", str(split)],
        }
        print(f"model={args.model} steps={args.steps} cores={cores} web_split_threads={split}", flush=True)
        times: dict[str, list[float]] = {name: [] for name in variants}
        for round_number in range(1, args.rounds + 1):
            for name, command in variants.items():
                times[name].append(_seconds(command))
            print(f"round {round_number}: " + ", ".join(f"{n} {t[-1]:.1f} s" for n, t in times.items()), flush=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    for name, value in median.items():
        print(f"{name}_training_s={value:.2f}")
    print(f"ratio_cli_vs_all_cores={median['cli'] / median['all_cores']:.2f}")
    print(f"ratio_web_split_vs_all_cores={median['web_split'] / median['all_cores']:.2f}")


if __name__ == "__main__":
    main()
