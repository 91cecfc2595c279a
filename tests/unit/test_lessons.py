"""Lesson files: the shipped ones are valid, and a teacher's mistake is reported with its line."""
from __future__ import annotations

import os

import numpy as np
import pytest

from albert_viz.teaching import lessons
from albert_viz.teaching.lessons import LessonError, parse_lesson

GOOD = """\
title: A lesson
description: Two steps.
steps:
  - title: Tokens
    view: tokens
    sentence: I love programming
  - title: A head
    view: attention
    sentence: I love programming
    layer: 1
    head: 2
"""


def test_shipped_lessons_all_parse_and_there_are_at_least_two():
    found, problems = lessons.available_lessons()
    assert problems == []
    assert {"self_attention", "finetuning"} <= {lesson.name for lesson in found}


def test_a_lesson_keeps_its_steps_in_order_with_their_settings():
    lesson = parse_lesson(GOOD, "good")
    assert [step.title for step in lesson.steps] == ["Tokens", "A head"]
    assert lesson.steps[1].get("layer") == 1 and lesson.steps[1].get("head") == 2
    assert lesson.steps[1].line == 7


@pytest.mark.parametrize("broken, line, words", [
    (GOOD.replace("view: attention", "view: atention"), 8, "atention"),
    (GOOD.replace("layer: 1", "layer: one"), 10, "whole number"),
    (GOOD.replace("    head: 2", "    colour: red"), 11, "does not know `colour`"),
    (GOOD.replace("  - title: A head\n", "  - titel: A head\n"), 7, "`title:` is missing"),
    (GOOD.replace("description: Two steps.", "description: [unclosed"), 3, "not valid YAML"),
    (GOOD.replace("    sentence: I love programming\n  - title: A head", "  - title: A head"), 4, "needs `sentence:`"),
])
def test_a_broken_lesson_names_the_line_of_its_problem(broken, line, words):
    with pytest.raises(LessonError) as error:
        parse_lesson(broken, "mine")
    assert f"mine, line {line}" in str(error.value)
    assert words in str(error.value)


