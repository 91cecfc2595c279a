"""Why this prediction: Integrated Gradients and gradient × input beside attention, on tiny random ALBERTs."""
import numpy as np
import pytest
import torch
from transformers import AlbertForPreTraining, AlbertForSequenceClassification

from albert_viz.analysis.attention_modes import ExplainError
from dataclasses import replace

from albert_viz.analysis.attribution import (CLASSIFIER, MASKED_WORD, explain_prediction, no_correlation_reason,
                                             rank_correlation, targets, top_guesses)
from albert_viz.model.loading import ModelSpec, load_model
from albert_viz.model.random_tiny import tiny_config, tiny_tokenizer

SENTENCE = "the movie was really funny and the actor was great"


def wide_random_albert(folder, model_class, **overrides):
    """A random tiny ALBERT whose initialiser is widened so its outputs move with the words (0.02 barely does)."""
    torch.manual_seed(0)
    model_class(tiny_config(initializer_range=0.5, **overrides)).save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    return load_model(ModelSpec("local", str(folder), "cpu"))


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory):
    return wide_random_albert(tmp_path_factory.mktemp("tiny_classifier"), AlbertForSequenceClassification, num_labels=2)


@pytest.fixture(scope="module")
def wide_pretraining_model(tmp_path_factory):
    return wide_random_albert(tmp_path_factory.mktemp("wide_mlm"), AlbertForPreTraining)


def test_integrated_gradients_completeness_gap_is_below_one_percent_for_a_classifier(tiny_classifier):
    result = explain_prediction(tiny_classifier, SENTENCE, kind=CLASSIFIER, n_steps=512)  # a wide random net bends
    assert abs(result.score - result.baseline_score) > 1e-3  # a gap relative to nothing would prove nothing
    assert result.relative_gap < 0.01


def test_integrated_gradients_completeness_gap_is_below_one_percent_for_a_masked_word(wide_pretraining_model):
    result = explain_prediction(wide_pretraining_model, SENTENCE, kind=MASKED_WORD, mask_position=5, n_steps=256)
    assert result.tokens[5] == "[MASK]"
    assert abs(result.score - result.baseline_score) > 1e-3
    assert result.relative_gap < 0.01


@pytest.fixture(scope="module")
def three_class_classifier(tmp_path_factory):
    return wide_random_albert(tmp_path_factory.mktemp("three_classes"), AlbertForSequenceClassification, num_labels=3)


def logits_of(loaded, text: str, baseline_id: int | None = None) -> torch.Tensor:
    """The classifier's logits on the text, or on its frame with every word replaced by baseline_id."""
    encoded = loaded.tokenizer(text, return_tensors="pt")
    if baseline_id is not None:
        special = torch.tensor(loaded.tokenizer.all_special_ids)
        encoded["input_ids"] = torch.where(torch.isin(encoded["input_ids"], special), encoded["input_ids"], baseline_id)
    with torch.no_grad():
        return loaded.model(**encoded).logits[0]


def test_the_classifier_explains_its_predicted_class_margin_over_the_other_classes(three_class_classifier):
    result = explain_prediction(three_class_classifier, SENTENCE, kind=CLASSIFIER, n_steps=8)
    logits = logits_of(three_class_classifier, SENTENCE)
    best = int(logits.argmax())
    assert result.target == three_class_classifier.config.id2label[best]
    log_odds = torch.log(logits.softmax(-1)[best] / (1 - logits.softmax(-1)[best]))  # log p / (1 − p)
    assert result.score == pytest.approx(float(log_odds), abs=1e-4)
    assert result.probability == pytest.approx(float(logits.softmax(-1)[best]), abs=1e-5)


@pytest.mark.parametrize("token", ["[PAD]", "[MASK]", "[UNK]"])
def test_the_baseline_is_the_chosen_neutral_token_in_every_word(three_class_classifier, token):
    result = explain_prediction(three_class_classifier, SENTENCE, kind=CLASSIFIER, n_steps=8, baseline_token=token)
    logits = logits_of(three_class_classifier, SENTENCE, three_class_classifier.tokenizer.convert_tokens_to_ids(token))
    best = int(logits_of(three_class_classifier, SENTENCE).argmax())
    others = torch.cat([logits[:best], logits[best + 1:]])
    assert result.baseline_token == token
    assert result.baseline_score == pytest.approx(float(logits[best] - torch.logsumexp(others, 0)), abs=1e-4)


def test_an_unknown_baseline_gets_a_clear_message(three_class_classifier):
    with pytest.raises(ExplainError, match="Unknown baseline"):
        explain_prediction(three_class_classifier, SENTENCE, kind=CLASSIFIER, n_steps=4, baseline_token="the")


def test_credits_explain_little_when_the_baseline_scores_almost_as_high(three_class_classifier):
    result = explain_prediction(three_class_classifier, SENTENCE, kind=CLASSIFIER, n_steps=8)
    size = result.credit_size
    assert size > 0
    assert replace(result, score=1.0, baseline_score=1.0 - 0.1 * size).explains_little  # a tenth of the credits
    assert replace(result, score=1.0, baseline_score=1.05).explains_little  # the baseline scores higher
    assert not replace(result, score=1.0, baseline_score=1.0 - size).explains_little


