"""Norm-weighted attention, muting [CLS]/[SEP], and the views the attention page switches between."""
import numpy as np
import pytest

from albert_viz.analysis.attention import rollout
from albert_viz.analysis.attention_modes import ExplainError, attention_view, mute_tokens, norm_weighted_attention
from albert_viz.analysis.walkthrough import albert_layer
from albert_viz.model.capture import capture

SENTENCE = "the cat loved the movie because it was funny"


def direct_norm_weighted(loaded, captured, layer: int, head: int) -> np.ndarray:
    """‖α_ij (x_j W_V^h + b_V^h) W_O^h‖ token pair by token pair, in float64 from the module's weights."""
    attention = albert_layer(loaded, layer).attention
    d_k = attention.attention_head_size
    rows = slice(head * d_k, (head + 1) * d_k)
    w_v = attention.value.weight.detach().double().numpy()[rows].T  # [hidden, d_k]
    b_v = attention.value.bias.detach().double().numpy()[rows]
    w_o = attention.dense.weight.detach().double().numpy()[:, rows].T  # [d_k, hidden]
    x = captured.hidden_states[layer].astype(np.float64)
    alpha = captured.attentions[layer, head].astype(np.float64)
    n = captured.num_tokens
    result = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            result[i, j] = np.linalg.norm(alpha[i, j] * ((x[j] @ w_v + b_v) @ w_o))
    return result


@pytest.mark.parametrize("fixture", ["tiny_model", "grouped_model"])
def test_norm_weighted_attention_equals_a_direct_computation_from_the_weights(fixture, request):
    loaded = request.getfixturevalue(fixture)
    captured = capture(loaded, SENTENCE)
    computed = norm_weighted_attention(loaded, captured)
    assert computed.weights.shape == captured.attentions.shape
    for layer in range(captured.num_layers):
        for head in range(captured.num_heads):
            expected = direct_norm_weighted(loaded, captured, layer, head)
            np.testing.assert_allclose(computed.weights[layer, head], expected, atol=1e-5, rtol=1e-5)


def test_norm_weighted_attention_runs_no_forward_pass(tiny_model):
    captured = capture(tiny_model, SENTENCE)
    calls = []
    handle = tiny_model.encoder.register_forward_hook(lambda *args: calls.append(1))
    try:
        norm_weighted_attention(tiny_model, captured)
    finally:
        handle.remove()
    assert calls == []


@pytest.mark.parametrize("mode", ["raw", "norm", "rollout"])
def test_muted_rows_sum_to_one_and_give_cls_and_sep_nothing(tiny_model, mode):
    captured = capture(tiny_model, SENTENCE)
    view = attention_view(captured, mode, layer=1, head=2, mute=True,
                          norm_weighted=norm_weighted_attention(tiny_model, captured))
    np.testing.assert_allclose(view.matrix.sum(axis=-1), 1.0, atol=1e-6)
    special = np.isin(np.array(captured.tokens), ["[CLS]", "[SEP]"])
    assert np.all(view.matrix[:, special] == 0.0)


def test_muting_keeps_the_ratios_between_ordinary_tokens(tiny_model):
    captured = capture(tiny_model, SENTENCE)
    raw = captured.attentions[0, 0]
    muted = mute_tokens(raw, captured.tokens)
    np.testing.assert_allclose(muted[:, 2] / muted[:, 3], raw[:, 2] / raw[:, 3], rtol=1e-5)


def test_a_sentence_of_special_tokens_only_cannot_be_muted():
    with pytest.raises(ExplainError, match="nothing is left"):
        mute_tokens(np.full((2, 2), 0.5), ("[CLS]", "[SEP]"))


def test_each_mode_shows_its_own_matrix(tiny_model):
    captured = capture(tiny_model, SENTENCE)
    norms = norm_weighted_attention(tiny_model, captured)
    np.testing.assert_array_equal(attention_view(captured, "raw", 2, 1).matrix, captured.attentions[2, 1])
    np.testing.assert_array_equal(attention_view(captured, "norm", 2, 1, norm_weighted=norms).matrix, norms.weights[2, 1])
    np.testing.assert_allclose(attention_view(captured, "rollout", 2, 1).matrix, rollout(captured.attentions)[2])
