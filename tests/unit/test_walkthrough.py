"""The worked examples: the toy's numbers to the last digit, and the hand recomputation equals the real model."""
from __future__ import annotations

import math

import numpy as np
import pytest

from albert_viz.analysis import walkthrough
from albert_viz.analysis.walkthrough import WalkthroughError
from albert_viz.model.capture import capture

SENTENCE, PAIR = "I love programming", "The animal didn't cross the street because it was too tired"


def run_preset(preset: walkthrough.ToyPreset) -> walkthrough.ToyAttention:
    return walkthrough.toy_attention(preset.x, preset.w_q, preset.w_k, preset.w_v)


def test_article_example_gives_sqrt5_scores_uniform_weights_and_ones():
    result = run_preset(walkthrough.article_preset())
    assert result.tokens == ("[CLS]", "i", "love", "programming", "[SEP]")
    assert np.array_equal(result.q, np.ones((5, 5)))
    assert np.allclose(result.scaled, math.sqrt(5), rtol=0, atol=1e-15)
    assert f"{result.scaled[2, 3]:.10f}" == "2.2360679775"
    assert np.allclose(result.weights, 0.2, rtol=0, atol=1e-15)
    assert np.allclose(result.output, 1.0, rtol=0, atol=1e-15)


def test_editing_one_key_changes_only_the_scores_that_use_it():
    preset = walkthrough.article_preset()
    w_k = preset.w_k.copy()
    w_k[2] = 0.0  # token 'love' now has key [0,0,0,0,0]
    result = walkthrough.toy_attention(preset.x, preset.w_q, w_k, preset.w_v)
    e = math.exp(math.sqrt(5))
    expected_row = np.array([e, e, 1.0, e, e]) / (4 * e + 1)  # exp(√5) for four keys, exp(0) for 'love'
    assert np.allclose(result.weights, expected_row, rtol=0, atol=1e-15)
    assert result.weights[0, 2] == pytest.approx(0.0260241, abs=1e-7)  # 1 / (4·e^√5 + 1)
    assert np.allclose(result.output, 1.0)  # V is still all ones: weights cannot change the output


def test_previous_token_and_sep_presets_put_most_weight_where_their_names_say():
    previous = run_preset(walkthrough.previous_token_preset())
    assert list(previous.weights.argmax(axis=1)) == [0, 0, 1, 2, 3]
    sep = run_preset(walkthrough.sep_preset())
    assert list(sep.weights.argmax(axis=1)) == [4] * 5


def test_random_preset_is_reproducible_and_rows_sum_to_one():
    first, second = walkthrough.random_preset(7), walkthrough.random_preset(7)
    assert np.array_equal(first.w_q, second.w_q)
    assert np.allclose(run_preset(first).weights.sum(axis=1), 1.0)


def test_article_corrections_quote_the_computed_numbers():
    text = " ".join(walkthrough.article_corrections(run_preset(walkthrough.article_preset())))
    assert "2.2360679775" in text and "1/5 = 0.2" in text and "sixth" in text


def edited_article(matrix: str, row: int, column: int, value: float) -> walkthrough.ToyAttention:
    """The article's matrices with one cell changed, as a student edits the table on the page."""
    preset = walkthrough.article_preset()
    matrices = {name: getattr(preset, name).copy() for name in ("x", "w_q", "w_k", "w_v")}
    matrices[matrix][row, column] = value
    return walkthrough.toy_attention(matrices["x"], matrices["w_q"], matrices["w_k"], matrices["w_v"])


def test_after_editing_w_k_the_corrections_no_longer_claim_uniform_weights():
    result = edited_article("w_k", 0, 0, 3.0)  # W_K[d1, c1] = 3: k_1 = [3, 1, 1, 1, 1]
    text = " ".join(walkthrough.article_corrections(result))
    assert "every weight is exactly" not in text
    assert "every score q_i · k_j" not in text and "softmax of 5 equal numbers" not in text
    assert ", ".join(f"{w:.4f}" for w in result.weights[0]) in text  # the row on screen, not the article's


