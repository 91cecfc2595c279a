"""What each layer knows: one PCA for all layers, cosine similarity, and linear probes per layer."""
import numpy as np
import pytest

from albert_viz.finetune.data import LabelledDataset
from albert_viz.finetune.job import split_indices
from albert_viz.model.capture import capture
from albert_viz.analysis.layers import (
    ProbeCancelled, ProbeComparison, ProbeResult, ProbeRun, describe_probes, layer_features, probe_layers,
    project_layers, readable_layer, validation_rows_held_out,
)


def test_every_layer_is_projected_with_the_same_pca(tiny_model):
    captured = capture(tiny_model, "the cat loved the movie because it was funny")
    projection = project_layers(captured)
    assert projection.points.shape == (captured.num_layers + 1, captured.num_tokens, 2)
    for layer, states in enumerate(captured.hidden_states.astype(np.float64)):
        np.testing.assert_allclose(projection.points[layer], (states - projection.mean) @ projection.components.T,
                                   atol=1e-6)


def test_cosine_similarity_of_a_token_with_itself_is_one(tiny_model):
    projection = project_layers(capture(tiny_model, "the cat is tired"))
    np.testing.assert_allclose(np.diagonal(projection.cosine, axis1=1, axis2=2), 1.0, atol=1e-6)


def synthetic_presence_set(rows: int = 160):
    """Label 1 when the sentence contains 'cat', 0 otherwise; everything else drawn from the same words."""
    rng = np.random.default_rng(0)
    words = "the a movie film dog story was is very good bad and but".split()
    texts, labels = [], []
    for row in range(rows):
        sentence = list(rng.choice(words, size=6))
        if row % 2:
            sentence[rng.integers(0, 6)] = "cat"
        texts.append(" ".join(sentence))
        labels.append(row % 2)
    return texts, np.array(labels)


def test_a_probe_reads_a_tokens_presence_above_ninety_percent_at_some_layer(tiny_model):
    texts, labels = synthetic_presence_set()
    features = layer_features(tiny_model, texts, batch_size=40)
    order = np.random.default_rng(1).permutation(len(texts))
    result = probe_layers(features, labels, order[:120], order[120:])
    assert result.cls_accuracy.shape == (tiny_model.config.num_hidden_layers + 1,)
    assert max(result.mean_accuracy.max(), result.cls_accuracy.max()) > 0.9
    assert result.majority_accuracy <= 0.65


def test_features_come_one_forward_pass_per_batch_with_progress(tiny_model):
    texts, _ = synthetic_presence_set(50)
    calls, progress = [], []
    handle = tiny_model.encoder.register_forward_hook(lambda *args: calls.append(1))
    try:
        features = layer_features(tiny_model, texts, batch_size=20, on_batch=lambda done, total: progress.append(done))
    finally:
        handle.remove()
    assert len(calls) == 3 and progress == [20, 40, 50]
    assert features.cls.shape[:2] == (50, tiny_model.config.num_hidden_layers + 1)


def test_a_cancelled_probe_stops_before_the_next_batch(tiny_model):
    texts, _ = synthetic_presence_set(40)
    with pytest.raises(ProbeCancelled):
        layer_features(tiny_model, texts, batch_size=10, cancelled=lambda: True)


def presence_dataset(rows: int = 40) -> LabelledDataset:
    texts, labels = synthetic_presence_set(rows)
    return LabelledDataset(tuple(texts), tuple(str(label) for label in labels), ("0", "1"), "text", "label")


def test_a_stopped_probe_run_ends_with_a_message_and_no_result(tiny_model):
    run = ProbeRun({"model": tiny_model}, presence_dataset(), batch_size=10)
    run.cancelled.set()  # what the page's Stop button does
    run.start()._thread.join(timeout=60)
    assert run.finished and run.result is None and run.error == "Probing stopped."


def test_two_models_are_probed_on_the_same_rows_the_fine_tuning_job_would_hold_out(tiny_model, grouped_model):
    dataset = presence_dataset(60)
    run = ProbeRun({"base model": tiny_model, "fine-tuned model": grouped_model}, dataset,
                   validation_fraction=0.25, seed=7, batch_size=20).start()
    run._thread.join(timeout=120)
    assert run.error is None and run.result.names == ("base model", "fine-tuned model")
    base, other = run.result.results
    train, validation = split_indices(dataset, 0.25, 7)  # the split a job with these settings trains on
    for result in (base, other):
        np.testing.assert_array_equal(result.train, train)
        np.testing.assert_array_equal(result.validation, validation)
    assert len(base.cls_accuracy) == tiny_model.config.num_hidden_layers + 1  # each model's own depth


