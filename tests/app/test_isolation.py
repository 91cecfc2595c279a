"""Two students on one server: each AppTest is its own Streamlit session, sharing the process's caches.

One student's model choice, sentence, uploaded data and fine-tuning job must never show up in, or be
changed by, the other's session.
"""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from test_finetune_page import upload, wait_for_results

ATTENTION, FINETUNE = "pages/attention.py", "pages/finetune.py"
# AppTest drops app.py's sidebar on reruns of a multipage app, so the model picker is driven on its own.
SIDEBAR_ONLY = "from albert_viz.ui.widgets import model_sidebar\nmodel_sidebar()"
CSV_A = ("text,label\n" + "".join(f"good great movie {i},pos\nbad boring movie {i},neg\n" for i in range(10))).encode()
CSV_B = ("text,label\n" + "".join(f"the cat sat {i},cat\nthe dog ran {i},dog\n" for i in range(10))).encode()


def sidebar_session(spec=None) -> AppTest:
    at = AppTest.from_string(SIDEBAR_ONLY, default_timeout=120)
    if spec is not None:
        at.session_state["model_spec"] = spec
    return at.run()


def tick_text(at, plotly_chart) -> list[str]:
    return plotly_chart(at)["layout"]["xaxis"]["ticktext"]


def preview_texts(at) -> list[str]:
    return list(at.dataframe[0].value["text"])


def test_a_model_loaded_by_one_student_is_not_the_other_students_model(tiny_spec):
    first, second = sidebar_session(tiny_spec), sidebar_session(tiny_spec)
    first.sidebar.radio(key="model_source").set_value("random").run()
    first.sidebar.button[0].click().run()
    assert first.session_state["model_spec"].source == "random"
    second.run()
    assert second.session_state["model_spec"] == tiny_spec
    assert second.sidebar.radio(key="model_source").value == "local"
    assert not second.sidebar.warning  # the random model's "noise, not language" note is the first student's
    second.sidebar.button[0].click().run()  # the second student reloads their own choice
    assert first.run().session_state["model_spec"].source == "random"


def test_a_sentence_typed_by_one_student_does_not_change_the_others_heatmap(open_page, plotly_chart, tiny_spec):
    first, second = open_page(ATTENTION, tiny_spec), open_page(ATTENTION, tiny_spec)
    before = tick_text(second, plotly_chart)
    first.text_input(key="_widget_sentence").input("the cat is tired").run()
    assert "cat" in tick_text(first, plotly_chart)
    assert tick_text(second.run(), plotly_chart) == before
    second.text_input(key="_widget_sentence").input("a dog ran home").run()
    assert "cat" in tick_text(first.run(), plotly_chart)
    assert "dog" not in tick_text(first, plotly_chart)


def test_one_students_upload_is_invisible_to_the_other(open_page, tiny_spec):
    first, second = open_page(FINETUNE, tiny_spec), open_page(FINETUNE, tiny_spec)
    first = upload(first, CSV_A)
    second.run()
    assert second.get("file_uploader")[0].value is None
    assert not second.dataframe and any("Upload a CSV" in info.value for info in second.info)
    second = upload(second, CSV_B)
    assert preview_texts(second)[0] == "the cat sat 0"
    assert preview_texts(first.run())[0] == "good great movie 0"


def test_one_students_job_and_results_are_not_shown_to_the_other(open_page, tiny_spec):
    first, second = upload(open_page(FINETUNE, tiny_spec), CSV_A), upload(open_page(FINETUNE, tiny_spec), CSV_B)
    first.number_input(key="ft_max_steps").set_value(3)
    first.number_input(key="ft_max_length").set_value(16)
    first.button(key="ft_start").click()
    first.run()
    second.run()
    assert "finetune_job" not in second.session_state
    assert not second.get("progress") and all(button.key != "ft_cancel" for button in second.button)
    wait_for_results(first)
    assert any(metric.label == "Accuracy" for metric in first.metric)
    second.run()
    assert not second.metric and "finetune_job" not in second.session_state
    assert not second.exception and preview_texts(second)[0] == "the cat sat 0"