def test_after_editing_the_corrections_say_which_matrices_they_are_about():
    lines = walkthrough.article_corrections(edited_article("w_k", 0, 0, 3.0))
    assert "edited" in lines[0] and "1/5 = 0.2" in lines[0]
    assert "edited" not in " ".join(walkthrough.article_corrections(run_preset(walkthrough.article_preset())))


def test_with_distinct_values_the_corrections_no_longer_say_the_output_is_all_ones():
    text = " ".join(walkthrough.article_corrections(edited_article("w_v", 0, 0, 4.0)))
    assert "All v_j are equal" not in text and "whatever the weights are" not in text


@pytest.mark.parametrize("in_order_ab, in_order_ba, expected, absent", [
    (0.304, 0.063, "prefers the true order, but is unsure", "does not tell"),  # the numbers
    (0.9, 0.1, "gets both orders right", "wrong"),
    (0.7994, 0.9985, "gets this pair wrong", "right"),
    (0.8, 0.6, "call both orders in order", "wrong"),
    (0.500, 0.505, "does not tell the two orders apart", "prefers"),
])
def test_sop_verdict_reads_the_two_numbers_correctly(in_order_ab, in_order_ba, expected, absent):
    verdict = walkthrough.sop_verdict(in_order_ab, in_order_ba)
    assert expected in verdict and absent not in verdict
    assert f"{in_order_ab:.1%}" in verdict and f"{in_order_ba:.1%}" in verdict


def mask_prediction(original_rank: int) -> walkthrough.MaskPrediction:
    """A prediction for the hidden word 'love' that the model ranks at original_rank."""
    candidates = ("love", "hate", "recommend")
    order = list(candidates[1:original_rank]) + ["love"] + [c for c in candidates[original_rank:] if c != "love"]
    probabilities = np.array([0.5, 0.3, 0.2])
    return walkthrough.MaskPrediction(2, "love", tuple(order), probabilities, float(probabilities[original_rank - 1]),
                                      original_rank, probabilities)


def test_mask_verdict_says_right_when_the_first_guess_is_the_hidden_word():
    assert walkthrough.mask_verdict(mask_prediction(1)).startswith("Right")


def test_mask_verdict_says_wrong_with_the_first_guess_and_the_rank():
    verdict = walkthrough.mask_verdict(mask_prediction(3))
    assert verdict.startswith("Wrong") and "“hate”" in verdict and "guess number 3" in verdict


@pytest.mark.parametrize("matrices, message", [
    ((np.eye(5), np.ones((4, 5)), np.ones((5, 5)), np.ones((5, 5))), "one row per column of X"),
    ((np.eye(5), np.ones((5, 3)), np.ones((5, 5)), np.ones((5, 5))), "same number of columns"),
    ((np.full((5, 5), np.nan), np.ones((5, 5)), np.ones((5, 5)), np.ones((5, 5))), "every cell"),
])
def test_toy_rejects_bad_matrices_with_a_message(matrices, message):
    with pytest.raises(WalkthroughError, match=message):
        walkthrough.toy_attention(*matrices)


def test_layer_location_follows_transformers_group_formula(grouped_model):
    # 4 outer steps over 2 groups of 2 inner layers: groups 0,0,1,1 each running inner layers 0,1
    locations = [walkthrough.layer_location(grouped_model.config, layer) for layer in range(8)]
    assert locations == [(0, 0), (0, 1), (0, 0), (0, 1), (1, 0), (1, 1), (1, 0), (1, 1)]


@pytest.mark.parametrize("fixture", ["tiny_model", "grouped_model"])
@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_head_recomputation_matches_model_attention_for_every_layer_and_head(fixture, precision, request):
    loaded = request.getfixturevalue(fixture)
    result = capture(loaded, SENTENCE, PAIR)
    for layer in range(result.num_layers):
        for head in range(result.num_heads):
            walk = walkthrough.head_walkthrough(loaded, result, layer, head, precision)
            assert walk.max_abs_diff < 1e-5, (layer, head)


