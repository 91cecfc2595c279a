"""Training throughput: the app's fine-tuning job vs a plain Trainer script that pads every example to 128 tokens.

Same model, same movie-review CSV, same split, batch size, steps, learning rate and precision; the two
runs alternate (app, plain, app, plain, ...) so background load hits both alike. Each run trains
--steps training steps (no evaluation inside the timed loop); samples/s is Trainer's own
train_samples_per_second. The app's job also runs once per round without its training timeline
(timeline_snapshots=0): `timeline_overhead=` is the median over rounds of the wall time of the app's whole
`job.run()` (loading, training with the probe rows recorded, the final evaluation, saving the model and the
.npz) with the timeline over the same round's run without it, minus 1 (goal: at most 0.10). Which of the two
runs first alternates by round. Beside it: each side's median and fastest run, the process's CPU time
(`timeline_overhead_cpu=`, steadier when other work shares the machine) and what the timeline's own parts took
(recording the probe rows, writing the .npz). The last line is
`ratio=<app/plain>`.

    python bench/finetune_throughput.py                 # bundled model, 5 rounds of 20 steps
    python bench/finetune_throughput.py --model random --steps 10 --rounds 1
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from transformers import PrinterCallback, Trainer, TrainingArguments  # noqa: E402

from albert_viz.finetune.cli import model_spec  # noqa: E402
from albert_viz.finetune.data import SAMPLES_DIR, load_csv_file  # noqa: E402
from albert_viz.finetune import job as job_module  # noqa: E402
from albert_viz.finetune.job import (  # noqa: E402
    DONE, FinetuneConfig, FinetuneJob, classifier_copy, split_indices, tokenize_examples,
)
from albert_viz.finetune.timeline import Timeline, TimelineCallback  # noqa: E402
from albert_viz.model.loading import load_model  # noqa: E402

PLAIN_LENGTH = 128


class TimedTimeline(TimelineCallback):
    """The job's own timeline callback, with the wall time of its snapshots added up (what it costs, by part)."""

    spent = {"snapshots": 0.0, "saving": 0.0}

    def _record(self, step, model):
        started = time.perf_counter()
        super()._record(step, model)
        TimedTimeline.spent["snapshots"] += time.perf_counter() - started


def _timed_save(save):
    def timed(self, folder):
        started = time.perf_counter()
        try:
            return save(self, folder)
        finally:
            TimedTimeline.spent["saving"] += time.perf_counter() - started
    return timed


job_module.TimelineCallback = TimedTimeline  # the job builds its callback by this name
Timeline.save = _timed_save(Timeline.save)


@dataclass(frozen=True)
class AppRun:
    samples_per_second: float
    wall_s: float  # the whole job.run(): queue slot, loading, training, final evaluation, saving model and timeline
    cpu_s: float  # this process's CPU time over the same run (all threads): less swayed by other work on the machine
    snapshots_s: float  # of wall_s: recording the probe rows
    saving_s: float  # of wall_s: writing the timeline's .npz
    training_s: float  # of wall_s: Trainer.train (the snapshots inside it)
    evaluating_s: float  # of wall_s: the final evaluation and saving


def app_run(base, dataset, config: FinetuneConfig) -> AppRun:
    """The page's own job (dynamic padding, length-grouped batches), timed as a whole."""
    job = FinetuneJob(base, dataset, config)
    TimedTimeline.spent.update(snapshots=0.0, saving=0.0)
    started, cpu_started = time.perf_counter(), time.process_time()
    job.run()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if job.snapshot().state != DONE:
        raise RuntimeError(job.snapshot().error)
    return AppRun(job.result.samples_per_second, wall, cpu, TimedTimeline.spent["snapshots"],
                  TimedTimeline.spent["saving"], job.result.seconds, job.result.evaluation_seconds)


