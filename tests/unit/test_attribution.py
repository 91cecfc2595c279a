"""Why this prediction: Integrated Gradients and gradient × input beside attention, on tiny random ALBERTs."""
import numpy as np
import pytest
import torch
from transformers import AlbertForPreTraining, AlbertForSequenceClassification

from albert_viz.analysis.attention_modes import ExplainError
from albert_viz.analysis.attribution import CLASSIFIER, MASKED_WORD, explain_prediction, rank_correlation, targets
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
    result = explain_prediction(tiny_classifier, SENTENCE, kind=CLASSIFIER, n_steps=256)
    assert abs(result.score - result.baseline_score) > 1e-3  # a gap relative to nothing would prove nothing
    assert result.relative_gap < 0.01


def test_integrated_gradients_completeness_gap_is_below_one_percent_for_a_masked_word(wide_pretraining_model):
    result = explain_prediction(wide_pretraining_model, SENTENCE, kind=MASKED_WORD, mask_position=5, n_steps=256)
    assert result.tokens[5] == "[MASK]"
    assert abs(result.score - result.baseline_score) > 1e-3
    assert result.relative_gap < 0.01


def test_the_classifier_explains_its_own_predicted_class(tiny_classifier):
    result = explain_prediction(tiny_classifier, SENTENCE, kind=CLASSIFIER, n_steps=8)
    encoded = tiny_classifier.tokenizer(SENTENCE, return_tensors="pt")
    with torch.no_grad():
        logits = tiny_classifier.model(**encoded).logits[0]
    assert result.target == tiny_classifier.config.id2label[int(logits.argmax())]
    assert result.score == pytest.approx(float(logits.max()), abs=1e-5)


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
