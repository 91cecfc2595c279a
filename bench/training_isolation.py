"""Do students' forward passes stay fast while a fine-tuning job trains? In-thread job vs the process runner.

Four client threads call the app's capture path (the bundled model, 25-token sentences, a short pause
between calls) for --window seconds in each phase: idle, while one fine-tuning job of the movie-review
sample trains in a thread of this process (the old runner), idle again, while the same job trains in
its own process (LocalRunner, one slot, its thread budget). Training-phase windows start at the job's
first step (so a process's start-up is not counted) and the job is cancelled when the window ends.
Prints p50/p95 per phase; the last line is `ratio=` p95 during process-runner training / p95 idle.

    python bench/training_isolation.py                 # 25 s windows
    python bench/training_isolation.py --window 10
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from albert_viz.finetune.data import SAMPLES_DIR, load_csv_file  # noqa: E402
from albert_viz.finetune.job import FinetuneConfig, FinetuneJob  # noqa: E402
from albert_viz.finetune.runner import LocalRunner  # noqa: E402
from albert_viz.finetune.store import JobStore  # noqa: E402
from albert_viz.model.capture import capture  # noqa: E402
from albert_viz.model.loading import ModelSpec, load_model  # noqa: E402

CLIENTS = 4
PAUSE_S = 0.1  # a student's clicks are not back to back
WORDS = "the teacher read a short story about a small dog that walked to school every day with a friend".split()


def sentences(loaded, tokens: int = 25, count: int = 40) -> list[str]:
    """Different sentences of exactly `tokens` tokens ([CLS] and [SEP] included), so nothing is cached."""
    out = []
    for shift in range(count):
        words = [WORDS[(shift + i) % len(WORDS)] for i in range(tokens)]
        while len(loaded.tokenizer(" ".join(words))["input_ids"]) > tokens:
            words.pop()
        out.append(" ".join(words))
    return out


def measure(loaded, texts: list[str], window_s: float) -> np.ndarray:
    """Latencies (s) of every capture the client threads made during the window."""
    latencies, stop = [], time.monotonic() + window_s

    def client(offset: int) -> None:
        i = offset
        while time.monotonic() < stop:
            started = time.monotonic()
            capture(loaded, texts[i % len(texts)])
            latencies.append(time.monotonic() - started)
            i += CLIENTS
            time.sleep(PAUSE_S)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return np.asarray(latencies)


def wait_for_first_step(read_step, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while read_step() < 1:
        if time.monotonic() > deadline:
            raise TimeoutError("the job did not start training")
        time.sleep(0.2)


def report(name: str, latencies: np.ndarray) -> float:
    p50, p95 = np.percentile(latencies, [50, 95]) * 1000
    print(f"{name:<28} calls={len(latencies):4d} p50={p50:7.1f} ms p95={p95:7.1f} ms", flush=True)
    return float(p95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--window", type=float, default=25.0)
    args = parser.parse_args()

    spec = ModelSpec("bundled", device="cpu")
    loaded = load_model(spec)
    texts = sentences(loaded)
    dataset = load_csv_file(SAMPLES_DIR / "movie_reviews.csv")
    config = FinetuneConfig(device="cpu")  # the page's defaults: minutes of training, cancelled after the window
    print(f"cpus={os.cpu_count()} model={spec.label} clients={CLIENTS} window={args.window:g}s "
          f"sentence_tokens={len(loaded.tokenizer(texts[0])['input_ids'])}", flush=True)

    idle = [measure(loaded, texts, args.window)]
    report("idle", idle[0])

    job = FinetuneJob(loaded, dataset, config).start()  # the old runner: a thread of this process
    wait_for_first_step(lambda: job.snapshot().step)
    in_thread = measure(loaded, texts, args.window)
    job.cancel()
    job.wait(60)
    p95_thread = report("during in-thread training", in_thread)

    idle.append(measure(loaded, texts, args.window))
    report("idle (again)", idle[1])

    runner = LocalRunner(JobStore(tempfile.mkdtemp(prefix="albert_viz_bench_")), slots=1)
    job_id = runner.submit(spec, dataset, config)
    wait_for_first_step(lambda: runner.snapshot(job_id).step)
    in_process = measure(loaded, texts, args.window)
    runner.cancel(job_id)
    runner.close()
    p95_process = report("during process training", in_process)

    p95_idle = report("idle (both windows)", np.concatenate(idle))
    print(f"in_thread_ratio={p95_thread / p95_idle:.2f}")
    print(f"process_threads={runner.threads}")
    print(f"ratio={p95_process / p95_idle:.2f}")


if __name__ == "__main__":
    main()