def plain_run(base, dataset, config: FinetuneConfig) -> float:
    """What a notebook usually does: pad everything to 128, random batches, default collator; samples per second."""
    train_rows, _ = split_indices(dataset, config.validation_fraction, config.seed)
    labels = dataset.label_ids
    subset = lambda rows: ([dataset.texts[i] for i in rows], [labels[i] for i in rows])
    length = min(PLAIN_LENGTH, base.max_tokens)  # the random stand-in model only has 64 positions
    train = tokenize_examples(base.tokenizer, *subset(train_rows), length, padding="max_length")
    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(prefix="albert_viz_bench_"), max_steps=config.max_steps,
        learning_rate=config.learning_rate, per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=max(64, config.batch_size), weight_decay=0.01, warmup_steps=0.1,
        eval_strategy="no", save_strategy="no", report_to="none", disable_tqdm=True,
        seed=config.seed, use_cpu=base.device.type == "cpu", dataloader_pin_memory=False,
        bf16=config.precision == "bf16", fp16=config.precision == "fp16",
    )
    trainer = Trainer(model=classifier_copy(base, dataset.label_names, config.seed), args=args,
                      train_dataset=train)
    trainer.remove_callback(PrinterCallback)
    return float(trainer.train().metrics["train_samples_per_second"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--csv", default=str(SAMPLES_DIR / "movie_reviews.csv"))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    base = load_model(model_spec(args.model, args.device))
    dataset = load_csv_file(args.csv)
    config = FinetuneConfig(max_steps=args.steps, batch_size=args.batch_size, evaluations=0,
                            precision=args.precision, device=args.device)
    for note in base.notes:
        print(f"note: {note}")
    print(f"model={base.spec.label} device={base.device} rows={len(dataset)} steps={args.steps} "
          f"batch={args.batch_size} app_max_length={config.max_length} plain_length={min(PLAIN_LENGTH, base.max_tokens)}")
    print(f"load_average_before={' '.join(f'{load:.2f}' for load in os.getloadavg())} cores={os.cpu_count()}")
    app_run(base, dataset, replace(config, max_steps=min(args.steps, 4)))  # warm-up, not timed: first-call costs
    plain, runs = [], {True: [], False: []}  # runs[with the timeline?]: AppRun per round
    for round_number in range(1, args.rounds + 1):
        started = time.monotonic()
        order = (True, False) if round_number % 2 else (False, True)  # neither side always runs first
        for with_timeline in order:
            runs[with_timeline].append(app_run(base, dataset, config if with_timeline
                                               else replace(config, timeline_snapshots=0)))
        plain.append(plain_run(base, dataset, config))
        timed, untimed = runs[True][-1], runs[False][-1]
        print(f"round {round_number}: job.run() {timed.wall_s:.2f} s with the timeline (training "
              f"{timed.training_s:.2f} s with snapshots {timed.snapshots_s:.2f} s, evaluating and saving "
              f"{timed.evaluating_s:.2f} s with the .npz {timed.saving_s:.2f} s), {untimed.wall_s:.2f} s without "
              f"(training {untimed.training_s:.2f} s, evaluating and saving {untimed.evaluating_s:.2f} s); CPU "
              f"{timed.cpu_s:.1f} s vs {untimed.cpu_s:.1f} s; app {timed.samples_per_second:.1f} samples/s, plain "
              f"{plain[-1]:.1f} samples/s ({time.monotonic() - started:.0f} s)", flush=True)
    median = lambda with_timeline, field: statistics.median(getattr(run, field) for run in runs[with_timeline])
    app_rate, plain_rate = median(True, "samples_per_second"), statistics.median(plain)
    with_s, without_s = median(True, "wall_s"), median(False, "wall_s")
    print(f"load_average_after={' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print(f"job_wall_s_with_timeline={with_s:.2f}")
    print(f"job_wall_s_without_timeline={without_s:.2f}")
    print(f"timeline_parts_s=snapshots {median(True, 'snapshots_s'):.2f} + saving {median(True, 'saving_s'):.2f} "
          f"({(median(True, 'snapshots_s') + median(True, 'saving_s')) / with_s:.1%} of the job's wall time)")
    fastest = min(run.wall_s for run in runs[True]) / min(run.wall_s for run in runs[False]) - 1
    print(f"timeline_overhead_fastest={fastest:.3f}")  # each side's least disturbed run
    print(f"timeline_overhead_cpu={median(True, 'cpu_s') / median(False, 'cpu_s') - 1:.3f}")
    # paired by round: both runs of a round share its background load; the median ignores a round that one
    # side spent under a burst of other work
    paired = statistics.median(timed.wall_s / untimed.wall_s for timed, untimed in zip(runs[True], runs[False]))
    print(f"timeline_overhead={paired - 1:.3f}")  # extra wall time of the whole job
    print(f"app_samples_per_s={app_rate:.2f}")
    print(f"plain_samples_per_s={plain_rate:.2f}")
    print(f"ratio={app_rate / plain_rate:.2f}")


if __name__ == "__main__":
    main()
