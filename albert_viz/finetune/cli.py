"""`python -m albert_viz finetune ...`: the page's fine-tuning job from the command line.

It goes through the same job interface as the page (a LocalRunner process, or Ray when
ALBERT_VIZ_RAY_ADDRESS is set), so the job is in the store and the teacher's view too. Under
`accelerate launch` / `torchrun` (WORLD_SIZE > 1) every rank runs the same FinetuneJob in its own
process instead: that is the way to train one big job on many GPUs.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from albert_viz.finetune.data import CsvError, LabelledDataset, load_csv_file
from albert_viz.finetune.job import (
    DONE, MAX_LENGTH_LIMIT, FinetuneConfig, FinetuneJob, FinetuneResult, JobError, ProgressSnapshot,
    time_left,
)
from albert_viz.finetune.runner_choice import make_runner
from albert_viz.model.loading import ModelLoadError, ModelSpec, load_model
from albert_viz.model.runtime import cli_threads

DEFAULTS = FinetuneConfig()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="bundled",
                        help="'bundled', 'random', a local model folder, or a Hugging Face hub id (default: bundled)")
    parser.add_argument("--csv", required=True, help="a CSV with a text column and a label column")
    parser.add_argument("--text-col", default=None, help="the text column (default: guessed)")
    parser.add_argument("--label-col", default=None, help="the label column (default: guessed)")
    parser.add_argument("--out", required=True, help="folder for the fine-tuned model (save_pretrained format)")
    parser.add_argument("--epochs", type=float, default=DEFAULTS.epochs)
    parser.add_argument("--lr", type=float, default=DEFAULTS.learning_rate)
    parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size, help="per device")
    parser.add_argument("--max-length", type=int, default=DEFAULTS.max_length, help="tokens per example")
    parser.add_argument("--val-fraction", type=float, default=DEFAULTS.validation_fraction)
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: all epochs)")
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default="auto")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")


def model_spec(name: str, device: str) -> ModelSpec:
    """'bundled'/'random' by name, an existing folder as 'local', anything else as a hub id."""
    if name in ("bundled", "random"):
        return ModelSpec(source=name, device=device)
    if Path(name).expanduser().is_dir():
        return ModelSpec(source="local", location=str(Path(name).expanduser()), device=device)
    return ModelSpec(source="hub", location=name, device=device)


def is_distributed() -> bool:
    """Started by `accelerate launch` / `torchrun` with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_main_process() -> bool:
    """Under `accelerate launch` every process runs this; only rank 0 prints."""
    return int(os.environ.get("RANK", "0")) == 0


class ProgressPrinter:
    """One line per new log entry (loss or evaluation) or state change, not per step; rank 0 only."""

    def __init__(self):
        self.last = None

    def __call__(self, snapshot: ProgressSnapshot) -> None:
        key = (len(snapshot.losses), len(snapshot.evaluations), snapshot.state, snapshot.message)
        if key == self.last or not is_main_process():
            return
        self.last = key
        line = f"[{snapshot.state}] step {snapshot.step}/{snapshot.total_steps} {snapshot.message}"
        if snapshot.losses:
            line += f" loss {snapshot.losses[-1][1]:.4f}"
        if snapshot.evaluations:
            line += f" val_acc {snapshot.evaluations[-1][1]:.4f}"
        if left := time_left(snapshot):
            line += f" ({left})"
        print(line, flush=True)


def run(args: argparse.Namespace) -> int:
    """Validate, train, save; a clear message and exit code 2 on a user error, 1 if the job did not finish."""
    config = FinetuneConfig(epochs=args.epochs, learning_rate=args.lr, batch_size=args.batch_size,
                            max_length=args.max_length, validation_fraction=args.val_fraction, seed=args.seed,
                            max_steps=args.max_steps, precision=args.precision, device=args.device)
    try:
        dataset = load_csv_file(args.csv, args.text_col, args.label_col)
        config.check(MAX_LENGTH_LIMIT)
        spec = model_spec(args.model, args.device)
        run_job = _train_here if is_distributed() else _train_with_runner
        snapshot, result, submitted_at = run_job(spec, dataset, config, Path(args.out))
    except (CsvError, ModelLoadError, JobError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if snapshot.state != DONE or result is None:
        print(f"error: {snapshot.error or snapshot.state}", file=sys.stderr)
        return 1
    if is_main_process():
        report = result.report
        parts = result.durations(submitted_at)
        print(f"accuracy={report.accuracy:.4f} macro_f1={report.macro_f1:.4f} validation_rows={report.size} "
              f"train_rows={result.train_size} steps={result.steps} seconds={result.seconds:.1f}")
        print(f"total_s={parts.total:.1f} waiting_s={parts.waiting:.1f} loading_s={parts.loading:.1f} "
              f"training_s={parts.training:.1f} evaluating_s={parts.evaluating:.1f} "
              f"(seconds= above is training only)")
        print(f"saved={result.model_dir}")
    return 0


def _notes(dataset: LabelledDataset, more: tuple[str, ...] = ()) -> None:
    for note in dataset.notes + more:
        print(f"note: {note}", file=sys.stderr)


def _train_with_runner(spec: ModelSpec, dataset: LabelledDataset, config: FinetuneConfig,
                       out: Path) -> tuple[ProgressSnapshot, FinetuneResult | None, float]:
    """The page's path: submit to the runner (its process on every core), print its progress, Ctrl-C cancels."""
    runner = make_runner(serve_queue=False, threads=cli_threads())  # trains this job only, never a server's waiting ones
    _notes(dataset, runner.notes)
    job_id = runner.submit(spec, dataset, config, owner="command line", model_dir=out.resolve())
    printer = ProgressPrinter()
    try:
        while not (snapshot := runner.wait(job_id, timeout_s=1.0)).finished:
            printer(snapshot)
    except KeyboardInterrupt:
        runner.cancel(job_id, "Cancelled from the command line (Ctrl-C).")
        snapshot = runner.wait(job_id, timeout_s=30)
    finally:
        runner.close()
    printer(snapshot)
    record = runner.record(job_id)
    return snapshot, runner.result(job_id), record.created if record else time.time()


def _train_here(spec: ModelSpec, dataset: LabelledDataset, config: FinetuneConfig,
                out: Path) -> tuple[ProgressSnapshot, FinetuneResult | None, float]:
    """Under accelerate launch / torchrun: every rank trains in this process (Trainer shards the batches)."""
    submitted_at = time.time()
    base = load_model(spec)
    _notes(dataset, base.notes)
    job = FinetuneJob(base, dataset, config, model_dir=out, listener=ProgressPrinter(), began_at=submitted_at)
    result = job.run()
    return job.snapshot(), result, submitted_at


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m albert_viz finetune", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
