"""Attention figures: colour scales that compare, values in short maps, bounded size, heads you can pick."""
import numpy as np
import pytest

from albert_viz.figures import attention_maps, common


def tokens(n: int) -> list[str]:
    return [f"w{i}" for i in range(n)]


def uniform(n: int) -> np.ndarray:
    return np.full((n, n), 1.0 / n)


def test_uniform_attention_is_drawn_on_the_full_zero_to_one_scale():
    heatmap = attention_maps.attention_heatmap(uniform(5), tokens(5), "toy").data[0]
    assert (heatmap.zmin, heatmap.zmax) == (0.0, 1.0)


def test_auto_contrast_stretches_the_scale_to_the_largest_weight_of_the_maps_shown_together():
    faint, stronger = uniform(5), uniform(5)
    stronger[0, 0] = 0.6
    top = attention_maps.colour_max([faint, stronger], auto_contrast=True)
    assert top == pytest.approx(0.6)
    assert attention_maps.attention_heatmap(faint, tokens(5), "a", zmax=top).data[0].zmax == pytest.approx(0.6)


def test_colour_max_is_one_without_auto_contrast():
    assert attention_maps.colour_max([uniform(4) * 0.1], auto_contrast=False) == 1.0


def test_short_sentences_print_each_weight_in_its_cell():
    assert attention_maps.attention_heatmap(uniform(12), tokens(12), "t").data[0].texttemplate == "%{z:.2f}"


def test_long_sentences_do_not_print_weights():
    assert attention_maps.attention_heatmap(uniform(13), tokens(13), "t").data[0].texttemplate is None


@pytest.mark.parametrize("n", [51, 128, 512])
def test_a_long_sentence_map_fits_one_screen(n):
    figure = attention_maps.attention_heatmap(uniform(n), tokens(n), "long")
    assert figure.layout.height <= 800


def test_a_long_sentence_map_labels_every_token_while_the_cells_allow():
    figure = attention_maps.attention_heatmap(uniform(51), tokens(51), "long")
    assert list(figure.layout.xaxis.ticktext) == tokens(51)


def test_a_very_long_sentence_map_thins_its_labels_and_says_so():
    figure = attention_maps.attention_heatmap(uniform(300), tokens(300), "long")
    assert 0 < len(figure.layout.xaxis.ticktext) < 300
    assert "hover for all" in figure.layout.xaxis.title.text


def test_the_title_sits_above_a_top_margin_tall_enough_for_the_rotated_labels():
    labels = [f"token{i:03d}" for i in range(51)]  # 8 characters each, drawn upright above the map
    layout = attention_maps.attention_heatmap(uniform(51), labels, "long").layout
    font = layout.xaxis.tickfont.size
    assert layout.title.yref == "container" and layout.title.yanchor == "top"
    assert layout.margin.t >= attention_maps.TITLE_PX + 8 * 0.6 * font


def test_heads_grid_titles_its_colour_bar_and_labels_the_first_maps_axes():
    figure = attention_maps.heads_grid(np.stack([uniform(4)] * 4), tokens(4), "layer 0")
    assert "weight" in figure.data[0].colorbar.title.text
    assert figure.layout.xaxis.title.text and figure.layout.yaxis.title.text


def test_heads_grid_outlines_the_selected_head_only():
    figure = attention_maps.heads_grid(np.stack([uniform(4)] * 8), tokens(4), "layer 0", selected_head=5)
    outlines = [shape for shape in figure.layout.shapes if shape.type == "rect"]
    assert [(shape.xref, shape.yref) for shape in outlines] == [("x6 domain", "y6 domain")]


def test_a_click_on_a_small_map_names_its_head():
    figure = attention_maps.heads_grid(np.stack([uniform(4)] * 3), tokens(4), "layer 0", clickable=True)
    markers = [trace for trace in figure.data if trace.type == "scatter"]
    point = {"curve_number": 5, "customdata": list(markers[2].customdata[7])}
    assert attention_maps.clicked_head({"points": [point]}) == 2


def test_no_selection_chooses_no_head():
    assert attention_maps.clicked_head({"points": [], "box": [], "lasso": []}) is None