def test_sign_disagreements_name_the_words_the_two_methods_credit_oppositely(tiny_model):
    result = explain_prediction(tiny_model, SENTENCE, kind=MASKED_WORD, mask_position=3, n_steps=4)
    words = np.flatnonzero(result.explained)
    ig = np.zeros(len(result.tokens))
    ig[words] = 1.0
    gxi = ig.copy()
    gxi[words[0]] = -2.0  # opposite and large
    gxi[words[1]] = -0.01  # opposite but negligible beside gradient × input's largest credit
    assert replace(result, integrated_gradients=ig, gradient_x_input=gxi).sign_disagreements() == [int(words[0])]


def test_a_missing_correlation_says_why():
    assert no_correlation_reason(np.array([0.5, 0.5]), np.array([1.0, 2.0])) == "2 words: fewer than 3 to rank"
    assert no_correlation_reason(np.array([0.2, 0.2, 0.2]), np.array([1.0, 2, 3])) == (
        "all attention weights equal: no ranking")
    assert no_correlation_reason(np.array([0.1, 0.2, 0.3]), np.zeros(3)) == "all credits equal: no ranking"


def test_top_guesses_are_what_the_masked_word_head_says_with_each_word_masked_alone(tiny_model):
    positions = [1, 2, 3]
    guesses = top_guesses(tiny_model, SENTENCE, None, positions)
    ids = tiny_model.tokenizer(SENTENCE, return_tensors="pt")["input_ids"]
    for position in positions:
        masked = ids.clone()
        masked[0, position] = tiny_model.tokenizer.mask_token_id
        with torch.no_grad():
            probabilities = tiny_model.model.predictions(
                tiny_model.encoder(input_ids=masked).last_hidden_state[:, position])[0].softmax(-1)
        word, probability = guesses[position]
        assert word == tiny_model.tokenizer.convert_ids_to_tokens(int(probabilities.argmax()))
        assert probability == pytest.approx(float(probabilities.max()), abs=1e-5)


def test_special_tokens_get_no_credit_and_ordinary_tokens_are_compared(tiny_model):
    result = explain_prediction(tiny_model, SENTENCE, kind=MASKED_WORD, mask_position=3, n_steps=8)
    special = np.isin(np.array(result.tokens), ["[CLS]", "[SEP]", "[MASK]"])
    np.testing.assert_array_equal(result.explained, ~special)
    assert np.all(result.integrated_gradients[special] == 0.0)
    np.testing.assert_allclose(result.rollout.sum(), 1.0, atol=1e-5)
    np.testing.assert_allclose(result.last_layer.sum(), 1.0, atol=1e-5)


def test_the_shared_model_keeps_its_parameters_and_loses_its_hooks(tiny_model):
    before = {name: value.clone() for name, value in tiny_model.model.state_dict().items()}
    explain_prediction(tiny_model, SENTENCE, kind=MASKED_WORD, mask_position=2, n_steps=8)
    after = tiny_model.model.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert not tiny_model.encoder.embeddings.word_embeddings._forward_hooks
    assert all(parameter.grad is None for parameter in tiny_model.model.parameters())


def test_rank_correlation_on_known_vectors():
    assert rank_correlation(np.array([1.0, 2, 3, 4]), np.array([10.0, 20, 30, 40])) == pytest.approx(1.0)
    assert rank_correlation(np.array([1.0, 2, 3, 4]), np.array([4.0, 3, 2, 1])) == pytest.approx(-1.0)
    assert rank_correlation(np.array([1.0, 2, 3, 4]), np.array([1.0, 3, 2, 4])) == pytest.approx(0.8)  # 1 - 6·2/(4·15)
    assert rank_correlation(np.array([1.0, 2, 3]), np.array([5.0, 5, 5])) is None
    assert rank_correlation(np.array([1.0, 2]), np.array([1.0, 2])) is None


def test_a_model_without_a_classification_head_explains_the_masked_word_only(tiny_model):
    assert targets(tiny_model) == [MASKED_WORD]
    with pytest.raises(ExplainError, match="masked-word \\(MLM\\) guesses only"):
        explain_prediction(tiny_model, SENTENCE, kind=CLASSIFIER)


def test_a_sentence_of_special_tokens_only_gets_a_clear_message(tiny_classifier):
    with pytest.raises(ExplainError, match="special tokens only"):
        explain_prediction(tiny_classifier, "[SEP] [CLS]", kind=CLASSIFIER, n_steps=4)


def test_special_tokens_only_for_the_masked_word_head_say_so_rather_than_asking_for_a_word(tiny_model):
    with pytest.raises(ExplainError, match="special tokens only"):
        explain_prediction(tiny_model, "[SEP] [CLS]", kind=MASKED_WORD, n_steps=4)


def test_masking_the_only_word_says_no_other_word_is_left_to_credit(tiny_model):
    with pytest.raises(ExplainError, match="only word"):
        explain_prediction(tiny_model, "movie", kind=MASKED_WORD, mask_position=1, n_steps=4)


def test_masked_word_without_a_mask_or_a_chosen_word_gets_a_clear_message(tiny_model):
    with pytest.raises(ExplainError, match="Choose a word to mask"):
        explain_prediction(tiny_model, SENTENCE, kind=MASKED_WORD)
