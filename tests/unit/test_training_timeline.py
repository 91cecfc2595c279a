"""Watch it learn: a fine-tuning job records the promised steps, in bounded size, and shows the real model."""
import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification

from albert_viz.analysis.training_timeline import cls_rollout, head_changes
from albert_viz.finetune.data import load_csv
from albert_viz.finetune.job import DONE, FinetuneConfig, FinetuneJob, probe_rows
from albert_viz.finetune.timeline import MAX_PROBE_ROWS, MAX_PROBE_TOKENS, load_timeline, snapshot_steps

WORDS = {"pos": "good great best loved funny", "neg": "bad worst boring hated never"}


def labelled_csv(rows_per_class: int = 12) -> bytes:
    lines = ["text,label"]
    for label, words in WORDS.items():
        vocabulary = words.split()
        lines += [f"{vocabulary[i % 5]} movie {vocabulary[(i + 2) % 5]} and the story was {vocabulary[(i + 1) % 5]},"
                  f"{label}" for i in range(rows_per_class)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def finished(tiny_model):
    job = FinetuneJob(tiny_model, load_csv(labelled_csv()), FinetuneConfig(epochs=1, batch_size=4, max_length=16,
                                                                           max_steps=20, evaluations=0))
    job.run()
    assert job.snapshot().state == DONE, job.snapshot().error
    return job


def test_snapshot_steps_are_step_zero_and_ten_evenly_spaced():
    assert snapshot_steps(100) == (0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100)
    assert snapshot_steps(4) == (0, 1, 2, 3, 4)  # a short run records every step, none twice


def test_the_timeline_has_the_promised_steps_and_sizes(finished, tiny_model):
    timeline = load_timeline(finished.result.model_dir)
    assert timeline.steps.tolist() == list(snapshot_steps(20))
    frames, probes, layers, heads, queries, keys = timeline.attentions.shape
    assert (frames, layers, heads) == (11, tiny_model.config.num_hidden_layers, tiny_model.config.num_attention_heads)
    assert probes == MAX_PROBE_ROWS and queries == keys <= MAX_PROBE_TOKENS
    assert timeline.attentions.dtype == np.float16 and timeline.probabilities.shape == (11, probes, 2)
    assert sorted(set(timeline.labels.tolist())) == [0, 1]  # every class is watched
    full = 11 * MAX_PROBE_ROWS * 3 * 4 * MAX_PROBE_TOKENS ** 2 * 2  # the tiny model's bound, in bytes
    assert timeline.nbytes <= full + 1024
    rows = np.ones(len(timeline.tokens[0]))
    assert np.allclose(timeline.attention(5, 0).sum(axis=-1), rows[None, None], atol=1e-2)  # rows still sum to 1


def test_the_last_frame_is_the_saved_model(finished):
    timeline = load_timeline(finished.result.model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(finished.result.model_dir).eval()
    encoded = finished.base.tokenizer(list(timeline.texts), padding=True, return_tensors="pt")
    with torch.no_grad():
        saved = torch.softmax(model(**encoded).logits, dim=-1).numpy()
    assert np.allclose(timeline.probabilities[-1], saved, atol=1e-4)
    assert not np.allclose(timeline.probabilities[0], timeline.probabilities[-1], atol=1e-4)  # it did learn something


def test_heads_that_changed_are_ranked_and_step_zero_has_changed_none(finished):
    timeline = load_timeline(finished.result.model_dir)
    assert head_changes(timeline, 0).change.max() == 0
    ranked = head_changes(timeline, len(timeline.steps) - 1).ranked(3)
    assert ranked[0][2] >= ranked[1][2] >= ranked[2][2] > 0
    assert np.isclose(cls_rollout(timeline, 3, 1).sum(), 1, atol=1e-2)


def test_a_job_from_before_timelines_has_none(tmp_path):
    assert load_timeline(tmp_path) is None


def test_probe_rows_take_each_class_in_turn():
    assert probe_rows([1, 1, 1, 0, 0, 2]) == [3, 0, 5, 4]
