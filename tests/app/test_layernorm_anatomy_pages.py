"""The layer-norm and anatomy pages in Streamlit's AppTest: they render, and show numbers that match the model."""
import numpy as np

from albert_viz.analysis.layernorm import layer_norm_stats
from albert_viz.model.capture import capture
from albert_viz.model.loading import load_model

LAYER_NORM, ANATOMY = "pages/layer_norm.py", "pages/anatomy.py"


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def selectbox(at, key_prefix: str):
    """Pickers over tokens and applications carry the sentence in their key: find them by its prefix."""
    return next(box for box in at.selectbox if box.key.startswith(key_prefix))


def test_layer_norm_page_renders_for_the_default_model(open_page):
    at = open_page(LAYER_NORM)
    assert not at.exception
    assert len(at.get("plotly_chart")) >= 6


def test_worked_layer_norm_matches_the_model_on_the_page(open_page, grouped_spec):
    at = open_page(LAYER_NORM, grouped_spec)
    selectbox(at, "ln_worked_application").set_value(9)
    selectbox(at, "ln_worked_token").set_value(2)
    at.run()
    assert not at.exception
    assert any("to better than 1e-5" in message.value for message in at.success)
    assert float(metric(at, "largest |ours − model|")) < 1e-5


def test_statistics_chart_shows_the_captured_input_means(open_page, plotly_chart, grouped_spec):
    at = open_page(LAYER_NORM, grouped_spec)
    stats = layer_norm_stats(capture(load_model(grouped_spec), "I love programming"))
    chosen = [i for i, site in enumerate(stats.sites) if site != "embeddings"]
    np.testing.assert_allclose(plotly_chart(at, 0)["data"][0]["y"], stats.input_mean[chosen, 0], atol=1e-5)


def test_shared_module_is_shown_running_at_several_depths(open_page, grouped_spec):
    # 4 layers in 2 groups of 2 inner layers: each attention LayerNorm module runs twice.
    at = open_page(LAYER_NORM, grouped_spec)
    assert any("ran **2** times on this sentence" in markdown.value for markdown in at.markdown)
    assert not any("time(s)" in markdown.value for markdown in at.markdown)


def test_layer_norm_page_says_so_when_the_sentence_is_empty(open_page, tiny_spec):
    at = open_page(LAYER_NORM, tiny_spec)
    at.text_input(key="_widget_sentence").input("").run()
    assert not at.exception
    assert any("empty" in info.value for info in at.info)


def test_anatomy_page_renders_for_the_default_model_with_albert_base_exact(open_page):
    at = open_page(ANATOMY)
    assert not at.exception
    table = next(frame.value for frame in at.dataframe if "total" in frame.value.columns)
    assert int(table.loc[table["model"] == "ALBERT base", "total"].iloc[0]) == 11_683_584


def test_anatomy_shows_four_weight_sets_serving_eight_depths_for_two_groups(open_page, grouped_spec):
    at = open_page(ANATOMY, grouped_spec)
    assert not at.exception
    assert metric(at, "Layer applications") == "8" and metric(at, "Distinct weight tensors") == "4"


def test_anatomy_asks_the_sop_head_about_both_orders(open_page, plotly_chart, tiny_spec):
    at = open_page(ANATOMY, tiny_spec)
    sop = next(chart for chart in (plotly_chart(at, i) for i in range(len(at.get("plotly_chart"))))
               if chart["layout"]["title"]["text"] == "Sentence-order prediction")
    assert all(0.0 <= p <= 1.0 for p in sop["data"][0]["y"]) and len(sop["data"][0]["y"]) == 2


def test_anatomy_keeps_its_other_tabs_when_the_sentence_is_empty(open_page, tiny_spec):
    at = open_page(ANATOMY, tiny_spec)
    at.text_input(key="_widget_sentence").input("").run()
    assert not at.exception
    assert any("empty" in info.value for info in at.info)
    assert any("cross-attention" in text.value.lower() for text in at.text)


