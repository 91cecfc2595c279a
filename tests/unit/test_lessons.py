"""Lesson files: the shipped ones are valid, and a teacher's mistake is reported with its line."""
from __future__ import annotations

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
