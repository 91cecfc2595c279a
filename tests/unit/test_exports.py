"""Exports for slides: a figure's numbers as CSV, the camera button's format, a view as one offline HTML file."""
import base64
import io
import re

import numpy as np
import pandas as pd
import pytest

from albert_viz.figures import attention_maps, common, exports, finetune_charts


def attention(n: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).random((n, n))
    return rows / rows.sum(axis=1, keepdims=True)  # [query, key], each row sums to 1


def test_a_heatmap_csv_is_its_matrix_with_the_tokens_as_row_and_column_names():
    matrix, words = attention(4), ["[CLS]", "it", "rains", "[SEP]"]
    figure = attention_maps.attention_heatmap(matrix, words, "map")
    table = pd.read_csv(io.StringIO(exports.figure_csv(figure)), index_col=0)
    assert list(table.index) == words and list(table.columns) == words
    np.testing.assert_allclose(table.to_numpy(), matrix, rtol=1e-5)


def test_the_heads_grid_csv_lists_every_cell_of_every_head_and_no_click_targets():
    weights = np.stack([attention(3, seed) for seed in range(4)])  # [head, query, key]
    figure = attention_maps.heads_grid(weights, ["a", "b", "c"], "layer 0", clickable=True)
    table = pd.read_csv(io.StringIO(exports.figure_csv(figure)))
    assert list(table.columns) == ["series", "row", "column", "value"]
    assert len(table) == weights.size
    np.testing.assert_allclose(np.sort(table["value"].to_numpy()), np.sort(weights.reshape(-1)), rtol=1e-5)


def test_a_bar_chart_csv_has_one_row_per_bar_with_its_label_and_height():
    table = pd.read_csv(io.StringIO(exports.figure_csv(finetune_charts.class_balance({"pos": 7, "neg": 3}))))
    assert dict(zip(table["x"], table["y"])) == {"pos": 7, "neg": 3}


def test_a_label_a_spreadsheet_would_run_stays_text_and_html_escapes_are_undone():
    csv = exports.figure_csv(finetune_charts.class_balance({"=HYPERLINK(1)": 1, "<b>bold</b>": 2}))
    assert "'=HYPERLINK(1)" in csv and "<b>bold</b>" in csv and "&lt;" not in csv


@pytest.mark.parametrize("image_format", ["png", "svg"])
def test_the_camera_button_saves_the_chosen_format_at_projector_scale(image_format):
    options = common.download_config("layer 2/head 3", image_format)["toImageButtonOptions"]
    assert options == {"format": image_format, "filename": "layer_2_head_3", "scale": 2}


def test_a_user_text_file_name_keeps_only_plain_ascii_characters():
    name = common.download_config("../../etc/passwd <é> \u202e")["toImageButtonOptions"]["filename"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", name)


def test_an_image_format_plotly_cannot_make_offline_is_refused():
    with pytest.raises(ValueError, match="png"):
        common.download_config("map", "pdf")


HOSTILE = "<script>alert('x')</script> & it rains"


@pytest.fixture(scope="module")
def saved_view() -> str:
    matrix = np.array([[0.25, 0.75], [0.125, 0.875]])
    figure = attention_maps.attention_heatmap(matrix, ["[CLS]", "zebra"], "Layer 1, head 2")
    return exports.attention_view_html(figure, title="Layer 1, head 2", sentence=HOSTILE, sentence_pair=None,
                                       model="bundled ALBERT-tiny", layer=1, head=2, mode="raw",
                                       config=common.download_config("attention_layer1_head2"))


def test_the_saved_view_embeds_plotly_and_loads_nothing_from_the_network(saved_view):
    assert saved_view.startswith("<!DOCTYPE html>") and "<html" in saved_view
    assert len(saved_view) > 1_000_000  # plotly.js itself is inside (~4.7 MB)
    assert not re.search(r"<(script|link|img|iframe)[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//", saved_view, re.I)


def test_the_saved_view_carries_the_numbers_and_the_tokens(saved_view):
    # plotly writes the matrix as a base64 typed array ({"dtype": "f8", "bdata": ...}), which plotly.js decodes
    dtype, encoded = re.search(r'"z":\{"dtype":"(f4|f8)","bdata":"([^"]+)"', saved_view).groups()
    weights = np.frombuffer(base64.b64decode(encoded.replace("\\u002f", "/")), dtype=f"<{dtype}").reshape(2, 2)
    np.testing.assert_array_equal(weights, [[0.25, 0.75], [0.125, 0.875]])
    assert "zebra" in saved_view


def test_the_saved_view_names_what_it_shows(saved_view):
    for fact in ("bundled ALBERT-tiny", "<dt>Layer</dt><dd>1</dd>", "<dt>Head</dt><dd>2</dd>", "Raw weights"):
        assert fact in saved_view


def test_a_sentence_holding_a_script_tag_is_shown_as_text_in_the_saved_view(saved_view):
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; it rains" in saved_view
    assert "<script>alert" not in saved_view


def test_the_all_heads_grid_csv_names_each_series_by_its_head():
    grid = attention_maps.heads_grid(np.stack([np.eye(3)] * 4), ["a", "b", "c"], "Layer 0", clickable=True)
    series = pd.read_csv(io.StringIO(exports.figure_csv(grid)))["series"]
    assert list(series.unique()) == ["head 0", "head 1", "head 2", "head 3"]
