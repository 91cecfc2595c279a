"""Deletion curves: they start at the model's own probability, the random floor is reproducible, ties are stable."""
import numpy as np
import pytest
import torch
from transformers import AlbertForPreTraining, AlbertForSequenceClassification

from albert_viz.analysis import faithfulness as faith
from albert_viz.analysis.attribution import CLASSIFIER, MASKED_WORD
from test_attribution import wide_random_albert  # a random ALBERT whose outputs move with the words

SENTENCE = "the movie was really funny and the actor was great"


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    return wide_random_albert(tmp_path_factory.mktemp("faith_classifier"), AlbertForSequenceClassification, num_labels=2)


@pytest.fixture(scope="module")
def mlm(tmp_path_factory):
    return wide_random_albert(tmp_path_factory.mktemp("faith_mlm"), AlbertForPreTraining)


def own_probability(loaded, text, kind, position=None):
    encoded = loaded.tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        if kind == CLASSIFIER:
            return float(torch.softmax(loaded.model(**encoded).logits[0], -1).max())
        ids = encoded["input_ids"].clone()
        ids[0, position] = loaded.tokenizer.mask_token_id
        return float(torch.softmax(loaded.model(input_ids=ids).prediction_logits[0, position], -1).max())


@pytest.mark.parametrize("kind", [CLASSIFIER, MASKED_WORD])
def test_every_deletion_curve_starts_at_the_models_own_probability(kind, classifier, mlm):
    loaded = classifier if kind == CLASSIFIER else mlm
    position = 5 if kind == MASKED_WORD else None
    result = faith.faithfulness(loaded, SENTENCE, kind=kind, mask_position=position, n_steps=8)
    expected = own_probability(loaded, SENTENCE, kind, position)
    assert set(result.curves) == set(faith.METHODS)
    assert result.probability == pytest.approx(expected, abs=1e-5)
    for curve in result.curves.values():
        assert curve.probabilities[0] == pytest.approx(expected, abs=1e-5)
        assert len(curve.probabilities) == len(curve.order) + 1 and curve.shares[-1] == 1


def test_the_random_floor_is_reproducible_by_seed(classifier):
    first = faith.faithfulness(classifier, SENTENCE, n_steps=8, seed=3).curves["random"]
    again = faith.faithfulness(classifier, SENTENCE, n_steps=8, seed=3).curves["random"]
    other = faith.faithfulness(classifier, SENTENCE, n_steps=8, seed=4).curves["random"]
    assert np.array_equal(first.order, again.order) and np.array_equal(first.probabilities, again.probabilities)
    assert not np.array_equal(first.order, other.order)


def test_ties_keep_sentence_order_and_are_counted():
    scores = np.array([0.0, 0.5, 0.2, 0.5, 0.2, 0.0])
    explained = np.array([False, True, True, True, True, False])
    order, tied = faith.deletion_order(scores, explained)
    assert order.tolist() == [1, 3, 2, 4] and tied == 4


def test_the_numbers_follow_their_definitions(classifier):
    curve = faith.faithfulness(classifier, SENTENCE, n_steps=8).curves["integrated_gradients"]
    start, words = curve.probabilities[0], len(curve.order)
    bins = [min(words, max(1, round(share * words))) for share in faith.ERASER_BINS]
    assert curve.aopc == pytest.approx(np.mean(start - curve.probabilities[1:]))
    assert curve.comprehensiveness == pytest.approx(np.mean([start - curve.probabilities[k] for k in bins]))


def test_a_summary_over_rows_averages_every_method(classifier):
    summary = faith.faithfulness_over(classifier, [SENTENCE, "i love programming", "the cat was tired"], n_steps=8)
    assert summary.rows == 3 and summary.best() != "random"
    assert all(curve.shape == faith.GRID.shape for curve in summary.curves.values())


AOPC = {"last_layer": 0.10, "rollout": 0.20, "norm_weighted": 0.05, "integrated_gradients": 0.02,
        "gradient_x_input": 0.0, "random": 0.03}


def test_the_verdict_names_the_explanation_whose_deletions_lowered_the_answer_most():
    said = faith.verdict(AOPC, rows=20)
    assert said.startswith("For this model and these 20 sentences, attention rollout predicted the model best")
    assert "AOPC 0.200, against 0.030 for a random order" in said


def test_the_verdict_names_tied_explanations_in_the_fixed_order_and_says_so():
    said = faith.verdict({**AOPC, "integrated_gradients": 0.20})
    assert "attention rollout and Integrated Gradients predicted the model equally well" in said
    assert "fixed order" in said and said == faith.verdict(dict(reversed(list({**AOPC, "integrated_gradients": 0.20}.items()))))


def test_the_verdict_says_when_no_explanation_beat_the_random_order():
    said = faith.verdict({**AOPC, "random": 0.5})
    assert "no explanation beat a random order" in said and "best AOPC 0.200, attention rollout" in said
