"""Watch it learn in AppTest: a real fine-tuning job's timeline on the results section and in the lesson.

The job is trained through the page itself (tiny random ALBERT, a few steps), so its timeline is the one
TimelineCallback recorded. AppTest reruns the whole script on every run(); a run while playing executes the
playing fragment's body exactly as one of its once-a-second reruns does in a browser.
"""
from __future__ import annotations

import numpy as np
import pytest

from albert_viz.finetune.job import DONE
from albert_viz.finetune.timeline import TIMELINE_FILE, load_timeline, snapshot_steps
from albert_viz.teaching import lessons
from albert_viz.ui.resources import get_runner
from tests.app.conftest import chart_spec, run_page

PAGE = "pages/finetune.py"
STEPS = 6
CSV = ("text,label\n" + "".join(f"good great movie {i},pos\nbad boring movie {i},neg\n" for i in range(10))).encode()


@pytest.fixture(scope="module")
def job(tiny_spec) -> str:
    """The id of a finished job trained on the fine-tuning page, STEPS steps."""
    at = run_page(PAGE, tiny_spec)
    at.get("file_uploader")[0].set_value(("reviews.csv", CSV, "text/csv"))
    at.run()
    at.number_input(key="ft_max_steps").set_value(STEPS)
    at.number_input(key="ft_max_length").set_value(16)
    at.button(key="ft_start").click().run()
    job_id = at.session_state["finetune_job"]
    assert get_runner().wait(job_id, timeout_s=120).state == DONE
    return job_id


def open_results(job_id: str, spec):
    """The fine-tuning page opened from the job's link (?job=), as on another device."""
    at = run_page(None, spec)
    at.query_params["job"] = job_id
    return at.switch_page(PAGE).run()


def model_dir(job_id: str):
    return get_runner().record(job_id).result.model_dir


def slider(at, job_id: str):
    return at.select_slider(key=f"tl_{job_id[:8]}_step")


def predictions(at):
    """The probe rows' table (a read-only table carries no key in AppTest: found by its columns)."""
    return next(frame.value for frame in at.dataframe if "model says" in frame.value.columns)


def map_title(at) -> str:
    return next(spec["layout"]["title"]["text"] for spec in (chart_spec(at, i) for i in range(len(at.get("plotly_chart"))))
                if spec["data"][0]["type"] == "heatmap" and "layer" in spec["layout"]["title"]["text"])


def test_the_slider_moves_the_shown_step_its_predictions_and_map(job, tiny_spec):
    at = open_results(job, tiny_spec)
    assert not at.exception
    timeline = load_timeline(model_dir(job))
    assert slider(at, job).options == [str(step) for step in snapshot_steps(STEPS)]
    frame = 3
    slider(at, job).set_value(int(timeline.steps[frame])).run()
    assert map_title(at).startswith(f"Step {timeline.steps[frame]} ")
    shown = predictions(at)
    np.testing.assert_allclose(shown["probability"], timeline.probabilities[frame].max(axis=-1), rtol=1e-6)
    names = [timeline.label_names[label] for label in timeline.probabilities[frame].argmax(axis=-1)]
    assert list(shown["model says"]) == names


def test_the_map_starts_on_the_head_that_changed_most(job, tiny_spec):
    from albert_viz.analysis.training_timeline import head_changes
    at = open_results(job, tiny_spec)
    timeline = load_timeline(model_dir(job))
    layer, head, _ = head_changes(timeline, len(timeline.steps) - 1).ranked(1)[0]
    assert (at.selectbox(key=f"tl_{job[:8]}_layer").value, at.selectbox(key=f"tl_{job[:8]}_head").value) == (layer, head)


def test_play_advances_one_recorded_step_per_rerun_and_stops_at_the_last(job, tiny_spec):
    at = open_results(job, tiny_spec)
    steps = [int(step) for step in load_timeline(model_dir(job)).steps]
    at.button(key=f"tl_{job[:8]}_play").click().run()
    seen = [slider(at, job).value]
    while _has_pause(at, job):
        at.run()  # what the playing fragment's once-a-second rerun does
        seen.append(slider(at, job).value)
        assert len(seen) <= len(steps), "Play did not stop at the last step"
    assert seen == steps[1:]
    at.run()  # stopped: a later rerun stays on the last step, with Play offered again
    assert slider(at, job).value == steps[-1] and not _has_pause(at, job)
    assert not at.exception


def test_pause_keeps_the_step_it_was_on(job, tiny_spec):
    at = open_results(job, tiny_spec)
    at.button(key=f"tl_{job[:8]}_play").click().run()
    at.run()
    at.button(key=f"tl_{job[:8]}_pause").click().run()
    paused_on = slider(at, job).value
    at.run()
    at.run()
    assert slider(at, job).value == paused_on and not _has_pause(at, job)


def _has_pause(at, job_id: str) -> bool:
    return any(button.key == f"tl_{job_id[:8]}_pause" for button in at.button)


def test_a_job_from_before_timelines_has_no_slider_and_says_why(job, tiny_spec):
    path = model_dir(job) / TIMELINE_FILE
    hidden = path.with_suffix(".hidden")
    path.rename(hidden)  # the job's folder as a job trained before timelines left it
    try:
        at = open_results(job, tiny_spec)
    finally:
        hidden.rename(path)
    assert not at.exception
    assert not any(box.key == f"tl_{job[:8]}_step" for box in at.select_slider)
    assert any("trained before the app recorded training timelines" in info.value for info in at.info)
    assert any(metric.label == "Accuracy" for metric in at.metric)  # the rest of the results are still there


def _lesson_step(job_id: str | None, spec):
    lesson = lessons.load_lesson(lessons.LESSONS_DIR / "finetuning.yaml")
    number = next(i for i, step in enumerate(lesson.steps, 1) if step.view == "timeline")
    at = run_page(None, spec)
    if job_id is not None:
        at.session_state["finetune_job"] = job_id  # this browser trained it
    at.query_params["lesson"], at.query_params["step"] = "finetuning", str(number)
    return at.switch_page("pages/present.py").run()


def test_the_lesson_step_replays_this_browsers_job(job, tiny_spec):
    at = _lesson_step(job, tiny_spec)
    assert not at.exception
    timeline = load_timeline(model_dir(job))
    assert slider(at, job).options == [str(step) for step in timeline.steps]
    assert map_title(at).startswith("Step 0 ")


def test_the_lesson_step_without_a_job_says_so_and_links_to_the_fine_tuning_page(tiny_spec):
    at = _lesson_step(None, tiny_spec)
    assert not at.exception and not at.select_slider
    assert any("none with a timeline has finished yet" in info.value for info in at.info)
    assert [link.proto.page for link in at.get("page_link")] == ["finetune"]