def test_the_csv_holds_every_weight_under_its_query_and_key_tokens():
    import io

    import pandas as pd

    matrix = np.random.default_rng(0).dirichlet(np.ones(4), size=4)  # [query, key], rows sum to 1
    table = pd.read_csv(io.StringIO(attention_maps.matrix_csv(matrix, ["[CLS]", "a", "a", "[SEP]"])), index_col=0)
    assert list(table.index) == ["[CLS]", "a", "a", "[SEP]"]
    np.testing.assert_allclose(table.to_numpy(), matrix, atol=1e-6)


def test_a_token_a_spreadsheet_would_run_as_a_formula_stays_text_in_the_csv():
    assert "'=cmd" in attention_maps.matrix_csv(np.eye(2), ["=cmd", "ok"])


def test_the_camera_button_saves_a_png_named_after_the_view():
    options = common.download_config("attention layer 2/head 3")["toImageButtonOptions"]
    assert options["format"] == "png" and options["filename"] == "attention_layer_2_head_3" and options["scale"] >= 2


@pytest.mark.parametrize("n", [5, 13, 300])
def test_the_unchecked_heatmap_sends_what_a_validated_one_would(n, assert_sent_as_validated):
    """attention_heatmap skips plotly's validation for speed: same JSON, the colour scale's colours included."""
    assert_sent_as_validated(attention_maps.attention_heatmap(uniform(n), tokens(n), "t", colour_title="size"))


def test_attention_maps_run_from_white_at_zero_to_dark_blue_at_one():
    """A named scale would reach plotly.js as "Blues", which it draws dark at 0: the colours must travel."""
    scale = [list(step) for step in attention_maps.attention_heatmap(uniform(3), tokens(3), "t").data[0].colorscale]
    assert scale[0] == [0.0, "rgb(247,251,255)"] and scale[-1] == [1.0, "rgb(8,48,107)"]


def test_the_unchecked_heatmap_sends_its_weights_as_a_binary_array():
    """What st.plotly_chart sends: the matrix as base64 typed-array data (compact), not a list of numbers."""
    import json

    import plotly.io

    spec = json.loads(plotly.io.to_json(attention_maps.attention_heatmap(uniform(40), tokens(40), "t"), validate=False))
    assert "bdata" in spec["data"][0]["z"]


def random_heads(heads: int, n: int) -> np.ndarray:
    return np.random.default_rng(n).dirichlet(np.ones(n), size=(heads, n)).astype(np.float32)  # [head, q, k]


def test_the_overview_of_a_long_layer_is_at_most_64_cells_a_side():
    overview, block = attention_maps.block_max(random_heads(12, 512))
    assert overview.shape == (12, 64, 64) and block == 8
    assert attention_maps.block_max(random_heads(2, 130))[0].shape == (2, 44, 44)  # blocks of 3; the last one smaller


def test_each_overview_cell_is_the_largest_weight_of_its_block():
    attentions = random_heads(3, 130)
    overview, block = attention_maps.block_max(attentions)
    for head, row, col in [(0, 0, 0), (1, 17, 40), (2, 43, 43), (2, 43, 5)]:
        expected = attentions[head, row * block:(row + 1) * block, col * block:(col + 1) * block].max()
        assert overview[head, row, col] == expected


def test_the_all_heads_grid_of_a_long_text_sends_the_overview_and_says_so():
    figure = attention_maps.heads_grid(random_heads(12, 512), tokens(512), "Layer 0", clickable=True)
    maps = [trace for trace in figure.data if trace.type == "heatmap"]
    assert len(maps) == 12 and all(np.shape(trace.z) == (64, 64) for trace in maps)
    assert "largest weight in a block of 8 × 8" in figure.layout.title.text


def test_a_click_on_an_overview_map_names_its_head():
    figure = attention_maps.heads_grid(random_heads(4, 200), tokens(200), "Layer 0", clickable=True)
    markers = [trace for trace in figure.data if trace.type == "scatter"]
    assert attention_maps.clicked_head({"points": [{"customdata": int(markers[3].customdata[10])}]}) == 3


