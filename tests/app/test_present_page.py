"""Presenter mode in AppTest: a lesson opens from its URL, next/previous move the step in the URL."""
from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from albert_viz.model.capture import capture
from albert_viz.model.loading import load_model
from albert_viz.teaching import lessons
from tests.app.conftest import APP

PAGE = "pages/present.py"


def open_lesson(step: str, spec=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if spec is not None:
        at.session_state["model_spec"] = spec
    at.run()
    at.query_params["lesson"] = "self_attention"
    at.query_params["step"] = step
    at.switch_page(PAGE).run()
    return at


def test_the_lesson_list_offers_every_shipped_lesson(open_page):
    at = open_page(PAGE)
    assert not at.exception
    labels = [button.label for button in at.button]
    found, _ = lessons.available_lessons()
    assert sum(label.startswith("Present") for label in labels) == len(found)


def test_next_and_previous_change_the_step_in_the_url():
    at = open_lesson("2")
    assert not at.exception
    assert at.header[0].value.replace("\\", "") == lessons.load_lesson(lessons.LESSONS_DIR / "self_attention.yaml").steps[1].title
    at.button(key="present_next").click().run()
    assert at.query_params["step"] == "3"
    at.button(key="present_previous").click().run()
    at.button(key="present_previous").click().run()
    assert at.query_params["step"] == "1"
    assert at.button(key="present_previous").disabled


def test_a_step_beyond_the_end_opens_the_last_step():
    at = open_lesson("500")
    lesson = lessons.load_lesson(lessons.LESSONS_DIR / "self_attention.yaml")
    assert at.query_params["step"] == str(len(lesson.steps))
    assert at.button(key="present_next").disabled


def test_an_attention_step_draws_the_loaded_models_own_head(plotly_chart, tiny_spec):
    lesson = lessons.load_lesson(lessons.LESSONS_DIR / "self_attention.yaml")
    number = next(i for i, step in enumerate(lesson.steps, 1) if step.view == "attention")
    step = lesson.steps[number - 1]
    at = open_lesson(str(number), tiny_spec)
    assert not at.exception
    expected = capture(load_model(tiny_spec), step.get("sentence")).attentions[step.get("layer"), step.get("head")]
    np.testing.assert_allclose(plotly_chart(at)["data"][0]["z"], expected, atol=1e-6)


def test_presenting_a_lesson_turns_the_projector_layout_on_and_leaving_keeps_it(open_page):
    at = open_page(PAGE)
    at.button(key="present_self_attention").click().run()
    assert at.session_state["projector"]  # the sidebar toggle's value (AppTest lists no sidebar after a switch)
    assert at.query_params["lesson"] == "self_attention"
    at.button(key="present_exit").click().run()
    assert not at.exception  # the toggle's URL parameter is bound: leaving must not try to clear it
    assert "lesson" not in at.query_params
    assert at.session_state["projector"]