def test_changing_selectors_replots_without_running_the_model_again(open_page, grouped_spec, monkeypatch):
    import albert_viz.ui.resources as resources

    at = open_page(LAYER_NORM, grouped_spec)
    calls = []
    monkeypatch.setattr(resources, "capture", lambda *args, **kwargs: calls.append(args))
    selectbox(at, "ln_worked_token").set_value(3)
    at.radio(key="ln_quantity").set_value("output_std")
    at.run()
    assert not at.exception and calls == []


def test_a_new_sentence_gives_a_token_picker_of_its_own_tokens(open_page, tiny_spec):
    at = open_page(LAYER_NORM, tiny_spec)
    selectbox(at, "ln_worked_token").set_value(3).run()
    at.text_input(key="_widget_sentence").input("the cat is tired").run()
    picker = selectbox(at, "ln_worked_token")
    assert picker.options[1] == "1: the" and picker.value == 1


def test_anatomy_says_same_tensor_in_words_not_memory_addresses(open_page, grouped_spec):
    at = open_page(ANATOMY, grouped_spec)
    table = next(frame.value for frame in at.dataframe if "same tensor as layer 0" in frame.value.columns)
    assert list(table["same tensor as layer 0"]) == ["yes", "no", "yes", "no", "no", "no", "no", "no"]
    assert not any(str(value).startswith("0x") for value in table.to_numpy().ravel())


def test_anatomy_words_the_sop_verdict_from_the_two_numbers(open_page, tiny_spec):
    from albert_viz.analysis import anatomy
    at = open_page(ANATOMY, tiny_spec)
    first, second = at.text_input(key="anatomy_sop_first").value, at.text_input(key="anatomy_sop_second").value
    prediction = anatomy.sop_prediction(load_model(tiny_spec), first, second)
    assert any(prediction.verdict in markdown.value for markdown in at.markdown)


def test_anatomy_misconceptions_name_and_quote_the_article(open_page, tiny_spec):
    from albert_viz.teaching import article
    at = open_page(ANATOMY, tiny_spec)
    assert any(article.SOURCE in caption.value for caption in at.caption)
    shown = " ".join(text.value for text in at.text)
    assert all(claim.quote in shown and claim.truth in shown for claim in article.CLAIMS)


def test_layer_norm_gamma_charts_have_short_readable_titles(open_page, plotly_chart, tiny_spec):
    at = open_page(LAYER_NORM, tiny_spec)
    titles = [plotly_chart(at, i)["layout"]["title"]["text"] for i in range(len(at.get("plotly_chart")))]
    gamma = [title for title in titles if "γ" in title]
    assert gamma and all("albert_layer_groups" not in title and len(title) <= 60 for title in gamma)


def test_the_sop_vs_nsp_table_is_shown_whole_swapped_row_included(open_page, tiny_spec):
    at = open_page(ANATOMY, tiny_spec)
    at.text_input(key="anatomy_sop_first").input("The cat sat *down*.").run()
    table = at.table[0].value  # a static table: every row on the page, no scrolling box
    assert list(table["label"]) == ["is next", "not next", "in order", "swapped"]
    assert table["segment A"].iloc[3] == table["segment B"].iloc[2]  # swapped: the same two segments, reversed
    assert "\\*down\\*" in table["segment A"].iloc[0]  # the typed text is escaped, not read as Markdown


def test_the_sizes_table_names_both_vocabularies_and_says_why_v_differs(open_page):
    at = open_page(ANATOMY)
    table = next(frame.value for frame in at.dataframe if "vocabulary" in frame.value.columns).set_index("model")
    assert table.loc["ALBERT base", "V"] == 30_000 and table.loc["ALBERT base", "vocabulary"].startswith("SentencePiece")
    assert table.loc["ALBERT tiny (bundled)", "V"] == 30_522
    assert table.loc["ALBERT tiny (bundled)", "vocabulary"].startswith("WordPiece")
    note = next(caption.value for caption in at.caption if caption.value.startswith("V counts"))
    assert "30,000" in note and "30,522" in note and "WordPiece" in note and "SentencePiece" in note
