"""What each layer knows: one PCA for all layers, cosine similarity, and linear probes per layer."""
import numpy as np
import pytest

from albert_viz.capture import capture
from albert_viz.layers import ProbeCancelled, layer_features, probe_layers, project_layers


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


def test_a_stopped_probe_run_ends_with_a_message_and_no_result(tiny_model):
    from albert_viz.finetune.data import LabelledDataset
    from albert_viz.layers import ProbeRun

    texts, labels = synthetic_presence_set(40)
    dataset = LabelledDataset(tuple(texts), tuple(str(label) for label in labels), ("0", "1"), "text", "label")
    run = ProbeRun(tiny_model, dataset, batch_size=10)
    run.cancelled.set()  # what the page's Stop button does
    run.start()._thread.join(timeout=60)
    assert run.finished and run.result is None and run.error == "Probing stopped."
