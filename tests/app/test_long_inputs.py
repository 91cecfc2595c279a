"""A long text on the attention page (AppTest): what the page says about its limits and what it draws."""
import numpy as np
import pytest

from albert_viz.model.capture import capture
from albert_viz.model.loading import ModelSpec, load_model
from albert_viz.model.random_tiny import save_random_albert

PAGE = "pages/attention.py"
LONG_TEXT = " ".join(["the cat sat on the mat"] * 33)  # a few hundred tokens of the tiny vocabulary


@pytest.fixture(scope="module")
def long_spec(tmp_path_factory) -> ModelSpec:
    """A tiny random ALBERT that reads 512 tokens (3 layers × 4 heads)."""
    folder = save_random_albert(tmp_path_factory.mktemp("app_long"), max_position_embeddings=512)
    return ModelSpec("local", str(folder), "cpu")


def open_long_text(open_page, spec, **state):
    at = open_page(PAGE, spec)
    at.session_state["sentence"] = LONG_TEXT
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def test_the_page_states_how_many_tokens_it_reads_and_how_it_draws_long_texts(open_page, long_spec):
    at = open_long_text(open_page, long_spec)
    limits = next(caption.value for caption in at.caption if "tokens" in caption.value and "bertviz" in caption.value)
    assert "up to 512 tokens" in limits and "overviews" in limits and "largest weight" in limits


def test_the_all_heads_tab_of_a_long_text_shows_an_overview_and_the_chosen_heads_exact_map(open_page, plotly_chart,
                                                                                           long_spec):
    at = open_long_text(open_page, long_spec, attention_tab="All heads of a layer")
    at.slider(key="layer").set_value(1)
    at.slider(key="head").set_value(2).run()
    grid, exact = plotly_chart(at, 0), plotly_chart(at, 1)
    expected = capture(load_model(long_spec), LONG_TEXT).attentions[1, 2]
    n = expected.shape[-1]
    assert n > 128 and f"Overview of {n} tokens" in grid["layout"]["title"]["text"]
    assert all(max(np.shape(trace["z"])) <= 64 for trace in grid["data"] if trace["type"] == "heatmap")
    assert exact["layout"]["title"]["text"] == "Layer 1, head 2: every weight"
    np.testing.assert_allclose(exact["data"][0]["z"], expected, atol=1e-6)
