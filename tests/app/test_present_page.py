"""Presenter mode in AppTest: a lesson opens from its URL, next/previous move the step in the URL."""
from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from albert_viz.model.capture import capture
from albert_viz.model.loading import load_model
from albert_viz.teaching import lessons
from tests.app.conftest import APP, chart_spec

PAGE = "pages/present.py"


def open_lesson(step: str, spec=None, lesson: str = "self_attention") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if spec is not None:
        at.session_state["model_spec"] = spec
    at.run()
    at.query_params["lesson"] = lesson
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


# ---------------------------------------------------------------------------------------------
# Question steps, and the views the course added (sharing, the embedding arithmetic, norm-weighted maps)
# ---------------------------------------------------------------------------------------------

def _numbered_step(lesson_name: str, view: str, **settings) -> tuple[int, lessons.LessonStep]:
    """The first step of a shipped lesson with this view and these settings, and its 1-based number."""
    lesson = lessons.load_lesson(lessons.LESSONS_DIR / f"{lesson_name}.yaml")
    return next((number, step) for number, step in enumerate(lesson.steps, 1)
                if step.view == view and all(step.get(key) == value for key, value in settings.items()))


def _lock_in(at: AppTest, choice: int) -> AppTest:
    radio = next(radio for radio in at.radio if radio.key and radio.key.startswith("quiz_choice_lesson"))
    radio.set_value(choice).run()
    at.button(key=next(b.key for b in at.button if b.key and b.key.endswith("_commit"))).click().run()
    return at


def test_an_attention_question_hides_the_map_until_the_answer_then_shows_the_models_head():
    from albert_viz.model.loading import ModelSpec
    from albert_viz.teaching import quiz
    number, step = _numbered_step("self_attention", "quiz", kind="attention")
    at = open_lesson(str(number))
    assert not at.exception and not at.get("plotly_chart")
    bundled = load_model(ModelSpec())
    question = quiz.question_for_step(step, bundled)
    _lock_in(at, question.answer)
    assert "Right" in at.success[0].value
    expected = capture(bundled, step.get("sentence")).attentions[step.get("layer"), step.get("head")]
    np.testing.assert_allclose(chart_spec(at)["data"][0]["z"], expected, atol=1e-6)


def test_a_wrong_answer_to_a_mask_question_names_the_models_guess_and_counts_for_the_lessons():
    from albert_viz.model.loading import ModelSpec
    from albert_viz.teaching import quiz
    number, step = _numbered_step("pretraining", "quiz", kind="mask")
    at = open_lesson(str(number), lesson="pretraining")
    question = quiz.question_for_step(step, load_model(ModelSpec()))
    _lock_in(at, (question.answer + 1) % len(question.choices))
    assert question.choices[question.answer] in at.error[0].value.replace("\\", "")
    assert any("the lessons' questions (this page, this session): 0 right of 1 answered" in caption.value
               for caption in at.caption)


def test_a_question_this_model_cannot_ask_says_why_instead_of_failing(tiny_spec):
    number, _ = _numbered_step("attention_heads", "quiz", word="mat")  # the tiny vocabulary reads m ##a ##t
    at = open_lesson(str(number), tiny_spec, lesson="attention_heads")
    assert not at.exception
    assert any("is not one of the tokens" in info.value for info in at.info)


def test_the_factorisation_step_does_the_loaded_models_own_sums(tiny_spec):
    number, _ = _numbered_step("tokens_embeddings", "parameters", show="factorization")
    at = open_lesson(str(number), tiny_spec, lesson="tokens_embeddings")
    config = load_model(tiny_spec).config
    v, e, h = config.vocab_size, config.embedding_size, config.hidden_size
    np.testing.assert_allclose(chart_spec(at)["data"][0]["y"], [v * h / 1e6, (v * e + e * h) / 1e6])


def test_the_sharing_step_draws_the_hidden_change_of_every_depth(tiny_spec):
    from albert_viz.analysis import anatomy
    number, step = _numbered_step("shared_layer", "sharing")
    at = open_lesson(str(number), tiny_spec, lesson="shared_layer")
    loaded = load_model(tiny_spec)
    expected = anatomy.sharing(loaded, capture(loaded, step.get("sentence"))).hidden_change
    np.testing.assert_allclose(chart_spec(at)["data"][0]["y"], expected, rtol=1e-5)


def test_a_norm_weighted_step_draws_kobayashi_s_lengths(tiny_spec):
    from albert_viz.analysis import attention_modes
    number, step = _numbered_step("attention_explanation", "attention", map="norm")
    at = open_lesson(str(number), tiny_spec, lesson="attention_explanation")
    loaded = load_model(tiny_spec)
    layer, head = (min(step.get(key), limit - 1) for key, limit in (("layer", 3), ("head", 4)))
    weights = attention_modes.norm_weighted_attention(loaded, capture(loaded, step.get("sentence"))).weights
    np.testing.assert_allclose(chart_spec(at)["data"][0]["z"], weights[layer, head], rtol=1e-5, atol=1e-7)