@pytest.mark.parametrize("fixture", ["tiny_model", "grouped_model"])
def test_layer_recomputation_matches_the_next_hidden_state(fixture, request):
    loaded = request.getfixturevalue(fixture)
    result = capture(loaded, SENTENCE)
    for layer in range(result.num_layers):
        walk = walkthrough.layer_walkthrough(loaded, result, layer)
        assert walk.max_abs_diff < 1e-5 and walk.max_attention_diff < 1e-5, layer


def test_layer_zero_input_is_the_projected_embedding(tiny_model):
    walk = walkthrough.embedding_walkthrough(tiny_model, capture(tiny_model, SENTENCE))
    assert walk.embedding_output.shape[1] == tiny_model.config.embedding_size
    assert walk.max_abs_diff < 1e-5


def test_qkv_csv_holds_every_token_and_dimension(tiny_model):
    walk = walkthrough.head_walkthrough(tiny_model, capture(tiny_model, SENTENCE), 0, 1)
    lines = walkthrough.qkv_csv(walk, "K").strip().splitlines()
    assert len(lines) == 1 + len(walk.tokens)
    assert len(lines[0].split(",")) == 2 + walk.d_k
    assert float(lines[1].split(",")[2]) == walk.k[0, 0]


def test_masked_word_predictions_are_a_probability_distribution(tiny_model):
    result = walkthrough.masked_word_predictions(tiny_model, SENTENCE, "programming", top_k=5)
    assert result.tokens == ("[CLS]", "i", "love", "[MASK]", "[SEP]")
    (prediction,) = result.predictions
    assert prediction.original == "programming" and prediction.original_rank >= 1
    assert prediction.distribution.sum() == pytest.approx(1.0) and (prediction.distribution >= 0).all()
    assert len(prediction.candidates) == 5 and np.all(np.diff(prediction.probabilities) <= 0)


def test_a_typed_mask_is_predicted_without_choosing_a_word(tiny_model):
    result = walkthrough.masked_word_predictions(tiny_model, "I love [MASK]")
    assert [p.position for p in result.predictions] == [3] and result.predictions[0].original is None


@pytest.mark.parametrize("text, word, message", [
    ("", "love", "empty"),
    ("I love programming", "", "Choose a word"),
    ("I love programming", "cat", "not in the sentence"),
])
def test_masking_mistakes_get_a_message(tiny_model, text, word, message):
    with pytest.raises(WalkthroughError, match=message):
        walkthrough.masked_word_predictions(tiny_model, text, word)


def test_sentence_order_gives_two_distributions(tiny_model):
    result = walkthrough.sentence_order(tiny_model, "I love programming.", "I write code every day.")
    for probabilities in (result.given_order, result.swapped_order):
        assert probabilities.shape == (2,) and probabilities.sum() == pytest.approx(1.0)
    assert not np.allclose(result.given_order, result.swapped_order, atol=0, rtol=0)


def test_models_without_pretraining_heads_say_so(tiny_model):
    from dataclasses import replace
    from transformers import AlbertModel
    bare = replace(tiny_model, model=AlbertModel(tiny_model.config).eval())
    with pytest.raises(WalkthroughError, match="no masked-language-model"):
        walkthrough.masked_word_predictions(bare, SENTENCE, "love")
    with pytest.raises(WalkthroughError, match="no sentence-order"):
        walkthrough.sentence_order(bare, "a", "b")


def test_pretraining_forward_passes_wait_for_the_model_lock(tiny_model):
    # A capture holds the lock while its LayerNorm hooks are on the shared model; an MLM pass must not run then.
    import threading
    finished = threading.Event()
    worker = threading.Thread(target=lambda: (walkthrough.masked_word_predictions(tiny_model, SENTENCE, "love"),
                                              finished.set()))
    with tiny_model.lock:
        worker.start()
        assert not finished.wait(0.3)
    worker.join(10)
    assert finished.is_set()


def test_one_score_term_by_term_adds_up_to_the_score(tiny_model):
    walk = walkthrough.head_walkthrough(tiny_model, capture(tiny_model, SENTENCE), 1, 2, "float64")
    assert walk.score_terms(3, 1).shape == (walk.d_k,)
    assert walk.score_terms(3, 1).sum() == pytest.approx(walk.scores[3, 1], abs=1e-12)