def test_a_long_map_sends_its_weights_as_a_typed_array_and_no_grid_of_hover_strings():
    import json

    import plotly.io as pio

    figure = attention_maps.attention_heatmap(random_heads(1, 512)[0], tokens(512), "long")
    trace = json.loads(pio.to_json(figure))["data"][0]
    assert trace["z"]["dtype"] == "f4" and "bdata" in trace["z"]
    assert "customdata" not in trace and trace["x"][5] == "w5 (5)"


@pytest.mark.parametrize("n, clickable", [(5, True), (30, False), (200, True)])
def test_the_unchecked_heads_grid_sends_what_a_validated_one_would(n, clickable, assert_sent_as_validated):
    assert_sent_as_validated(attention_maps.heads_grid(random_heads(12, n), tokens(n), "L", clickable=clickable,
                                                       selected_head=3))


def test_the_unchecked_head_overview_sends_what_a_validated_one_would(tiny_model, assert_sent_as_validated):
    from albert_viz.analysis.attention import head_statistics
    from albert_viz.model.capture import capture

    statistics = head_statistics(capture(tiny_model, "I love programming"))
    assert_sent_as_validated(attention_maps.head_overview(statistics, "t"))


def overview_statistics(tiny_model, rows_per_head: list[np.ndarray]):
    """HeadStatistics of one layer whose heads have the given [query, key] rows, on a 6-token sentence."""
    import dataclasses

    from albert_viz.analysis.attention import head_statistics
    from albert_viz.model.capture import capture

    base = capture(tiny_model, "the cat is tired")
    return head_statistics(dataclasses.replace(base, attentions=np.stack(rows_per_head)[None]))


def test_every_overview_cell_shows_its_leading_patterns_symbol_and_broad_heads_in_brackets(tiny_model):
    n = 6
    next_token = np.eye(n, k=1) + np.eye(n, k=-(n - 1))  # every row on the next token (the last on the first)
    leaning_on_itself = 0.9 * np.full((n, n), 1 / n) + 0.1 * np.eye(n)  # itself 0.25, under 2/6: broad
    statistics = overview_statistics(tiny_model, [next_token, leaning_on_itself])
    assert attention_maps.head_overview(statistics, "t").data[0].text.tolist() == [["→", "(•)"]]


def test_the_overview_is_coloured_by_the_leading_share_on_the_fixed_weight_scale(tiny_model):
    n = 6
    statistics = overview_statistics(tiny_model, [np.eye(n), np.full((n, n), 1 / n)])
    heatmap = attention_maps.head_overview(statistics, "t").data[0]
    scale = [list(step) for step in heatmap.colorscale]
    assert (heatmap.zmin, heatmap.zmax) == (0.0, 1.0)
    assert scale[0] == [0.0, "rgb(247,251,255)"] and scale[-1] == [1.0, "rgb(8,48,107)"]
    np.testing.assert_allclose(heatmap.z, [[1.0, 1 / n]])


def test_the_overview_csv_has_each_heads_pattern_and_share(tiny_model):
    import io

    import pandas as pd

    n = 6
    statistics = overview_statistics(tiny_model, [np.eye(n), np.full((n, n), 1 / n)])
    table = pd.read_csv(io.StringIO(attention_maps.overview_csv(statistics)))
    assert table["pattern"].tolist() == ["self", "broad"]
    np.testing.assert_allclose(table["leading share"], [1.0, 1 / n], atol=1e-6)


def test_the_overview_caption_says_when_a_head_is_broad_in_numbers(tiny_model):
    n = 6
    statistics = overview_statistics(tiny_model, [np.eye(n)])
    assert "2/6 = 0.333" in attention_maps.overview_caption(statistics)


def test_the_vector_length_chart_names_its_depths_as_every_page_does():
    """4 depths of a 3-layer model: the embeddings, then after layers 0-2; the hover says the same."""
    from albert_viz.figures import layernorm_charts
    figure = layernorm_charts.residual_norm_lines(np.ones((4, 2)), ["[CLS]", "hi"])
    names = ["embeddings", "after layer 0", "after layer 1", "after layer 2"]
    assert list(figure.layout.xaxis.ticktext) == names
    assert list(figure.data[0].customdata) == names and "%{customdata}" in figure.data[0].hovertemplate