def test_the_page_knows_when_the_probes_score_on_rows_the_job_held_out():
    dataset = presence_dataset(60)
    _, held_out = split_indices(dataset, 0.2, 13)  # what a job with these settings never trains on
    job_held_out = [dataset.texts[row] for row in held_out]
    assert validation_rows_held_out(dataset, 0.2, 13, job_held_out)
    assert not validation_rows_held_out(presence_dataset(80), 0.2, 13, job_held_out)  # another file


def known_result(cls, mean, majority=0.5) -> ProbeResult:
    return ProbeResult(np.array(cls), np.array(mean), majority, np.arange(8), np.arange(8, 10))


def test_the_label_is_readable_where_accuracy_first_nears_its_best():
    result = known_result([0.5, 0.6, 0.92, 0.95], [0.5, 0.55, 0.7, 0.9])
    assert readable_layer(result) == 2  # 0.92 >= 0.5 + 0.9 * (0.95 - 0.5)
    assert readable_layer(known_result([0.5, 0.52, 0.5], [0.5, 0.5, 0.53])) is None  # never above the baseline


def test_one_model_s_reading_starts_with_the_label_not_with_the_word_model():
    text = describe_probes(ProbeComparison(("model",), (known_result([0.5, 0.6, 0.92, 0.95], [0.5, 0.55, 0.7, 0.9]),)))
    assert text.startswith("The label becomes readable after layer 1, where the probe on [CLS] gets 92% of 2 rows")
    assert "Model:" not in text


def test_probe_accuracies_carry_their_rows_and_wilson_interval():
    result = ProbeResult(np.array([0.5, 1.0]), np.array([0.5, 0.75]), 0.5, np.arange(20), np.arange(20, 28))
    assert result.rows == 8
    low, high = result.interval(result.cls_accuracy)
    np.testing.assert_allclose(low, [0.2152, 0.6756], atol=1e-3)  # Wilson 95%: 4 of 8, and 8 of 8
    np.testing.assert_allclose(high, [0.7848, 1.0], atol=1e-3)


def test_the_reading_names_where_fine_tuning_moved_the_label_and_the_last_cls_accuracy():
    base = known_result([0.5, 0.6, 0.92, 0.95], [0.5, 0.55, 0.7, 0.9])
    tuned = known_result([0.5, 0.97, 1.0, 1.0], [0.5, 0.9, 0.95, 0.95])
    text = describe_probes(ProbeComparison(("base model", "fine-tuned model"), (base, tuned)))
    # depth 2 is hidden_states[2]: what layer 1 hands on (layers count from 0, the embeddings come before them)
    assert ("In the base model, the label becomes readable after layer 1, where the probe on [CLS] gets 92% of 2 "
            "rows (95% interval 34%–100%) right, against 50%") in text
    assert "the best is 95% after layer 2" in text
    assert "In the fine-tuned model, the label becomes readable after layer 0, where the probe on [CLS] gets 97%" in text
    assert "moved earlier, from after layer 1 to after layer 0" in text
    assert "went from 95% to 100%" in text


def test_a_label_readable_before_any_layer_is_said_to_be_in_the_embeddings():
    text = describe_probes(ProbeComparison(("model",), (known_result([0.95, 0.95, 0.95], [0.9, 0.9, 0.9]),)))
    assert "readable in the embeddings, where the probe" in text and "layer 0 (" not in text


def test_the_probe_chart_says_its_rows_and_draws_the_wilson_interval_when_they_are_few():
    from albert_viz.figures.explain_charts import probe_accuracy

    few = ProbeResult(np.array([0.5, 1.0]), np.array([0.5, 0.75]), 0.5, np.arange(20), np.arange(20, 28))
    figure = probe_accuracy(ProbeComparison(("model",), (few,)))
    assert "scored on 8 validation rows" in figure.layout.title.text
    cls = figure.data[0]
    assert cls.error_y.visible
    np.testing.assert_allclose(np.asarray(cls.y) - np.asarray(cls.error_y.arrayminus), few.interval(few.cls_accuracy)[0])
    many = ProbeResult(np.array([0.5, 1.0]), np.array([0.5, 0.75]), 0.5, np.arange(400), np.arange(400, 600))
    assert not probe_accuracy(ProbeComparison(("model",), (many,))).data[0].error_y.visible
