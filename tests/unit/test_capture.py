"""Capture: one forward pass gives attentions, hidden states and LayerNorm calls that match the model."""
import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from albert_viz.model.capture import CaptureError, capture, record_layernorm_calls

SENTENCE = "I love programming"


def hf_outputs(loaded, text, text_pair=None):
    """The model's own outputs, straight from transformers."""
    encoded = loaded.tokenizer(text, text_pair, return_tensors="pt")
    with torch.no_grad():
        return loaded.encoder(**encoded, output_attentions=True, output_hidden_states=True)


def test_every_attention_row_sums_to_one(tiny_model):
    result = capture(tiny_model, SENTENCE, "the cat is tired")
    np.testing.assert_allclose(result.attentions.sum(axis=-1), 1.0, atol=1e-5)


def test_attentions_equal_transformers_output_attentions(tiny_model):
    result = capture(tiny_model, SENTENCE)
    expected = np.stack([a[0].numpy() for a in hf_outputs(tiny_model, SENTENCE).attentions])
    np.testing.assert_allclose(result.attentions, expected, atol=1e-6)


def test_hidden_states_equal_transformers_output_hidden_states(tiny_model):
    result = capture(tiny_model, SENTENCE)
    expected = np.stack([h[0].numpy() for h in hf_outputs(tiny_model, SENTENCE).hidden_states])
    np.testing.assert_allclose(result.hidden_states, expected, atol=1e-6)


def test_tokens_name_the_example_sentence(tiny_model):
    assert capture(tiny_model, SENTENCE).tokens == ("[CLS]", "i", "love", "programming", "[SEP]")


def test_sentence_pair_gets_segment_ids(tiny_model):
    result = capture(tiny_model, "i love code", "the cat")
    first_sep = result.tokens.index("[SEP]")
    assert result.token_type_ids[: first_sep + 1].tolist() == [0] * (first_sep + 1)
    assert set(result.token_type_ids[first_sep + 1:].tolist()) == {1}


def test_each_layernorm_output_is_its_module_applied_to_its_input(tiny_model):
    modules = dict(tiny_model.encoder.named_modules())
    for application in capture(tiny_model, SENTENCE).layernorms:
        module = modules[application.module]
        expected = F.layer_norm(torch.from_numpy(application.inputs), module.normalized_shape,
                                module.weight.detach(), module.bias.detach(), module.eps)
        np.testing.assert_allclose(application.outputs, expected.numpy(), atol=1e-5)


def test_embedding_layernorm_input_is_word_plus_position_plus_type_embedding(tiny_model):
    result = capture(tiny_model, SENTENCE)
    embeddings = tiny_model.encoder.embeddings
    ids = torch.from_numpy(result.token_ids)
    direct = (embeddings.word_embeddings(ids) + embeddings.position_embeddings(torch.arange(len(ids)))
              + embeddings.token_type_embeddings(torch.zeros_like(ids)))
    np.testing.assert_allclose(result.layernorm("embeddings").inputs, direct.detach().numpy(), atol=1e-6)


def test_full_layer_layernorm_at_depth_i_gives_hidden_state_i_plus_one(tiny_model):
    result = capture(tiny_model, SENTENCE)
    for depth in range(result.num_layers):
        np.testing.assert_allclose(result.layernorm("full_layer", depth).outputs, result.hidden_states[depth + 1],
                                   atol=1e-6)


def test_shared_layer_is_recorded_once_per_depth(tiny_model):
    result = capture(tiny_model, SENTENCE)
    attention_lns = [a for a in result.layernorms if a.site == "attention"]
    assert [a.depth for a in attention_lns] == list(range(tiny_model.config.num_hidden_layers))
    assert len({a.module for a in attention_lns}) == 1  # one set of γ, β reused at every depth


def test_two_hidden_groups_of_two_inner_layers_give_eight_layers(grouped_model):
    result = capture(grouped_model, SENTENCE)
    layers = grouped_model.config.num_hidden_layers * grouped_model.config.inner_group_num
    assert result.attentions.shape[0] == layers == 8
    assert result.hidden_states.shape[0] == layers + 1
    assert len([a for a in result.layernorms if a.site == "full_layer"]) == layers
    assert len({a.module for a in result.layernorms if a.site == "attention"}) == 4  # 2 groups × 2 inner layers


def test_grouped_model_attentions_equal_transformers(grouped_model):
    result = capture(grouped_model, SENTENCE)
    expected = np.stack([a[0].numpy() for a in hf_outputs(grouped_model, SENTENCE).attentions])
    np.testing.assert_allclose(result.attentions, expected, atol=1e-6)


def hook_snapshot(model):
    """Every forward hook on every module (transformers 5 installs its own output-recording hooks once)."""
    return {name: tuple(module._forward_hooks) for name, module in model.named_modules() if module._forward_hooks}


def test_no_hooks_of_ours_remain_after_a_capture(tiny_model):
    capture(tiny_model, SENTENCE)  # let transformers install its own hooks first
    before = hook_snapshot(tiny_model.model)
    capture(tiny_model, SENTENCE)
    assert hook_snapshot(tiny_model.model) == before


def test_hooks_are_removed_even_when_the_forward_pass_fails(tiny_model):
    before = hook_snapshot(tiny_model.model)
    with pytest.raises(RuntimeError):
        with record_layernorm_calls(tiny_model.encoder):
            assert hook_snapshot(tiny_model.model) != before  # the hooks were really on
            raise RuntimeError("forward failed")
    assert hook_snapshot(tiny_model.model) == before


def test_two_threads_on_one_shared_model_each_get_their_own_result(tiny_model):
    sentences = ["i love programming", "the cat is very tired today"]
    expected = {s: capture(tiny_model, s).attentions for s in sentences}
    results, barrier = {}, threading.Barrier(len(sentences))

    def worker(sentence):
        barrier.wait()
        for _ in range(5):
            results.setdefault(sentence, []).append(capture(tiny_model, sentence).attentions)

    threads = [threading.Thread(target=worker, args=(s,)) for s in sentences]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for sentence in sentences:
        for attentions in results[sentence]:
            np.testing.assert_allclose(attentions, expected[sentence], atol=1e-6)


def test_empty_sentence_is_refused_with_a_message(tiny_model):
    with pytest.raises(CaptureError, match="empty"):
        capture(tiny_model, "   ")


def test_text_longer_than_the_model_limit_is_truncated_with_a_note(tiny_model):
    result = capture(tiny_model, "the cat " * 100)
    assert result.num_tokens == tiny_model.max_tokens
    assert result.truncated and "cut to fit" in result.truncation_note()


def test_capture_pickles_for_the_page_cache(tiny_model):
    import pickle

    result = capture(tiny_model, SENTENCE)
    restored = pickle.loads(pickle.dumps(result))
    np.testing.assert_array_equal(restored.attentions, result.attentions)
