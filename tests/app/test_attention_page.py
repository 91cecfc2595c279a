"""The attention page in Streamlit's AppTest: what a user sees for a sentence, a layer and a head."""
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from albert_viz.model.capture import capture
from albert_viz.model.loading import load_model

PAGE = "pages/attention.py"
SIDEBAR_ONLY = "from albert_viz.ui.widgets import model_sidebar\nmodel_sidebar()"




def test_app_home_renders_without_exception(open_page):
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "Inside ALBERT"


def test_attention_page_renders_for_the_default_model(open_page):
    at = open_page(PAGE)
    assert not at.exception
    assert len(at.get("plotly_chart")) >= 1


def test_heatmap_shows_the_captured_attention_of_the_chosen_layer_and_head(open_page, plotly_chart, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    at.slider(key="layer").set_value(2)
    at.slider(key="head").set_value(3)
    at.run()
    expected = capture(load_model(tiny_spec), "I love programming").attentions[2, 3]
    np.testing.assert_allclose(plotly_chart(at)["data"][0]["z"], expected, atol=1e-6)


def test_a_typed_sentence_is_what_gets_plotted(open_page, plotly_chart, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    at.text_input(key="_widget_sentence").input("the cat is tired").run()
    assert plotly_chart(at)["layout"]["xaxis"]["ticktext"] == ["[CLS]", "the", "cat", "is", "tired", "[SEP]"]


def test_empty_sentence_shows_a_message_not_a_traceback(open_page, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    at.text_input(key="_widget_sentence").input("").run()
    assert not at.exception
    assert any("empty" in info.value for info in at.info)


def test_very_long_text_is_truncated_with_a_warning(open_page, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    at.text_input(key="_widget_sentence").input("the cat " * 200).run()
    assert not at.exception
    assert any("cut to fit" in warning.value for warning in at.warning)


def test_unknown_hub_id_shows_an_error_and_keeps_the_current_model(tiny_spec):
    # AppTest drops app.py's sidebar on reruns of a multipage app, so drive the sidebar on its own.
    at = AppTest.from_string(SIDEBAR_ONLY, default_timeout=120)
    at.session_state["model_spec"] = tiny_spec
    at.run()
    at.sidebar.radio(key="model_source").set_value("hub").run()
    at.sidebar.selectbox[0].set_value("other…").run()
    at.sidebar.text_input[0].input("nobody/no-such-albert").run()
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert any("no-such-albert" in error.value and "hf download" in error.value for error in at.sidebar.error)
    assert at.session_state["model_spec"] == tiny_spec


def test_grouped_model_offers_every_layer_application(open_page, grouped_spec):
    at = open_page(PAGE, grouped_spec)
    assert not at.exception
    assert at.slider(key="layer").max == 7  # 4 layers × 2 inner layers


def test_changing_layer_or_head_replots_without_running_the_model_again(open_page, tiny_spec):
    from albert_viz.ui.resources import get_model

    at = open_page(PAGE, tiny_spec)
    forward_calls = []
    handle = get_model(tiny_spec).encoder.register_forward_hook(lambda *args: forward_calls.append(1))
    try:
        at.slider(key="layer").set_value(1).run()
        at.slider(key="head").set_value(2).run()
    finally:
        handle.remove()
    assert not at.exception
    assert forward_calls == []


def test_maps_use_a_fixed_zero_to_one_scale_until_auto_contrast_is_switched_on(open_page, plotly_chart, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    assert plotly_chart(at)["data"][0]["zmax"] == 1.0
    at.toggle(key="auto_contrast").set_value(True).run()
    expected = capture(load_model(tiny_spec), "I love programming").attentions[0, 0].max()
    assert plotly_chart(at)["data"][0]["zmax"] == pytest.approx(expected, abs=1e-6)


def test_the_all_heads_grid_outlines_the_head_chosen_on_the_slider(open_page, plotly_chart, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    at.session_state["attention_tab"] = "All heads of a layer"
    at.slider(key="head").set_value(3).run()
    outlines = [shape for shape in plotly_chart(at)["layout"]["shapes"] if shape["type"] == "rect"]
    assert [shape["xref"] for shape in outlines] == ["x4 domain"]


def test_only_the_open_tab_is_drawn(open_page, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    at.session_state["attention_tab"] = "Head average & rollout"
    at.run()
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]
    in_tabs = [title for title in titles if not title.startswith("Click a head to switch")]  # the panel below the tabs
    assert in_tabs == ["Layer 0: mean over heads", "Rollout up to layer 0"]


def test_the_one_head_map_offers_its_numbers_as_csv_and_a_named_png(open_page, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    at.slider(key="head").set_value(1).run()
    chart = at.get("plotly_chart")[0]
    assert json.loads(chart.proto.config)["toImageButtonOptions"]["filename"] == "attention_layer0_head1"
    buttons = at.get("download_button")
    assert buttons and "CSV" in buttons[0].proto.label


HEAD_FROM_A_CALLBACK = """
from albert_viz.model.capture import capture
from albert_viz.model.loading import ModelSpec, load_model
from albert_viz.ui import widgets
import streamlit as st


def choose_head():  # what a click on a map of the all-heads grid does
    st.session_state["head"] = 2


st.button("click head 2", on_click=choose_head)
widgets.layer_head_selectors(capture(load_model(ModelSpec("local", FOLDER, "cpu")), "I love programming"))
"""


def test_choosing_a_head_by_clicking_the_grid_logs_no_session_state_warning(tiny_spec, monkeypatch):
    from streamlit.elements.lib import policies

    warnings = []
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)  # streamlit warns once per process
    monkeypatch.setattr(policies._LOGGER, "warning", lambda message, *args, **kwargs: warnings.append(message % args))
    at = AppTest.from_string(HEAD_FROM_A_CALLBACK.replace("FOLDER", repr(tiny_spec.location)), default_timeout=120)
    at.run()
    at.button[0].click().run()
    assert not at.exception and at.slider(key="head").value == 2
    assert warnings == []


def test_the_tokenizer_panel_lists_the_model_s_own_pieces_ids_and_markers(open_page):
    from albert_viz.model.capture import capture
    from albert_viz.model.loading import ModelSpec, load_model
    at = open_page("pages/attention.py")
    at.text_input(key="_widget_sentence").input("Nantucket whalers").run()
    assert not at.exception
    read = capture(load_model(ModelSpec()), "Nantucket whalers")
    table = next(frame.value for frame in at.dataframe if "piece" in frame.value.columns)
    assert tuple(table["piece"]) == read.tokens and list(table["id"]) == read.token_ids.tolist()
    assert "continues the piece before" in set(table["what it is"])  # '##tucket' and the like
    words = " ".join(element.value for element in (*at.markdown, *at.caption))
    assert "WordPiece vocabulary of 30,522 pieces" in words and "“##”" in words and "SentencePiece" in words
