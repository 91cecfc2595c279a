"""Quiz cards in AppTest: nothing is revealed before the answer is locked in, and the score counts."""
from __future__ import annotations

import numpy as np

from albert_viz.model.capture import capture
from albert_viz.model.loading import load_model
from albert_viz.teaching import quiz

PAGE = "pages/attention.py"


def open_quiz(open_page, spec):
    at = open_page(PAGE, spec)
    at.session_state["attention_tab"] = "Predict, then reveal"  # only the open tab is drawn
    return at.run()


def _radio(at):
    return next(radio for radio in at.radio if radio.key and radio.key.startswith("quiz_choice_attention"))


def test_the_heatmap_appears_only_after_the_answer_is_locked_in(open_page, tiny_spec):
    at = open_quiz(open_page, tiny_spec)
    charts_before = len(at.get("plotly_chart"))
    question = quiz.attention_question(capture(load_model(tiny_spec), "I love programming"), 0, 0)
    _radio(at).set_value(question.answer).run()
    at.button(key=next(b.key for b in at.button if b.key and b.key.endswith("_commit"))).click().run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == charts_before + 1
    assert at.success and "Right" in at.success[0].value
    assert any("attention quiz (this page, this session): 1 right of 1 answered" in caption.value
               for caption in at.caption)


def test_a_wrong_answer_says_what_the_model_chose(open_page, tiny_spec):
    at = open_quiz(open_page, tiny_spec)
    question = quiz.attention_question(capture(load_model(tiny_spec), "I love programming"), 0, 0)
    wrong = (question.answer + 1) % len(question.choices)
    _radio(at).set_value(wrong).run()
    at.button(key=next(b.key for b in at.button if b.key and b.key.endswith("_commit"))).click().run()
    assert question.choices[question.answer] in at.error[0].value.replace("\\", "")
    assert any("0 right of 1 answered" in caption.value for caption in at.caption)
    np.testing.assert_equal(_radio(at).disabled, True)


def test_the_revealed_table_prints_every_number_to_the_same_precision(open_page, tiny_spec):
    """Rounded one by one, the table read "0.28, 0.05, 0.0516"; one format gives every number three decimals."""
    import json

    at = open_quiz(open_page, tiny_spec)
    _radio(at).set_value(0).run()
    at.button(key=next(b.key for b in at.button if b.key and b.key.endswith("_commit"))).click().run()
    columns = json.loads(at.dataframe[0].proto.columns)
    assert columns["weight"]["type_config"]["format"] == "%.3f"


def test_an_answer_on_the_attention_page_is_not_counted_as_one_on_worked_examples(open_page, tiny_spec):
    at = open_quiz(open_page, tiny_spec)
    _radio(at).set_value(0).run()
    at.button(key=next(b.key for b in at.button if b.key and b.key.endswith("_commit"))).click().run()
    at.switch_page("pages/worked_examples.py").run()
    at.radio(key="_widget_wk_mode").set_value("pretraining").run()
    at.toggle(key="wk_quiz").set_value(True).run()
    assert not at.exception
    lines = [caption.value for caption in at.caption if "Your score" in caption.value]
    assert lines and all("pretraining quiz (this page, this session): nothing answered yet" in line for line in lines)
    assert all("Other pages: the attention quiz" in line and "of 1" in line for line in lines)
