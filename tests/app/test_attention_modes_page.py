"""The attention page's raw / norm-weighted / rollout switch and the [CLS]/[SEP] mute, in AppTest."""
import numpy as np

from albert_viz.analysis.attention import rollout
from albert_viz.analysis.attention_modes import norm_weighted_attention
from albert_viz.model.capture import capture
from albert_viz.model.loading import load_model

PAGE = "pages/attention.py"
SENTENCE = "I love programming"


def test_norm_weighted_mode_plots_the_norm_weighted_matrix_of_the_chosen_head(open_page, plotly_chart, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    at.slider(key="layer").set_value(1)
    at.slider(key="head").set_value(2)
    at.radio(key="attention_mode").set_value("norm").run()
    assert not at.exception
    loaded = load_model(tiny_spec)
    expected = norm_weighted_attention(loaded, capture(loaded, SENTENCE)).weights[1, 2]
    np.testing.assert_allclose(plotly_chart(at)["data"][0]["z"], expected, atol=1e-5)
    assert "norm-weighted" in plotly_chart(at)["layout"]["title"]["text"]


def test_rollout_mode_with_mute_plots_rows_that_sum_to_one_without_cls_and_sep(open_page, plotly_chart, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    at.slider(key="layer").set_value(2)
    at.radio(key="attention_mode").set_value("rollout")
    at.toggle(key="attention_mute").set_value(True).run()
    assert not at.exception
    z = np.asarray(plotly_chart(at)["data"][0]["z"])
    np.testing.assert_allclose(z.sum(axis=-1), 1.0, atol=1e-6)
    assert np.all(z[:, [0, -1]] == 0.0)  # [CLS] first, [SEP] last
    loaded = load_model(tiny_spec)
    unmuted = rollout(capture(loaded, SENTENCE).attentions)[2]
    np.testing.assert_allclose(z[:, 1:-1], unmuted[:, 1:-1] / unmuted[:, 1:-1].sum(axis=-1, keepdims=True), atol=1e-5)


def test_switching_to_norm_weighted_runs_no_forward_pass(open_page, tiny_spec):
    from albert_viz.ui.resources import get_model

    at = open_page(PAGE, tiny_spec)
    forward_calls = []
    handle = get_model(tiny_spec).encoder.register_forward_hook(lambda *args: forward_calls.append(1))
    try:
        at.radio(key="attention_mode").set_value("norm").run()
    finally:
        handle.remove()
    assert not at.exception
    assert forward_calls == []


def test_a_muted_rollout_is_saved_under_a_name_that_says_rollout_and_muted_and_no_head(open_page, tiny_spec):
    import json

    at = open_page(PAGE, tiny_spec)
    at.slider(key="layer").set_value(2)
    at.slider(key="head").set_value(3)
    at.radio(key="attention_mode").set_value("rollout")
    at.toggle(key="attention_mute").set_value(True).run()
    config = json.loads(at.get("plotly_chart")[0].proto.config)
    assert config["toImageButtonOptions"]["filename"] == "attention_rollout_to_layer2_cls_sep_muted"
