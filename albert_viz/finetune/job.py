"""A fine-tuning job: transformers.Trainer on a private classifier copy of a model, with live progress.

`FinetuneJob` is the one training code path. The runners (albert_viz.finetune.runner) run it in a
process of its own or on a Ray worker, and the page and the CLI talk to them through one interface;
`FinetuneJob.start()` (a thread of the caller's process) remains only for the isolation benchmark.
The base model is only *read* (its weights copied under its lock); it is never trained.
"""
from __future__ import annotations

import atexit
import contextlib
import copy
import errno
import json
import math
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from transformers import (
    AlbertForSequenceClassification, DataCollatorWithPadding, PrinterCallback, Trainer, TrainerCallback,
    TrainingArguments, set_seed,
)
from transformers.utils import logging as hf_logging

from albert_viz.finetune.data import LabelledDataset
from albert_viz.finetune.metrics import ClassScore, EvaluationReport, Misclassified, evaluate, quick_scores
from albert_viz.finetune.timeline import MAX_PROBE_ROWS, SNAPSHOTS, TimelineCallback
from albert_viz.model.loading import LoadedModel, pick_device

MAX_CONCURRENT_JOBS = int(os.environ.get("ALBERT_VIZ_TRAINING_SLOTS", "1"))  # a 2-core classroom server: one at a time
MAX_WAITING_JOBS = int(os.environ.get("ALBERT_VIZ_TRAINING_QUEUE", "40"))
MAX_LENGTH_LIMIT = 256  # tokens per example; attention cost grows with its square
MAX_EPOCHS = 20
MAX_BATCH_SIZE = 128

QUEUED, RUNNING, DONE, CANCELLED, FAILED = "queued", "running", "done", "cancelled", "failed"
INTERRUPTED = "interrupted"  # the server stopped while the job was queued or running
FINAL_STATES = (DONE, CANCELLED, FAILED, INTERRUPTED)
ESTIMATE_AFTER_STEPS = 3  # the first steps include warm-up: no time estimate before this many
# Before this share of the steps has run, the time left is at least this uncertain (a fraction of the estimate):
# the steps seen so far may be faster or slower than the rest (a busy machine, an evaluation, longer batches).
EARLY_SHARE, EARLY_MARGIN = 0.2, 0.3
SETTLED_MARGIN = 0.1  # an estimate within ±10% is said as one number


class JobError(ValueError):
    """The job cannot start as configured; the message is for the user."""


class Cancelled(Exception):
    """The user cancelled the job."""


@dataclass(frozen=True)
class FinetuneConfig:
    """What the user can set. Defaults suit the bundled ALBERT-tiny on the movie-review sample (2-core CPU, < 3 min)."""

    epochs: float = 3.0
    learning_rate: float = 1e-4
    batch_size: int = 16
    max_length: int = 64
    validation_fraction: float = 0.2
    seed: int = 13  # the sample's own split seed: the default validation rows are its held-out test rows
    max_steps: int = 0  # 0: run every epoch; > 0 stops early (tests, quick demos)
    evaluations: int = 6  # how many times validation accuracy is measured while training (0: only at the end)
    precision: str = "auto"  # auto | fp32 | bf16 | fp16
    device: str = "auto"
    timeline_snapshots: int = SNAPSHOTS  # steps (besides step 0) at which the probe rows are recorded; 0: none

    def check(self, max_positions: int) -> None:
        """Raise JobError when a setting is out of range."""
        limit = min(MAX_LENGTH_LIMIT, max_positions)
        problems = [
            (not 0 < self.epochs <= MAX_EPOCHS, f"Epochs must be between 0 and {MAX_EPOCHS}."),
            (not 0 < self.learning_rate < 1, "The learning rate must be between 0 and 1."),
            (not 1 <= self.batch_size <= MAX_BATCH_SIZE, f"The batch size must be between 1 and {MAX_BATCH_SIZE}."),
            (not 8 <= self.max_length <= limit, f"The maximum length must be between 8 and {limit} tokens."),
            (not 0.05 <= self.validation_fraction <= 0.5, "The validation fraction must be between 0.05 and 0.5."),
            (self.max_steps < 0, "The step limit cannot be negative."),
            (self.evaluations < 0, "The number of evaluations cannot be negative."),
            (not 0 <= self.timeline_snapshots <= 50, "The timeline records between 0 and 50 steps."),
            (self.precision not in ("auto", "fp32", "bf16", "fp16"), f"Unknown precision {self.precision!r}."),
        ]
        for failed, message in problems:
            if failed:
                raise JobError(message)


