"""The Explain page's intervention sections in AppTest: which heads matter, and are the explanations faithful.

A run waits for the model's lock like any other user of the shared model: holding that lock here keeps a run
going for as long as a test needs to see its progress or cancel it.
"""
import contextlib

from albert_viz.ui.resources import get_model, get_runner

PAGE = "pages/explain.py"
HEADS, FAITHFUL = "Which heads matter", "Are the explanations faithful?"


def open_section(open_page, spec, section):
    at = open_page(PAGE, spec)
    at.radio(key="explain_section").set_value(section).run()
    assert not at.exception
    return at


@contextlib.contextmanager
def model_busy(spec):
    """Another session holds the shared model: a run started now waits at its first batch."""
    loaded = get_model(spec)
    with loaded.lock:
        yield loaded


def finish(at, key):
    at.session_state[key].wait(timeout=120)
    return at.run()


def titles(at, plotly_chart):
    return [plotly_chart(at, i)["layout"]["title"]["text"] for i in range(len(at.get("plotly_chart")))]


def test_a_model_without_a_classifier_offers_only_the_masked_word_task(open_page, tiny_spec):
    at = open_section(open_page, tiny_spec, HEADS)
    assert all(radio.key != "heads_task" for radio in at.radio)
    assert any(text.value.startswith("Task: Masked word:") for text in at.text)
    assert any("only the masked-word task is offered" in caption.value for caption in at.caption)


def test_a_started_run_shows_its_progress_and_its_button_cannot_start_a_second(open_page, tiny_spec):
    at = open_section(open_page, tiny_spec, HEADS)
    with model_busy(tiny_spec) as loaded:
        assert get_model(tiny_spec) is loaded  # the page and this test share the one cached model
        at.button(key="importance_run_start").click().run()
        run = at.session_state["importance_run"]
        assert run.running
        assert "Switching each head off" in at.get("progress")[0].proto.text
        at.run()  # the page polled again while the run goes: the button stays disabled, the run is the same
        assert at.button(key="importance_run_start").disabled  # AppTest, like a browser, cannot click it
        assert at.session_state["importance_run"] is run
    finish(at, "importance_run")


def test_cancel_keeps_no_result_and_says_so(open_page, plotly_chart, tiny_spec):
    at = open_section(open_page, tiny_spec, HEADS)
    with model_busy(tiny_spec):
        at.button(key="importance_run_start").click().run()
        at.button(key="importance_run_cancel").click().run()
    at = finish(at, "importance_run")
    assert at.session_state["importance_run"].result is None
    assert any("nothing was kept" in info.value for info in at.info)
    assert not any("one head off" in title for title in titles(at, plotly_chart))


def test_a_finished_run_shows_the_map_the_curve_and_the_rows_behind_every_accuracy(open_page, plotly_chart, tiny_spec):
    at = open_section(open_page, tiny_spec, HEADS)
    at.select_slider(key="heads_rows").set_value(50).run()
    at.button(key="importance_run_start").click().run()
    at = finish(at, "importance_run")
    assert not at.exception
    shown = titles(at, plotly_chart)
    assert "Drop in the right answer's probability,<br>one head off (mean over 50 rows)" in shown
    assert any(title.startswith("Removing heads, least important first (on 50 rows") for title in shown)
    heatmap = plotly_chart(at, 0)["data"][0]
    assert heatmap["z"].shape == (3, 4)  # 3 layers × 4 heads of the tiny model
    assert any("of 50 rows (95% interval" in text.value for text in at.text)
    accuracies = at.table[0].value["accuracy with it off"]
    assert all("of 50 rows" in value for value in accuracies)


def test_the_faithfulness_of_the_sentence_is_drawn_with_a_verdict(open_page, plotly_chart, tiny_spec):
    at = open_section(open_page, tiny_spec, FAITHFUL)
    at.text_input(key="_widget_sentence").input("the movie was really funny and the actor was great").run()
    assert not at.exception
    chart = plotly_chart(at, 0)
    assert [trace["name"] for trace in chart["data"]] == [
        "last layer's attention", "attention rollout", "norm-weighted attention", "Integrated Gradients",
        "gradient × input", "random order (the floor)"]
    assert at.table[0].value.shape == (6, 3)
    assert at.success[0].value.replace("\\", "").startswith("For this model and this sentence")
    assert any("replaced by [MASK]" in caption.value.replace("\\", "") for caption in at.caption)


def test_faithfulness_over_a_validation_set_runs_in_the_background(open_page, plotly_chart, tiny_spec):
    at = open_section(open_page, tiny_spec, FAITHFUL)
    at.select_slider(key="faith_rows").set_value(10).run()
    at.button(key="faithfulness_run_start").click().run()
    at = finish(at, "faithfulness_run")
    assert not at.exception
    summary = at.session_state["faithfulness_run"].result
    assert any(title.endswith(f"mean over {summary.rows} rows") for title in titles(at, plotly_chart))
    assert any(f"these {summary.rows} sentences" in success.value for success in at.success)


def test_a_finished_fine_tuning_job_is_scored_on_its_own_validation_rows(open_page, tiny_spec):
    from albert_viz.finetune.metrics import accuracy_text
    from tests.app.test_finetune_jobs_page import start_job
    from tests.app.test_finetune_page import wait_for_results

    at = wait_for_results(start_job(open_page, tiny_spec, steps=2))
    at.switch_page(PAGE).run()
    at.radio(key="explain_section").set_value(HEADS).run()
    tasks = at.radio(key="heads_task").options
    assert [task.split(":")[0] for task in tasks] == ["Classifier", "Masked word"]
    at.radio(key="heads_task").set_value(tasks[0]).run()
    at.button(key="importance_run_start").click().run()
    at = finish(at, "importance_run")
    assert not at.exception
    importance = at.session_state["importance_run"].result.importance
    assert importance.kind == "classifier"
    report = get_runner().record(at.session_state["finetune_job"]).result.report
    assert importance.rows == report.size and importance.accuracy == report.accuracy  # the job's own rows and labels
    assert any(f"accuracy {accuracy_text(report.accuracy, report.size)}" in text.value for text in at.text)
