"""The fine-tuning page in AppTest: upload a CSV, train a few steps, see the results; bad files get a clear reason."""
from __future__ import annotations

import time

PAGE = "pages/finetune.py"
CSV = ("text,label\n" + "".join(f"good great movie {i},pos\nbad boring movie {i},neg\n" for i in range(10))).encode()


def upload(at, payload: bytes, name: str = "reviews.csv"):
    at.get("file_uploader")[0].set_value((name, payload, "text/csv"))
    return at.run()


def wait_for_results(at, timeout_s: float = 90):
    """Rerun the page (as the live fragment would) until the job has finished."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        at.run()
        if any(metric.label == "Accuracy" for metric in at.metric) or at.error:
            return at
        time.sleep(0.5)
    raise AssertionError("fine-tuning did not finish in time")


def test_uploaded_csv_trains_and_shows_results(open_page, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    at = upload(at, CSV)
    assert not at.exception and not at.error
    assert next(box for box in at.selectbox if box.label == "Text column").value == "text"
    at.number_input(key="ft_max_steps").set_value(3)
    at.number_input(key="ft_max_length").set_value(16)
    at.button(key="ft_start").click()
    at = wait_for_results(at.run())
    assert not at.exception and not at.error, [e.value for e in at.error]
    accuracy = next(metric for metric in at.metric if metric.label == "Accuracy")
    assert accuracy.value.endswith("%")
    chart_titles = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert any("Confusion matrix" in spec for spec in chart_titles)
    assert any(metric.label == "Predicted label" and metric.value in ("pos", "neg") for metric in at.metric)
    assert at.get("download_button")
    at.button(key="ft_use").click().run()
    assert at.session_state["model_spec"].location.endswith("model") and not at.exception


def test_a_bad_upload_shows_its_reason_not_a_traceback(open_page, tiny_spec):
    at = upload(open_page(PAGE, tiny_spec), b"text,label\na,pos\nb,pos\nc,pos\n")
    assert not at.exception
    assert any("at least two different labels" in error.value for error in at.error)
    assert all(button.key != "ft_start" for button in at.button)


def test_an_image_upload_is_refused(open_page, tiny_spec):
    at = upload(open_page(PAGE, tiny_spec), b"\x89PNG\r\n\x1a\n\x00\x00", "photo.csv")
    assert any("PNG image, not a CSV" in error.value for error in at.error)


def test_cancel_stops_the_job_and_the_page_stays_usable(open_page, tiny_spec):
    at = upload(open_page(PAGE, tiny_spec), CSV)
    at.number_input(key="ft_epochs").set_value(20.0)
    at.button(key="ft_start").click()
    at.run()
    at.button(key="ft_cancel").click()
    deadline = time.monotonic() + 30
    while not at.warning and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    assert any("cancelled" in warning.value for warning in at.warning)
    assert not at.exception and not at.button(key="ft_start").disabled


def test_html_in_the_data_is_shown_as_text(open_page, tiny_spec):
    payload = b'text,label\n"<script>alert(1)</script> x",<b>a</b>\n<img src=x> y,<b>a</b>\nz,c\nw,c\n'
    at = upload(open_page(PAGE, tiny_spec), payload)
    assert not at.exception and not at.error
    assert all("<script" not in element.value and "<img" not in element.value for element in at.markdown)
    preview = at.dataframe[0].value
    assert preview["text"][0] == "<script>alert(1)</script> x"