@dataclass(frozen=True)
class ProgressSnapshot:
    """Where a job is, as one immutable value the page can draw."""

    state: str = QUEUED
    message: str = "Waiting to start"
    step: int = 0
    total_steps: int = 0
    epoch: float = 0.0
    elapsed_s: float = 0.0
    eta_s: float | None = None
    eta_margin_s: float | None = None  # how far eta_s may be off, either way (see ProgressCallback)
    learning_rate: float | None = None
    losses: tuple[tuple[int, float], ...] = ()  # (step, training loss)
    evaluations: tuple[tuple[int, float, float], ...] = ()  # (step, validation accuracy, validation loss)
    validation_rows: int = 0  # rows each evaluation scores; 0 until the data is split (and in older records)
    queue_position: int = 0  # 1 = next in line; 0 = not waiting
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "ProgressSnapshot":
        fields = json.loads(text)
        fields = {name: value for name, value in fields.items() if name in cls.__dataclass_fields__}
        # JSON has lists only; the snapshot keeps tuples (immutable, hashable)
        fields["losses"] = tuple(tuple(item) for item in fields.get("losses", ()))
        fields["evaluations"] = tuple(tuple(item) for item in fields.get("evaluations", ()))
        return cls(**fields)


def time_left(snapshot: ProgressSnapshot) -> str:
    """The estimate a student reads: minutes and seconds, and no number while the first steps warm up."""
    if snapshot.state != RUNNING or snapshot.finished:
        return ""
    if snapshot.step < ESTIMATE_AFTER_STEPS or snapshot.eta_s is None:
        return "estimating the time left…"
    margin = snapshot.eta_margin_s or 0.0
    if margin <= SETTLED_MARGIN * snapshot.eta_s:
        return f"about {format_duration(snapshot.eta_s)} of training left"
    low, high = max(0.0, snapshot.eta_s - margin), snapshot.eta_s + margin
    return f"{format_duration(low)} to {format_duration(high)} of training left (an early estimate)"


def eta_with_margin(step_seconds: list[float], done: int, total: int) -> tuple[float, float]:
    """Seconds left at the mean step time so far, and how far that may be off either way.

    The margin is 1.96 standard errors of the mean step time over the steps left, and, while fewer than
    EARLY_SHARE of the steps have run, at least EARLY_MARGIN of the estimate.
    """
    left = max(0, total - done)
    times = np.asarray(step_seconds, dtype=float)
    eta = float(times.mean()) * left if len(times) else 0.0
    spread = 1.96 * float(times.std(ddof=1)) / math.sqrt(len(times)) * left if len(times) > 1 else eta
    early = EARLY_MARGIN * eta if total and done / total < EARLY_SHARE else 0.0
    return eta, max(spread, early)


@dataclass(frozen=True)
class Durations:
    """One job's time, in parts that add up: waiting for a slot, loading, training, evaluating and saving."""

    waiting: float  # from the click to the training process starting (the queue, and starting a process)
    loading: float  # the base model, the data tokenized, the classifier copied
    training: float  # Trainer.train, the evaluations during training included
    evaluating: float  # the final evaluation on the validation rows, and saving the model

    @property
    def total(self) -> float:
        """From the click to the results: the one duration the page and the command line report."""
        return self.waiting + self.loading + self.training + self.evaluating

    def describe(self) -> str:
        return (f"{format_duration(self.total)} in all: waiting {format_duration(self.waiting)}, loading "
                f"{format_duration(self.loading)}, training {format_duration(self.training)}, evaluating and "
                f"saving {format_duration(self.evaluating)}")


