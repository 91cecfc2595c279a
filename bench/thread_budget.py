"""What a thread budget buys: one capture at the request cap (128 tokens) alone, and while a training-sized
load runs beside it, with torch's default threads and with albert_viz.model.runtime's budget.

The "training" load is a second process doing back-to-back forward+backward passes of the same model, as a
fine-tuning job would. Default: both processes use every core (torch's default). Budget: the web side uses
`forward_threads`, the job `job_threads` (runtime.thread_budget). Variants run interleaved in one run.
Prints medians (s) per variant; last line: ratio=<default median / budget median> under load (> 1: the budget
helps the students waiting for a heatmap).

    .venv/bin/python bench/thread_budget.py [--repeats 10] [--model bundled|base]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import torch

from albert_viz.model.capture import capture
from albert_viz.model.loading import ModelSpec, load_model
from albert_viz.model.random_tiny import save_random_albert
from albert_viz.model.runtime import thread_budget, usable_cores

BASE_SIZE = dict(vocab_size=30000, embedding_size=128, hidden_size=768, num_hidden_layers=12,
                 num_attention_heads=12, intermediate_size=3072, max_position_embeddings=512)

TOKENS = 128  # the per-request cap when this bench's figures were taken; kept so that they compare


def spec_for(model: str) -> ModelSpec:
    if model == "bundled":
        return ModelSpec(device="cpu")
    folder = save_random_albert(tempfile.mkdtemp(prefix="albert_viz_bench_"), **BASE_SIZE)
    return ModelSpec("local", str(folder), "cpu")


def train_forever(spec: ModelSpec, threads: int, stop) -> None:
    """A stand-in fine-tuning job: forward + backward on a batch of 16 x 64 tokens until told to stop."""
    torch.set_num_threads(threads)
    loaded = load_model(spec)
    model = loaded.model.train()
    ids = torch.randint(5, loaded.config.vocab_size, (16, 64))  # [batch, token]
    while not stop.is_set():
        model.zero_grad()
        model(input_ids=ids).prediction_logits.float().mean().backward()


def median_capture(loaded, text: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        capture(loaded, text, max_tokens=TOKENS)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--model", choices=["bundled", "base"], default="bundled")
    args = parser.parse_args()
    cores, budget = usable_cores(), thread_budget()
    spec = spec_for(args.model)
    loaded = load_model(spec)
    text = " ".join(["the cat sat on the mat"] * 40)  # well over the cap: cut to 128 tokens
    print(f"cores={cores} budget: forward_threads={budget.forward_threads} job_threads={budget.job_threads} "
          f"model={args.model} tokens={TOKENS}")
    variants = {"default": (cores, cores), "budget": (budget.forward_threads, budget.job_threads)}
    results = {name: {"alone": [], "training beside": []} for name in variants}
    context = multiprocessing.get_context("spawn")
    for _ in range(2):  # two rounds, interleaved, so machine noise hits both variants
        for name, (forward_threads, job_threads) in variants.items():
            torch.set_num_threads(forward_threads)
            results[name]["alone"].append(median_capture(loaded, text, args.repeats))
            stop = context.Event()
            job = context.Process(target=train_forever, args=(spec, job_threads, stop))
            job.start()
            time.sleep(8)  # the job has loaded its model and is training
            results[name]["training beside"].append(median_capture(loaded, text, args.repeats))
            stop.set()
            job.join()
    for name in variants:
        print(f"{name:8s} alone {statistics.median(results[name]['alone']):.3f} s   "
              f"with a job training {statistics.median(results[name]['training beside']):.3f} s")
    loaded_default = statistics.median(results["default"]["training beside"])
    loaded_budget = statistics.median(results["budget"]["training beside"])
    print(f"ratio={loaded_default / loaded_budget:.2f}")


if __name__ == "__main__":
    main()