def test_a_broken_file_is_listed_as_a_problem_and_the_good_ones_still_load(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text("title: x\nsteps: 3\n")
    found, problems = lessons.available_lessons(tmp_path)
    assert [lesson.name for lesson in found] == ["good"]
    assert len(problems) == 1 and problems[0].startswith("bad, line 2")


def test_yaml_tags_that_would_build_python_objects_are_refused(tmp_path):
    marker = tmp_path / "ran"
    evil = f"title: !!python/object/apply:os.system ['touch {marker}']\nsteps:\n  - title: x\n"
    with pytest.raises(LessonError):
        parse_lesson(evil, "evil")
    assert not marker.exists()


@pytest.mark.parametrize("requested, expected", [(None, 0), ("2", 1), ("99", 1), ("0", 0), ("two", 0)])
def test_the_step_in_a_url_is_clamped_to_the_lesson(requested, expected):
    assert lessons.step_index(requested, parse_lesson(GOOD, "good")) == expected


def test_an_unknown_toy_preset_names_its_line():
    broken = GOOD.replace("    view: tokens\n    sentence: I love programming", "    view: toy\n    preset: magic")
    with pytest.raises(LessonError, match=r"mine, line 6: step 1 has preset `magic`"):
        parse_lesson(broken, "mine")


# ---------------------------------------------------------------------------------------------
# Narration says only what the step's own screen shows
# ---------------------------------------------------------------------------------------------

def shipped_steps():
    found, _ = lessons.available_lessons()
    return [pytest.param(step, id=f"{lesson.name}-{number}")
            for lesson in found for number, step in enumerate(lesson.steps, start=1)]


@pytest.fixture(scope="module")
def bundled():
    from albert_viz.model.loading import ModelSpec, load_model
    return load_model(ModelSpec())


@pytest.mark.parametrize("step", shipped_steps())
def test_every_pattern_a_shipped_step_names_is_in_the_bundled_model_s_numbers(step, bundled):
    from albert_viz.teaching import lesson_checks
    assert lesson_checks.unsupported_claims(step, bundled) == []


@pytest.mark.parametrize("step", shipped_steps())
def test_a_step_names_patterns_only_where_its_view_shows_attention(step):
    from albert_viz.teaching import lesson_checks
    assert step.view in lesson_checks.CHECKED_VIEWS or not lesson_checks.patterns_named(step.narration)


def test_the_old_self_attention_step_9_is_caught_claiming_sep(bundled):
    from albert_viz.teaching import lesson_checks
    found, _ = lessons.available_lessons()
    lesson = next(lesson for lesson in found if lesson.name == "self_attention")
    step = next(step for step in lesson.steps if step.title == "Many heads at once")  # once step 9
    old = lessons.LessonStep(title=step.title, view=step.view, settings=step.settings, narration=(
        "Different heads learn different habits: the previous token, the next one, [SEP]."))
    problems = lesson_checks.unsupported_claims(old, bundled)
    assert any("[SEP]" in problem for problem in problems) and any("previous" in problem for problem in problems)
    assert "[SEP]" not in step.narration


def test_a_head_named_in_a_sentence_is_checked_on_its_own(bundled):
    from albert_viz.teaching import lesson_checks
    step = lessons.LessonStep(title="x", view="heads", settings={"sentence": "I love programming", "layer": 0},
                          narration="Head 3 attends to the previous token. Head 2 attends to the previous token.")
    assert lesson_checks.unsupported_claims(step, bundled) == ["head 3 of layer 0 does not mostly attend to "
                                                               "previous token"]


# ---------------------------------------------------------------------------------------------
# Question steps (view: quiz)
# ---------------------------------------------------------------------------------------------

QUIZ = """\
title: Questions
steps:
  - title: Which token?
    view: quiz
    kind: attention
    sentence: the cat sat on the mat
    layer: 1
    head: 2
    word: cat
  - title: Which word?
    view: quiz
    kind: mask
    sentence: the cat sat on the [MASK]
  - title: Which order?
    view: quiz
    kind: order
    sentence: the cat sat on the mat
    pair: then it was tired
"""


def test_the_course_has_at_least_six_lessons_each_asking_at_least_two_questions():
    found, problems = lessons.available_lessons()
    assert problems == [] and len(found) >= 6
    assert {lesson.name: sum(step.view == "quiz" for step in lesson.steps) >= 2 for lesson in found} == \
        {lesson.name: True for lesson in found}


def test_a_question_step_keeps_its_kind_and_settings():
    attention_step, mask_step, order_step = parse_lesson(QUIZ, "quiz").steps
    assert attention_step.settings == {"kind": "attention", "sentence": "the cat sat on the mat", "layer": 1,
                                       "head": 2, "word": "cat"}
    assert mask_step.get("kind") == "mask" and order_step.get("pair") == "then it was tired"


@pytest.mark.parametrize("broken, line, words", [
    (QUIZ.replace("kind: attention", "kind: spelling"), 5, "has kind `spelling`; use one of: attention, mask, order"),
    (QUIZ.replace("    sentence: the cat sat on the mat\n    layer", "    layer"), 3, "needs `sentence:`"),
    (QUIZ.replace("the cat sat on the [MASK]", "the cat sat on the mat"), 13, "write [MASK] exactly once"),
    (QUIZ.replace("the cat sat on the [MASK]", "the [MASK] sat on the [MASK]"), 13, "has more than one"),
    (QUIZ.replace("    sentence: the cat sat on the [MASK]", "    sentence: the cat sat on the [MASK]\n    head: 3"),
     14, "does not use `head`"),
    (QUIZ.replace("    pair: then it was tired\n", ""), 14, "(an `order` question) needs `pair:`"),
    (QUIZ.replace("    kind: mask\n", ""), 10, "needs `kind:`"),
])
def test_a_broken_question_step_names_the_line_of_its_problem(broken, line, words):
    with pytest.raises(LessonError) as error:
        parse_lesson(broken, "mine")
    assert f"mine, line {line}" in str(error.value)
    assert words in str(error.value)


def test_an_attention_question_from_a_step_is_teaching_quiz_s_own_on_the_models_capture(tiny_model):
    from albert_viz.model.capture import capture
    from albert_viz.teaching import quiz
    step = parse_lesson(QUIZ, "quiz").steps[0]
    asked = quiz.question_for_step(step, tiny_model)
    captured = capture(tiny_model, "the cat sat on the mat")
    direct = quiz.attention_question(captured, 1, 2, query=captured.tokens.index("cat"))
    assert (asked.prompt, asked.choices, asked.answer) == (direct.prompt, direct.choices, direct.answer)
    assert asked.answer == int(captured.attentions[1, 2, captured.tokens.index("cat")].argmax())


def test_a_mask_question_from_a_step_is_the_mlm_head_s_first_guess(tiny_model):
    from albert_viz.analysis import walkthrough
    from albert_viz.teaching import quiz
    asked = quiz.question_for_step(parse_lesson(QUIZ, "quiz").steps[1], tiny_model)
    prediction = walkthrough.masked_word_predictions(tiny_model, "the cat sat on the [MASK]").predictions[0]
    assert asked.choices[asked.answer] == prediction.candidates[0]
    assert asked.choices == quiz.mask_question(prediction).choices


def test_an_order_question_from_a_step_is_the_sop_head_s_verdict(tiny_model):
    from albert_viz.analysis import walkthrough
    from albert_viz.teaching import quiz
    asked = quiz.question_for_step(parse_lesson(QUIZ, "quiz").steps[2], tiny_model)
    order = walkthrough.sentence_order(tiny_model, "the cat sat on the mat", "then it was tired")
    assert asked.answer == (0 if order.prefers_given_order else 1)
    np.testing.assert_allclose(asked.scores, [order.given_order[0], order.swapped_order[0]])


def test_a_question_about_a_word_the_sentence_lacks_says_so_in_words(tiny_model):
    from albert_viz.teaching import quiz
    step = parse_lesson(QUIZ.replace("word: cat", "word: dog"), "quiz").steps[0]
    with pytest.raises(quiz.QuestionError, match="“dog” is not one of the tokens"):
        quiz.question_for_step(step, tiny_model)


def test_a_question_can_ask_where_cls_looks(tiny_model):
    from albert_viz.teaching import quiz
    step = parse_lesson(QUIZ.replace("word: cat", "word: \"[CLS]\""), "quiz").steps[0]
    assert "“[CLS]” (position 0)" in quiz.question_for_step(step, tiny_model).prompt


def test_a_question_the_model_cannot_ask_is_a_problem_for_lesson_checks(tiny_model):
    from albert_viz.teaching import lesson_checks
    step = parse_lesson(QUIZ.replace("word: cat", "word: dog"), "quiz").steps[0]
    problems = lesson_checks.unsupported_claims(step, tiny_model)
    assert len(problems) == 1 and problems[0].startswith("the question cannot be asked: “dog” is not one of")


@pytest.mark.parametrize("narration, problems", [
    ("30,522·128 + 128·384 = 3,955,968 and 30,000·768 = 23,040,000.", []),
    ("30,000·128 + 128·768 = 3,940,000.", ["“30,000·128 + 128·768 = 3,940,000” is wrong: it comes to 3,938,304"]),
    ("V·H = 30,522·384 = 11,720,000.", ["“30,522·384 = 11,720,000” is wrong: it comes to 11,720,448"]),
])
def test_a_product_worked_out_in_a_narration_is_checked(narration, problems):
    from albert_viz.teaching import lesson_checks
    assert lesson_checks.wrong_arithmetic(narration) == problems


def test_a_pattern_named_under_an_attention_question_is_checked_on_its_head(bundled):
    from albert_viz.teaching import lesson_checks
    step = lessons.LessonStep(title="x", view="quiz", narration="Head 8 attends to the previous token.", settings={
        "kind": "attention", "sentence": "I love programming", "layer": 0, "head": 8})
    assert lesson_checks.unsupported_claims(step, bundled) == ["head 8 of layer 0 does not mostly attend to "
                                                               "previous token"]


def test_a_claim_under_a_norm_weighted_map_is_checked_on_that_map(bundled):
    """Weighed by what it moves, a [CLS] head's rows no longer lean on [CLS] (its vector is short)."""
    from albert_viz.teaching import lesson_checks
    settings = {"sentence": "The animal didn't cross the street because it was too tired", "layer": 1, "head": 3}
    claim = "Almost all its weight goes to [CLS]."
    raw = lessons.LessonStep(title="x", view="attention", narration=claim, settings=settings)
    norm = lessons.LessonStep(title="x", view="attention", narration=claim, settings={**settings, "map": "norm"})
    assert lesson_checks.unsupported_claims(raw, bundled) == []
    assert lesson_checks.unsupported_claims(norm, bundled) == ["no head on this screen mostly attends to [CLS]"]


def test_every_shipped_question_is_built_from_the_bundled_model(bundled):
    from albert_viz.teaching import quiz
    found, _ = lessons.available_lessons()
    questions = [quiz.question_for_step(step, bundled) for lesson in found for step in lesson.steps
                 if step.view == "quiz"]
    assert questions and all(0 <= question.answer < len(question.choices) for question in questions)


def test_a_mask_question_from_a_step_shows_its_sentence_since_a_class_sees_only_the_card(tiny_model):
    from albert_viz.teaching import quiz
    asked = quiz.question_for_step(parse_lesson(QUIZ, "quiz").steps[1], tiny_model)
    assert asked.prompt.startswith("“the cat sat on the [MASK]”")


def test_an_edited_lesson_file_shows_its_edit_on_the_next_listing(tmp_path):
    lesson_file = tmp_path / "mine.yaml"
    lesson_file.write_text(GOOD)
    before = lessons.available_lessons(tmp_path)[0][0].title
    lesson_file.write_text(GOOD.replace(f"title: {before}", "title: Edited in class"))
    stat = lesson_file.stat()  # a coarse clock could give the rewrite the same time: move it on, as an editor would
    os.utime(lesson_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert lessons.available_lessons(tmp_path)[0][0].title == "Edited in class"