def format_duration(seconds: float) -> str:
    """'45 s', '2 min 05 s', '1 h 03 min': what a clock-reading person expects, never thousands of seconds."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


class Progress:
    """The thread-safe box a job publishes into: writers replace the snapshot under a lock, readers copy it."""

    def __init__(self, listener: Callable[[ProgressSnapshot], None] | None = None):
        self._lock = threading.Lock()
        self._snapshot = ProgressSnapshot()
        self._listener = listener

    def update(self, **changes) -> None:
        with self._lock:
            self._snapshot = replace(self._snapshot, **changes)
            snapshot = self._snapshot
        if self._listener:
            self._listener(snapshot)

    def append(self, name: str, item: tuple) -> None:
        with self._lock:
            current = self._snapshot
        self.update(**{name: getattr(current, name) + (item,)})

    def snapshot(self) -> ProgressSnapshot:
        with self._lock:
            return self._snapshot


class JobQueue:
    """At most `slots` jobs train at once; the rest wait in line (FIFO) and can see their place."""

    def __init__(self, slots: int, max_waiting: int):
        self._slots, self._max_waiting = slots, max_waiting
        self._running: set[str] = set()
        self._waiting: list[str] = []
        self._condition = threading.Condition()

    def position(self, job_id: str) -> int:
        with self._condition:
            return self._waiting.index(job_id) + 1 if job_id in self._waiting else 0

    @contextlib.contextmanager
    def slot(self, job_id: str, cancelled: threading.Event, progress: Progress) -> Iterator[None]:
        """Wait for a free slot (publishing the queue position), run, then free the slot for the next in line."""
        with self._condition:
            if len(self._waiting) >= self._max_waiting:
                raise JobError(f"{len(self._waiting)} fine-tuning jobs are already waiting; try again in a few minutes.")
            self._waiting.append(job_id)
            while not (self._waiting[0] == job_id and len(self._running) < self._slots):
                if cancelled.is_set():
                    self._waiting.remove(job_id)
                    self._condition.notify_all()
                    raise Cancelled()
                progress.update(queue_position=self._waiting.index(job_id) + 1,
                                message=f"Waiting for a free training slot ({len(self._running)} job(s) running)")
                self._condition.wait(timeout=0.25)  # wake up to notice a cancel
            self._waiting.pop(0)
            self._running.add(job_id)
        progress.update(queue_position=0)
        try:
            yield
        finally:
            with self._condition:
                self._running.discard(job_id)
                self._condition.notify_all()


QUEUE = JobQueue(MAX_CONCURRENT_JOBS, MAX_WAITING_JOBS)


@dataclass(frozen=True, eq=False)
class FinetuneResult:
    """A finished job: where the model was saved, how it did on the validation rows, how long it took."""

    model_dir: Path
    report: EvaluationReport
    validation_texts: tuple[str, ...]
    train_size: int
    steps: int
    seconds: float
    samples_per_second: float
    config: FinetuneConfig
    base_label: str
    notes: tuple[str, ...] = ()
    data_name: str = ""  # the file (or sample) the job trained on, as the page named it
    data_fingerprint: str = ""  # LabelledDataset.fingerprint of that data
    began_at: float = 0.0  # wall clock when the training process began (time.time())
    load_seconds: float = 0.0  # began_at -> Trainer.train: the model, the data, the classifier copy
    evaluation_seconds: float = 0.0  # after Trainer.train: the final evaluation and saving
    validation_labels: tuple[int, ...] = ()  # each validation text's label id (empty for jobs from before it was kept)

    def durations(self, submitted_at: float) -> Durations:
        """The job's time in parts, from `submitted_at` (the store's `created`: the click) to the saved model."""
        waiting = max(0.0, self.began_at - submitted_at) if self.began_at else 0.0
        return Durations(waiting, self.load_seconds, self.seconds, self.evaluation_seconds)

    def to_json(self) -> str:
        """Plain JSON (no pickle), so the store can keep a result across server restarts."""
        fields = asdict(self)
        fields["model_dir"] = str(self.model_dir)
        fields["report"]["confusion"] = self.report.confusion.tolist()
        return json.dumps(fields)

    @classmethod
    def from_json(cls, text: str) -> "FinetuneResult":
        fields = json.loads(text)
        report = fields.pop("report")
        report = EvaluationReport(
            label_names=tuple(report["label_names"]), accuracy=report["accuracy"], macro_f1=report["macro_f1"],
            per_class=tuple(ClassScore(**score) for score in report["per_class"]),
            confusion=np.asarray(report["confusion"], dtype=np.int64),  # [true class, predicted class]
            misclassified=tuple(Misclassified(**row) for row in report["misclassified"]), size=report["size"])
        return cls(**{**fields, "model_dir": Path(fields["model_dir"]), "report": report,  # new fields: defaults
                      "config": FinetuneConfig(**fields["config"]), "notes": tuple(fields["notes"]),
                      "validation_texts": tuple(fields["validation_texts"]),
                      "validation_labels": tuple(fields.get("validation_labels", ()))})


class ProgressCallback(TrainerCallback):
    """Trainer events -> Progress; sets should_training_stop when the cancel event is set."""

    def __init__(self, progress: Progress, cancelled: threading.Event):
        self.progress, self.cancelled = progress, cancelled
        self.started = self.last_step = time.monotonic()
        self.step_seconds: list[float] = []  # each step's own time: their spread says how sure the estimate is

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = self.last_step = time.monotonic()
        self.progress.update(state=RUNNING, message="Training", total_steps=state.max_steps)

    def on_step_end(self, args, state, control, **kwargs):
        now = time.monotonic()
        elapsed = now - self.started
        self.step_seconds.append(now - self.last_step)
        self.last_step = now
        eta, margin = eta_with_margin(self.step_seconds[1:] or self.step_seconds, state.global_step, state.max_steps)
        self.progress.update(step=state.global_step, epoch=float(state.epoch or 0), elapsed_s=elapsed, eta_s=eta,
                             eta_margin_s=margin)
        if self.cancelled.is_set():
            control.should_training_stop = True
        return control

    def on_prediction_step(self, args, state, control, **kwargs):
        # an evaluation cannot be told to stop, so a cancel during one leaves by exception (run() catches it)
        if self.cancelled.is_set():
            raise Cancelled()

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" in logs:
            self.progress.append("losses", (state.global_step, float(logs["loss"])))
            self.progress.update(learning_rate=logs.get("learning_rate"))
        if "eval_accuracy" in logs:
            self.progress.append("evaluations", (state.global_step, float(logs["eval_accuracy"]),
                                                 float(logs.get("eval_loss", math.nan))))


class InOrderTrainer(Trainer):
    """A Trainer whose evaluation keeps the dataset's order, so predictions line up with our texts.

    transformers 5 length-groups the *evaluation* batches too when train_sampling_strategy is
    'group_by_length', which returns predictions shuffled relative to the validation rows.
    """

    def _get_eval_sampler(self, eval_dataset):
        if self.args.world_size <= 1:
            return torch.utils.data.SequentialSampler(eval_dataset)
        return None  # distributed: the default (accelerate shards in order and gathers back in order)


class ExampleList(torch.utils.data.Dataset):
    """Tokenized examples, unpadded: DataCollatorWithPadding pads each batch to its own longest row."""

    def __init__(self, examples: list[dict]):
        self.examples = examples

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict:
        return self.examples[index]


def tokenize_examples(tokenizer, texts, label_ids, max_length: int, padding: bool | str = False) -> ExampleList:
    """Token ids (truncated to max_length) and the label of each row."""
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length, padding=padding)
    keys = [key for key in ("input_ids", "attention_mask", "token_type_ids") if key in encoded]
    return ExampleList([{**{key: encoded[key][i] for key in keys}, "labels": int(label_ids[i])}
                        for i in range(len(texts))])


def token_lengths(loaded: LoadedModel, texts) -> np.ndarray:
    """How many tokens each text becomes (with [CLS] and [SEP]), untruncated; for the length histogram."""
    tokenizer = copy.deepcopy(loaded.tokenizer)  # the shared tokenizer's truncation state is not thread-safe
    return np.array([len(ids) for ids in tokenizer(list(texts), truncation=False)["input_ids"]])


def split_indices(dataset: LabelledDataset, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/validation row indices; at least one validation row per class."""
    rows, classes = len(dataset), len(dataset.label_names)
    validation = min(max(classes, round(fraction * rows)), rows - classes)
    return train_test_split(np.arange(rows), test_size=validation, random_state=seed,
                            stratify=np.asarray(dataset.label_ids))


