"""Durable jobs on the fine-tuning page: the job id in the URL, a second tab reaching it, one job per session, the
teacher's view."""
from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP
from tests.app.test_finetune_page import CSV, upload

PAGE = "pages/finetune.py"


def start_job(open_page, spec, steps: int) -> AppTest:
    at = upload(open_page(PAGE, spec), CSV)
    at.number_input(key="ft_max_steps").set_value(steps)
    at.number_input(key="ft_max_length").set_value(16)
    at.text_input(key="ft_owner").set_value("Ada <b>L</b>")
    at.button(key="ft_start").click()
    return at.run()


def open_by_url(job_id: str, spec) -> AppTest:
    """A new browser session (reloaded tab, another device) that only has the page's address."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["model_spec"] = spec
    at.query_params["job"] = job_id
    at.run()
    return at.switch_page(PAGE).run()


def test_a_running_job_is_in_the_url_and_blocks_a_second_start(open_page, tiny_spec):
    at = start_job(open_page, tiny_spec, steps=2000)
    job_id = at.query_params["job"]
    assert job_id and at.session_state["finetune_job"] == job_id
    assert at.button(key="ft_start").disabled
    assert any("cannot start another yet" in caption.value for caption in at.caption)
    at.button(key="ft_cancel").click().run()


def test_a_new_session_opens_the_job_by_its_url_and_sees_its_results(open_page, tiny_spec):
    job_id = start_job(open_page, tiny_spec, steps=3).query_params["job"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        second = open_by_url(job_id, tiny_spec)
        if any(metric.label == "Accuracy" for metric in second.metric):
            break
        time.sleep(1)
    assert not second.exception and not second.error, [error.value for error in second.error]
    assert any(metric.label == "Accuracy" for metric in second.metric)
    assert any("fine-tuned model" in button.proto.label for button in second.get("download_button"))


def test_an_unknown_job_in_the_url_gets_a_clear_message(tiny_spec):
    at = open_by_url("0123456789abcdef", tiny_spec)
    assert any("does not know" in warning.value for warning in at.warning) and not at.exception


def test_the_teacher_sees_the_class_jobs_only_with_the_passphrase(open_page, tiny_spec, monkeypatch):
    monkeypatch.setenv("ALBERT_VIZ_TEACHER_PASSPHRASE", "owl")
    at = start_job(open_page, tiny_spec, steps=2000)
    at.text_input(key="ft_teacher_passphrase").set_value("cat").run()
    assert any("not the teacher's passphrase" in error.value for error in at.error)
    at.text_input(key="ft_teacher_passphrase").set_value("owl").run()
    table = next(frame.value for frame in at.dataframe if "student" in frame.value.columns)
    assert "Ada <b>L</b>" in list(table["student"])  # shown as typed, never as HTML
    job_id = at.query_params["job"]
    at.selectbox(key="ft_teacher_job").set_value(job_id)
    at.button(key="ft_teacher_cancel").click().run()
    deadline = time.monotonic() + 60
    while not at.warning and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    assert any("Cancelled by the teacher" in warning.value for warning in at.warning)


def test_without_a_passphrase_there_is_no_teacher_view(open_page, tiny_spec, monkeypatch):
    monkeypatch.delenv("ALBERT_VIZ_TEACHER_PASSPHRASE", raising=False)
    at = open_page(PAGE, tiny_spec)
    assert not [box for box in at.text_input if box.key == "ft_teacher_passphrase"]
