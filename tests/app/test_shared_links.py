"""Shared links in AppTest: a URL's sentence, second sentence, model, layer and head come back in a new session."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from albert_viz.model.loading import ModelSpec
from albert_viz.ui import links, state
from tests.app.conftest import APP

PAGE = "pages/attention.py"


def open_link(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    at.run()
    at.switch_page(PAGE).run()
    return at


def test_a_link_restores_sentence_pair_model_layer_and_head(tiny_spec):
    at = open_link({"text": "the cat sat", "pair": "it was tired", "model": f"local:{tiny_spec.location}",
                    "layer": "2", "head": "3"})
    assert not at.exception
    assert at.text_input(key="_widget_sentence").value == "the cat sat"
    assert at.text_input(key="_widget_sentence_pair").value == "it was tired"
    assert at.session_state["model_spec"].location == tiny_spec.location
    assert at.slider(key="layer").value == 2 and at.slider(key="head").value == 3


def test_the_url_names_the_sentence_pair_and_model_and_leaves_defaults_out(tiny_spec):
    fields = links.url_fields("a new sentence", "", ModelSpec("local", tiny_spec.location))
    assert fields == {"text": "a new sentence", "pair": "", "model": f"local:{tiny_spec.location}"}
    assert links.url_fields(state.DEFAULT_SENTENCE, "", ModelSpec()) == {"text": "", "pair": "", "model": ""}
    assert links.spec_from_link(fields["model"]).location == tiny_spec.location


def test_a_link_to_a_model_this_server_cannot_load_falls_back_to_the_bundled_one_and_says_so(tmp_path):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["model"] = f"local:{tmp_path / 'nowhere'}"
    at.run()
    assert not at.exception
    assert at.session_state["model_spec"].source == "bundled"
    assert any("cannot load" in error.value for error in at.error)