def classifier_copy(base: LoadedModel, label_names: tuple[str, ...], seed: int) -> AlbertForSequenceClassification:
    """A new AlbertForSequenceClassification with the base encoder's weights copied in; the base is only read."""
    config = copy.deepcopy(base.config)
    config.num_labels = len(label_names)
    config.id2label = dict(enumerate(label_names))
    config.label2id = {name: i for i, name in enumerate(label_names)}
    config.architectures = ["AlbertForSequenceClassification"]
    config.problem_type = "single_label_classification"
    set_seed(seed)  # the classifier head's random initialisation
    model = AlbertForSequenceClassification(config)
    with base.lock, torch.no_grad():
        # load_state_dict copies values into the new model's own tensors; a base without a pooler leaves ours random.
        model.albert.load_state_dict(base.encoder.state_dict(), strict=False)
    return model


def probe_rows(label_ids, count: int = MAX_PROBE_ROWS) -> list[int]:
    """Validation rows the timeline follows: the first of each class in turn, so every class is watched."""
    by_class: dict[int, list[int]] = {}
    for row, label in enumerate(label_ids):
        by_class.setdefault(int(label), []).append(row)
    queues, chosen = [rows for _, rows in sorted(by_class.items())], []
    while len(chosen) < count and any(queues):
        for rows in queues:
            if rows and len(chosen) < count:
                chosen.append(rows.pop(0))
    return chosen


