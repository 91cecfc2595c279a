"""A fine-tuning job on a tiny random ALBERT: it reports progress, cancels, leaves the shared model alone, exports."""
from __future__ import annotations

import errno
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
    CANCELLED, DONE, FAILED, FinetuneConfig, FinetuneJob, JobError, JobQueue, Progress, QUEUED,
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


def test_cli_single_process_trains_and_saves(tiny_model, tmp_path, capsys):
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
    (10, 7703.0, "about 2 h 08 min left"),
    (10, 125.0, "about 2 min 05 s left"),
    (10, 42.4, "about 42 s left"),
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
