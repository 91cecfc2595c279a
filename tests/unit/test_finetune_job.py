"""A fine-tuning job on a tiny random ALBERT: it reports progress, cancels, leaves the shared model alone, exports."""
from __future__ import annotations

import errno
import json
import threading
import time
from dataclasses import replace

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

from albert_viz.__main__ import main as cli_main
from albert_viz.finetune import job as job_module
from albert_viz.finetune.data import load_csv
from albert_viz.finetune.export import unzip_model, zip_model
from albert_viz.finetune.job import (
    CANCELLED, DONE, FAILED, FinetuneConfig, FinetuneJob, JobError, JobQueue, Progress, ProgressSnapshot, QUEUED,
)
from albert_viz.analysis.compare import side_by_side
from albert_viz.finetune.predict import classify
from albert_viz.model.capture import capture
from albert_viz.model.loading import ModelSpec, load_model

WORDS = {"pos": "good great best loved funny", "neg": "bad worst boring hated never"}
QUICK = FinetuneConfig(epochs=1, batch_size=4, max_length=16, max_steps=3, evaluations=2)


def labelled_csv(rows_per_class: int = 12) -> bytes:
    lines = ["text,label"]
    for label, words in WORDS.items():
        vocabulary = words.split()
        lines += [f"{vocabulary[i % 5]} movie {vocabulary[(i + 2) % 5]},{label}" for i in range(rows_per_class)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def dataset():
    return load_csv(labelled_csv())


@pytest.fixture(scope="module")
def finished(tiny_model, dataset):
    """One short job shared by the tests that only read its result."""
    job = FinetuneJob(tiny_model, dataset, QUICK)
    job.run()
    return job


def test_job_reports_progress_and_results(finished):
    snapshot = finished.snapshot()
    assert snapshot.state == DONE, snapshot.error
    assert snapshot.step == snapshot.total_steps == 3
    assert snapshot.losses and all(np.isfinite(loss) for _, loss in snapshot.losses)
    assert snapshot.evaluations, "validation accuracy is measured while training"
    report = finished.result.report
    assert report.label_names == ("neg", "pos")
    assert report.confusion.sum() == report.size == len(finished.result.validation_texts)
    assert 0.0 <= report.accuracy <= 1.0


def test_progress_says_how_many_rows_each_validation_accuracy_is_of(finished):
    assert finished.snapshot().validation_rows == finished.result.report.size > 0


def test_a_progress_record_from_before_the_row_count_still_loads():
    old = json.dumps({"state": DONE, "step": 3, "total_steps": 3, "evaluations": [[3, 0.5, 0.7]]})
    snapshot = ProgressSnapshot.from_json(old)
    assert snapshot.validation_rows == 0 and snapshot.evaluations == ((3, 0.5, 0.7),)


def test_report_matches_the_saved_models_predictions(finished, dataset):
    model = AutoModelForSequenceClassification.from_pretrained(finished.result.model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(finished.result.model_dir)
    texts = list(finished.result.validation_texts)
    with torch.no_grad():
        logits = model(**tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=16)).logits
    predicted = [model.config.id2label[i] for i in logits.argmax(-1).tolist()]
    truth = dict(zip(dataset.texts, dataset.labels))
    report = finished.result.report
    assert report.accuracy == pytest.approx(np.mean([p == truth[t] for p, t in zip(predicted, texts)]))
    assert all(predicted[texts.index(row.text)] == row.predicted_label for row in report.misclassified)


@pytest.mark.parametrize("trainer_class, keeps_order", [(job_module.InOrderTrainer, True), (job_module.Trainer, False)])
def test_evaluation_predictions_come_back_in_row_order(tiny_model, tmp_path, trainer_class, keeps_order):
    texts = ["good " * (1 + (i * 7) % 13) for i in range(40)]  # lengths vary, so length grouping would reorder
    labels = [i % 2 for i in range(40)]
    rows = job_module.tokenize_examples(tiny_model.tokenizer, texts, labels, max_length=32)
    trainer = trainer_class(model=job_module.classifier_copy(tiny_model, ("a", "b"), seed=0),
                            args=job_module.training_arguments(QUICK, tmp_path, torch.device("cpu"), 40),
                            eval_dataset=rows, processing_class=tiny_model.tokenizer,
                            data_collator=DataCollatorWithPadding(tiny_model.tokenizer))
    assert (list(trainer.predict(rows).label_ids) == labels) == keeps_order


def test_validation_split_is_stratified(tiny_model, dataset):
    train, validation = job_module.split_indices(dataset, 0.25, seed=1)
    labels = np.asarray(dataset.label_ids)
    assert len(validation) == 6 and sorted(np.bincount(labels[validation])) == [3, 3]
    assert not set(train) & set(validation)


def test_shared_base_model_weights_are_unchanged(tiny_model, finished):
    before = {name: tensor.clone() for name, tensor in tiny_model.model.state_dict().items()}
    job = FinetuneJob(tiny_model, finished.dataset, FinetuneConfig(epochs=1, batch_size=4, max_length=16,
                                                                   max_steps=2, learning_rate=0.1))
    job.run()
    assert job.snapshot().state == DONE
    after = tiny_model.model.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert not tiny_model.model.training


def test_cancel_stops_training_quickly(tiny_model, dataset):
    job = FinetuneJob(tiny_model, dataset, FinetuneConfig(epochs=20, batch_size=2, max_length=16, evaluations=1))
    job.start()
    deadline = time.monotonic() + 30
    while job.snapshot().step < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    job.cancel()
    cancelled_at = time.monotonic()
    snapshot = job.wait(timeout=10)
    assert snapshot.state == CANCELLED
    assert time.monotonic() - cancelled_at < 5
    assert snapshot.step < snapshot.total_steps and job.result is None


@pytest.mark.parametrize("busy_with", ["evaluate", "save_model"])
def test_a_cancel_while_measuring_or_saving_stops_the_job_and_keeps_no_model(tiny_model, dataset, tmp_path,
                                                                            monkeypatch, busy_with):
    job = FinetuneJob(tiny_model, dataset, QUICK, model_dir=tmp_path / "out")
    busy = getattr(job_module.Trainer, busy_with)

    def cancel_then_carry_on(self, *args, **kwargs):
        job.cancel()  # the user presses Cancel while validation accuracy is measured / the model is written
        return busy(self, *args, **kwargs)

    monkeypatch.setattr(job_module.Trainer, busy_with, cancel_then_carry_on)
    job.run()
    assert job.snapshot().state == CANCELLED and job.result is None
    assert not (tmp_path / "out").exists() and not job.work_dir.exists()


def test_queue_lets_one_job_train_at_a_time_and_shows_the_position():
    queue, cancelled = JobQueue(slots=1, max_waiting=5), threading.Event()
    first_in, release = threading.Event(), threading.Event()
    second = Progress()

    def hold_slot():
        with queue.slot("first", cancelled, Progress()):
            first_in.set()
            release.wait(5)

    threading.Thread(target=hold_slot).start()
    first_in.wait(5)
    waiter = threading.Thread(target=lambda: queue.slot("second", cancelled, second).__enter__())
    waiter.start()
    time.sleep(0.5)
    assert second.snapshot().queue_position == 1 and second.snapshot().state == QUEUED
    release.set()
    waiter.join(5)
    assert second.snapshot().queue_position == 0


def test_bad_settings_are_refused_before_anything_runs(tiny_model, dataset):
    with pytest.raises(JobError, match="maximum length"):
        FinetuneJob(tiny_model, dataset, FinetuneConfig(max_length=100_000))
    with pytest.raises(JobError, match="Epochs"):
        FinetuneJob(tiny_model, dataset, FinetuneConfig(epochs=0))


def test_zip_reloads_with_identical_predictions(finished, tmp_path):
    folder = unzip_model(zip_model(finished.result.model_dir), tmp_path)
    texts = ["good movie", "boring movie never"]
    predictions = []
    for source in (finished.result.model_dir, folder):
        model = AutoModelForSequenceClassification.from_pretrained(source).eval()
        tokenizer = AutoTokenizer.from_pretrained(source)
        with torch.no_grad():
            predictions.append(model(**tokenizer(texts, return_tensors="pt", padding=True)).logits)
    assert torch.equal(predictions[0], predictions[1])
    assert model.config.id2label == {0: "neg", 1: "pos"}


def test_finetuned_folder_is_a_model_source_for_the_app(finished, tiny_model):
    tuned = load_model(ModelSpec(source="local", location=str(finished.result.model_dir), device="cpu"))
    assert type(tuned.model).__name__ == "AlbertForSequenceClassification"
    prediction = classify(tuned, "good movie")
    assert prediction.label in ("neg", "pos") and sum(prediction.probabilities.values()) == pytest.approx(1.0)
    compared = side_by_side(capture(tiny_model, "good movie"), capture(tuned, "good movie"))  # the before/after view
    assert compared.change.change.shape == (3, 4) and np.all(compared.change.change >= 0)
    assert len(compared.change.top_heads(3)) == 3


def test_cli_single_process_trains_and_saves(tiny_model, tmp_path, capsys, monkeypatch):
    from albert_viz.finetune import cli as finetune_cli
    from albert_viz.model import runtime

    monkeypatch.setattr(runtime, "usable_cores", lambda: 3)  # the web server's split would give the job 1
    threads = []
    real_runner = finetune_cli.make_runner
    spy = lambda **kw: threads.append(kw.get("threads")) or real_runner(**kw)  # what the runner was told
    monkeypatch.setattr(finetune_cli, "make_runner", spy)
    csv_path = tmp_path / "reviews.csv"
    csv_path.write_bytes(labelled_csv())
    out = tmp_path / "out"
    code = cli_main(["finetune", "--model", tiny_model.spec.location, "--csv", str(csv_path), "--text-col", "text",
                     "--label-col", "label", "--out", str(out), "--max-steps", "2", "--batch-size", "4",
                     "--max-length", "16", "--device", "cpu"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "accuracy=" in printed and (out / "config.json").exists() and (out / "tokenizer.json").exists()
    assert AutoModelForSequenceClassification.from_pretrained(out).config.num_labels == 2
    assert threads == [3]  # no web server beside the command line: its job trains on every core
    line = next(line for line in printed.splitlines() if line.startswith("total_s="))
    parts = dict(item.split("=") for item in line.split("(")[0].split())
    assert float(parts["total_s"]) == pytest.approx(sum(float(parts[name]) for name in (
        "waiting_s", "loading_s", "training_s", "evaluating_s")), abs=0.25)


def test_run_saved_to_its_own_folder_leaves_no_temporary_folder(tiny_model, dataset, tmp_path):
    job = FinetuneJob(tiny_model, dataset, replace(QUICK, evaluations=0), model_dir=tmp_path / "out")
    job.run()
    assert (tmp_path / "out" / "config.json").exists() and not job.work_dir.exists()


def test_cli_reports_a_bad_csv_without_a_traceback(tmp_path, capsys):
    csv_path = tmp_path / "bad.csv"
    csv_path.write_bytes(b"text,label\na,pos\nb,pos\n")
    code = cli_main(["finetune", "--model", "random", "--csv", str(csv_path), "--out", str(tmp_path / "o")])
    assert code == 2 and "at least two different labels" in capsys.readouterr().err


def test_training_error_ends_as_failed_with_a_message(tiny_model, dataset, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(job_module.Trainer, "train", explode)
    job = FinetuneJob(tiny_model, dataset, QUICK)
    job.run()
    assert job.snapshot().state == FAILED and "out of memory" in job.snapshot().error


def test_a_full_disk_while_saving_fails_with_a_clear_message_and_keeps_nothing(tiny_model, dataset, tmp_path,
                                                                                monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(job_module.Trainer, "save_model", disk_full)
    job = FinetuneJob(tiny_model, dataset, replace(QUICK, evaluations=0), model_dir=tmp_path / "out")
    job.run()
    snapshot = job.snapshot()
    assert snapshot.state == FAILED and "disk is full" in snapshot.error
    assert not (tmp_path / "out").exists() and not job.work_dir.exists()


@pytest.mark.parametrize("step, eta_s, expected", [
    (1, 7703.0, "estimating the time left…"),  # the first steps include warm-up: no number yet
    (10, 7703.0, "about 2 h 08 min of training left"),
    (10, 125.0, "about 2 min 05 s of training left"),
    (10, 42.4, "about 42 s of training left"),
])
def test_time_left_reads_as_a_clock_and_waits_for_the_first_steps(step, eta_s, expected):
    snapshot = job_module.ProgressSnapshot(state=job_module.RUNNING, step=step, total_steps=400, eta_s=eta_s)
    assert job_module.time_left(snapshot) == expected


def test_a_wilson_interval_matches_the_textbook_values():
    from albert_viz.finetune.metrics import wilson_interval

    low, high = wilson_interval(7, 8)  # 87.5% of 8 rows
    assert (round(low, 3), round(high, 3)) == (0.529, 0.978)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    low, high = wilson_interval(300, 400)  # many rows: close to the normal interval 0.75 ± 0.042
    assert abs(low - 0.705) < 0.003 and abs(high - 0.790) < 0.003


def test_an_accuracy_is_said_with_its_rows_and_an_interval_only_when_they_are_few():
    from albert_viz.finetune.metrics import accuracy_text, too_few_rows_note

    assert accuracy_text(0.875, 8) == "87.5% of 8 rows (95% interval 53%–98%)"
    assert accuracy_text(0.75, 400) == "75.0% of 400 rows"
    assert "only 8 validation rows" in too_few_rows_note(8) and too_few_rows_note(30) is None


def test_a_job_s_time_is_one_total_made_of_its_parts(tiny_model, dataset):
    submitted = time.time()
    job = FinetuneJob(tiny_model, dataset, replace(QUICK, evaluations=0), began_at=submitted + 0.0)
    result = job.run()
    parts = result.durations(submitted)
    assert parts.training == result.seconds and parts.loading > 0 and parts.evaluating > 0
    assert parts.total == pytest.approx(parts.waiting + parts.loading + parts.training + parts.evaluating)
    assert parts.describe().startswith(f"{job_module.format_duration(parts.total)} in all: waiting")
    assert result.data_fingerprint == dataset.fingerprint


def test_the_first_time_left_carries_its_uncertainty_until_it_settles():
    from albert_viz.finetune.job import RUNNING, ProgressSnapshot, eta_with_margin, time_left

    steady = [0.5] * 10
    early_eta, early_margin = eta_with_margin(steady, done=10, total=300)  # 3% of the run seen
    assert early_eta == pytest.approx(145.0) and early_margin == pytest.approx(0.3 * 145.0)
    said = time_left(ProgressSnapshot(state=RUNNING, step=10, total_steps=300, eta_s=early_eta,
                                      eta_margin_s=early_margin))
    assert said == "1 min 42 s to 3 min 08 s of training left (an early estimate)"
    late_eta, late_margin = eta_with_margin([0.5] * 150, done=150, total=300)  # steady, half-way: settled
    assert time_left(ProgressSnapshot(state=RUNNING, step=150, total_steps=300, eta_s=late_eta,
                                      eta_margin_s=late_margin)) == "about 1 min 15 s of training left"
    _, noisy_margin = eta_with_margin([0.1, 0.9] * 75, done=150, total=300)  # uneven steps stay uncertain longer
    assert noisy_margin > 0.1 * late_eta