def resolve_precision(device: torch.device, requested: str) -> str:
    """Mixed precision where the device supports it: bf16 on recent GPUs, else fp16; fp32 on CPU unless asked."""
    if requested != "auto":
        if requested == "fp16" and device.type == "cpu":
            raise JobError("fp16 training needs a GPU; use bf16 or fp32 on the CPU.")
        return requested
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "fp32"


def total_steps(config: FinetuneConfig, train_rows: int) -> int:
    """Optimizer steps the run will take (one process)."""
    return config.max_steps or math.ceil(config.epochs * math.ceil(train_rows / config.batch_size))


def training_arguments(config: FinetuneConfig, output_dir: Path, device: torch.device,
                       train_rows: int) -> TrainingArguments:
    """Trainer settings: dynamic padding + length-grouped batches, evaluation a few times, nothing saved mid-run."""
    precision = resolve_precision(device, config.precision)
    # an int, not a ratio: Trainer reads eval_steps=1.0 as "every step"
    eval_steps = max(1, math.ceil(total_steps(config, train_rows) / max(config.evaluations, 1)))
    return TrainingArguments(
        output_dir=str(output_dir / "trainer"), num_train_epochs=config.epochs, max_steps=config.max_steps or -1,
        learning_rate=config.learning_rate, per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=max(64, config.batch_size), weight_decay=0.01, warmup_steps=0.1,
        train_sampling_strategy="group_by_length", eval_strategy="steps" if config.evaluations else "no", eval_steps=eval_steps,
        logging_steps=0.02, logging_first_step=True, save_strategy="no", report_to="none", disable_tqdm=True,
        seed=config.seed, use_cpu=device.type == "cpu", bf16=precision == "bf16", fp16=precision == "fp16",
        dataloader_num_workers=0, dataloader_pin_memory=False,
    )


def failure_message(error: Exception) -> str:
    """What went wrong, in words for the page: a full disk says so; anything else names the error."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return ("The disk is full, so the fine-tuned model could not be saved. Nothing was kept; "
                "free some space (or ask the teacher to) and start again.")
    return f"Training stopped with an error: {type(error).__name__}: {error}"


def _accuracy(prediction) -> dict[str, float]:
    return quick_scores(prediction.label_ids, np.asarray(prediction.predictions).argmax(axis=-1))


class FinetuneJob:
    """One fine-tuning run. `run()` runs it in the caller's thread (a runner's worker); `cancel()` stops it."""

    def __init__(self, base: LoadedModel, dataset: LabelledDataset, config: FinetuneConfig = FinetuneConfig(),
                 model_dir: str | Path | None = None, listener: Callable[[ProgressSnapshot], None] | None = None,
                 work_dir: str | Path | None = None, queue: JobQueue | None = QUEUE,
                 began_at: float | None = None):
        config.check(base.max_tokens)
        self.id = uuid.uuid4().hex
        self.began_at = began_at or time.time()  # a runner passes when its worker began, before loading the model
        self.base, self.dataset, self.config, self.queue = base, dataset, config, queue
        # Trainer's output_dir (it saves nothing there); a runner puts it inside the job's own folder
        self.work_dir = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="albert_viz_finetune_"))
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.model_dir = Path(model_dir) if model_dir else self.work_dir / "model"
        self._model_dir_is_ours = not self.model_dir.exists()  # never delete a folder the user had before
        self.progress = Progress(listener)
        self.result: FinetuneResult | None = None
        self._cancelled = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "FinetuneJob":
        """Train in a thread of this process: the old in-process runner, kept for bench/training_isolation.py."""
        self._thread = threading.Thread(target=self.run, name=f"finetune-{self.id[:8]}", daemon=True)
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def snapshot(self) -> ProgressSnapshot:
        return self.progress.snapshot()

    def wait(self, timeout: float | None = None) -> ProgressSnapshot:
        if self._thread:
            self._thread.join(timeout)
        return self.snapshot()

    def run(self) -> FinetuneResult | None:
        """Queue, train, evaluate, save; every outcome ends in a final state, never an exception."""
        try:
            with self.queue.slot(self.id, self._cancelled, self.progress) if self.queue else contextlib.nullcontext():
                self.result = self._train()
            self.progress.update(state=DONE, message="Finished", eta_s=0.0)
        except Cancelled:
            self.progress.update(state=CANCELLED, message="Cancelled", eta_s=None, queue_position=0)
        except JobError as error:
            self._fail(str(error))
        except Exception as error:  # noqa: BLE001 - shown on the page; the log keeps the traceback
            hf_logging.get_logger(__name__).exception("fine-tuning failed")
            self._fail(failure_message(error))
        finally:
            self._tidy_work_dir()
        return self.result

    def _fail(self, message: str) -> None:
        self.progress.update(state=FAILED, message="Failed", error=message, eta_s=None, queue_position=0)

    def _tidy_work_dir(self) -> None:
        """Delete what is not needed any more, so repeated runs don't fill the disk.

        A failed or cancelled run keeps nothing (not even a half-written model). A finished run keeps
        its model while the app lives (the before/after views and the download read it), unless it
        was saved elsewhere (--out, or a runner's job folder).
        """
        if self.result is None:
            if self._model_dir_is_ours:
                shutil.rmtree(self.model_dir, ignore_errors=True)
            shutil.rmtree(self.work_dir, ignore_errors=True)
        elif not self.model_dir.is_relative_to(self.work_dir):
            shutil.rmtree(self.work_dir, ignore_errors=True)
        else:
            shutil.rmtree(self.work_dir / "trainer", ignore_errors=True)
            atexit.register(shutil.rmtree, self.work_dir, ignore_errors=True)

    def _train(self) -> FinetuneResult:
        config, dataset = self.config, self.dataset
        device = pick_device(config.device)
        self.progress.update(state=RUNNING, message="Preparing the model and data", eta_s=None)
        train_rows, validation_rows = split_indices(dataset, config.validation_fraction, config.seed)
        self.progress.update(validation_rows=len(validation_rows))  # the chart says how many rows an accuracy is of
        with self.base.lock:
            tokenizer = copy.deepcopy(self.base.tokenizer)  # private: tokenizer calls mutate its truncation state
        model = classifier_copy(self.base, dataset.label_names, config.seed)
        label_ids = dataset.label_ids
        subset = lambda rows: ([dataset.texts[i] for i in rows], [label_ids[i] for i in rows])
        train_set = tokenize_examples(tokenizer, *subset(train_rows), config.max_length)
        validation_texts, validation_labels = subset(validation_rows)
        validation_set = tokenize_examples(tokenizer, validation_texts, validation_labels, config.max_length)
        probes = probe_rows(validation_labels)
        timeline = TimelineCallback(tokenizer, [validation_texts[i] for i in probes],
                                    [validation_labels[i] for i in probes], dataset.label_names,
                                    config.timeline_snapshots) if config.timeline_snapshots else None
        trainer = InOrderTrainer(model=model, args=training_arguments(config, self.work_dir, device, len(train_set)),
                          train_dataset=train_set, eval_dataset=validation_set, processing_class=tokenizer,
                          data_collator=DataCollatorWithPadding(tokenizer), compute_metrics=_accuracy,
                          callbacks=[ProgressCallback(self.progress, self._cancelled), *([timeline] if timeline else [])])
        trainer.remove_callback(PrinterCallback)  # progress goes to the listener, not to stdout
        started, training_began = time.monotonic(), time.time()
        output = trainer.train()
        if self._cancelled.is_set():
            raise Cancelled()
        seconds = time.monotonic() - started
        evaluation_began = time.monotonic()
        self.progress.update(message="Evaluating on the validation rows")
        logits = trainer.predict(validation_set).predictions
        probabilities = torch.softmax(torch.as_tensor(logits, dtype=torch.float32), dim=-1).numpy()  # [row, class]
        report = evaluate(validation_texts, validation_labels, probabilities, dataset.label_names)
        model_dir = self._save(trainer, tokenizer, report)
        if timeline and trainer.is_world_process_zero() and (recorded := timeline.timeline()) is not None:
            recorded.save(model_dir)  # beside the model: it travels with it (runners, downloads of the folder)
        if self._cancelled.is_set():  # cancelled while saving: the user no longer wants this model
            raise Cancelled()
        return FinetuneResult(
            model_dir=model_dir, report=report, validation_texts=tuple(validation_texts), train_size=len(train_set),
            steps=output.global_step, seconds=seconds, samples_per_second=float(output.metrics["train_samples_per_second"]),
            config=config, base_label=self.base.spec.label, notes=dataset.notes, data_name=dataset.name,
            data_fingerprint=dataset.fingerprint, began_at=self.began_at,
            load_seconds=max(0.0, training_began - self.began_at),
            evaluation_seconds=time.monotonic() - evaluation_began,
            validation_labels=tuple(int(label) for label in validation_labels),
        )

    def _save(self, trainer: Trainer, tokenizer, report: EvaluationReport) -> Path:
        """save_pretrained output (weights, config with label names, tokenizer) plus metrics.json."""
        model_dir = self.model_dir
        trainer.save_model(str(model_dir))  # only the main process writes under accelerate launch
        if trainer.is_world_process_zero():
            (model_dir / "training_args.bin").unlink(missing_ok=True)  # a pickle: nothing a user should have to load
            tokenizer.save_pretrained(str(model_dir))
            summary = {"accuracy": report.accuracy, "macro_f1": report.macro_f1, "validation_rows": report.size,
                       "per_class": [asdict(score) for score in report.per_class], "config": asdict(self.config),
                       "base_model": self.base.spec.label}
            (model_dir / "finetune_metrics.json").write_text(json.dumps(summary, indent=2))
        return model_dir
