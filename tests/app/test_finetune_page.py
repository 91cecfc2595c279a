"""The fine-tuning page in AppTest: upload a CSV, train a few steps, see the results; bad files get a clear reason."""
from __future__ import annotations

import time

import numpy as np

PAGE = "pages/finetune.py"
CSV = ("text,label\n" + "".join(f"good great movie {i},pos\nbad boring movie {i},neg\n" for i in range(10))).encode()


def upload(at, payload: bytes, name: str = "reviews.csv"):
    at.get("file_uploader")[0].set_value((name, payload, "text/csv"))
    return at.run()


def shown(elements) -> list[str]:
    """What a student reads: the Markdown with its escaping backslashes removed."""
    return [element.value.replace("\\", "") for element in elements]


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
    try_box = next(box for box in at.text_input if box.key.startswith("ft_try_"))
    assert try_box.value in {line.split(",")[0] for line in CSV.decode().splitlines()[1:]}  # a row of this data
    assert any("fine-tuned model" in button.proto.label for button in at.get("download_button"))
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


def test_settings_survive_a_change_of_data_source(open_page, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    classroom = next(option for option in at.radio(key="ft_source").options if option.startswith("Classroom"))
    at.radio(key="ft_source").set_value(classroom).run()
    at.number_input(key="ft_max_steps").set_value(30)
    at.number_input(key="ft_epochs").set_value(2.0).run()
    at.radio(key="ft_source").set_value("Upload a CSV").run()  # no file yet: the settings are not drawn
    at = upload(at, CSV)
    assert at.number_input(key="ft_max_steps").value == 30 and at.number_input(key="ft_epochs").value == 2.0


def test_most_texts_cut_warns_and_offers_a_larger_maximum_with_its_cost(open_page, tiny_spec):
    long_texts = ("text,label\n" + "".join(f"{'a long and winding review of a film ' * 3}{i},{'ab'[i % 2]}\n"
                                           for i in range(20))).encode()
    at = upload(open_page(PAGE, tiny_spec), long_texts)
    at.number_input(key="ft_max_length").set_value(16).run()
    warning = next(w.value for w in at.warning if "longer than the maximum length of 16 tokens" in w.value)
    assert "20 of 20 texts (100%)" in warning and "as long" in warning
    at.button(key="ft_longer").click().run()
    assert at.number_input(key="ft_max_length").value > 16
    assert not any("longer than the maximum length" in w.value for w in at.warning)


def test_an_oversized_upload_is_named_refused_and_the_old_file_is_gone(open_page, tiny_spec):
    at = upload(open_page(PAGE, tiny_spec), CSV, "small.csv")
    assert any("small.csv" in caption for caption in shown(at.caption)) and at.dataframe
    big = b"text,label\n" + b"a review that goes on and on,pos\nanother one that does too,neg\n" * 87_000  # 5.5 MB
    at = upload(at, big, "big.csv")
    assert any("big.csv" in error and "5.5 MB" in error and "limit is 5 MB" in error for error in shown(at.error))
    assert not at.dataframe and not any("small.csv" in caption for caption in shown(at.caption))


def test_the_upload_limit_is_said_once_in_the_label(open_page, tiny_spec):
    at = open_page(PAGE, tiny_spec)
    assert "(at most 5 MB)" in at.get("file_uploader")[0].proto.label


def test_a_file_without_a_header_row_is_detected_and_can_be_read_as_data(open_page, tiny_spec):
    headerless = b"".join(f"good great movie {i},pos\nbad boring movie {i},neg\n".encode() for i in range(10))
    at = upload(open_page(PAGE, tiny_spec), headerless)
    assert any("looks like an example, not column names" in warning for warning in shown(at.warning))
    next(box for box in at.checkbox if box.key.startswith("ft_no_header_")).check().run()
    assert not at.exception and not at.error
    assert next(box for box in at.selectbox if box.label == "Text column").value == "column 1"
    assert "20 rows" in " ".join(shown(at.caption))


def test_labels_differing_in_case_or_spacing_can_be_merged(open_page, tiny_spec):
    payload = (CSV.decode() + "fine film,Pos\nawful film,NEG \n").encode()
    at = upload(open_page(PAGE, tiny_spec), payload)
    assert any("differ only in capitals or spaces" in warning for warning in shown(at.warning))
    assert any("only one row each" in error for error in shown(at.error))  # 'Pos' and 'NEG' alone
    next(box for box in at.checkbox if box.key.startswith("ft_merge_")).check().run()
    assert not at.error
    assert set(at.dataframe[0].value["label"]) == {"pos", "neg"}


def test_missing_labels_are_left_out_and_counted(open_page, tiny_spec):
    at = upload(open_page(PAGE, tiny_spec), CSV + b"no idea,NaN\nwho knows,n/a\n")
    assert not at.error
    assert any("2 rows have no label" in info and "left out" in info for info in shown(at.info))


def test_before_and_after_is_the_side_by_side_view_of_the_base_and_the_fine_tuned_model(open_page, plotly_chart,
                                                                                       tiny_spec):
    from albert_viz.model.capture import capture
    from albert_viz.model.loading import ModelSpec, load_model

    at = upload(open_page(PAGE, tiny_spec), CSV)
    at.number_input(key="ft_max_steps").set_value(3)
    at.button(key="ft_start").click()
    at = wait_for_results(at.run())
    at.text_input(key="ft_compare_text").input("good great movie").run()
    at.slider(key="ft_compare_layer").set_value(2)
    at.slider(key="ft_compare_head").set_value(1).run()
    assert not at.exception
    tuned_folder = at.session_state["finetune_tuned"][1].spec.location
    before = capture(load_model(tiny_spec), "good great movie")
    after = capture(load_model(ModelSpec("local", tuned_folder, "cpu")), "good great movie")
    charts = [plotly_chart(at, i) for i in range(len(at.get("plotly_chart")))]
    titles = {chart["layout"].get("title", {}).get("text"): index for index, chart in enumerate(charts)}
    difference = charts[titles["After minus before: layer 2, head 1"]]
    np.testing.assert_allclose(difference["data"][0]["z"], after.attentions[2, 1] - before.attentions[2, 1], atol=1e-6)
    assert any(title and title.startswith("Which heads changed most") for title in titles)  # its range follows
    assert at.table[0].value.shape == (5, 3)  # the five heads that changed most, as on the Explain page


def test_epochs_read_as_one_decimal_not_two(open_page, tiny_spec):
    at = upload(open_page(PAGE, tiny_spec), CSV)
    assert at.number_input(key="ft_epochs").proto.format == "%.1f"  # "3.0", not "3.00"


def test_results_are_titled_with_their_job_and_fold_away_under_other_data(open_page, tiny_spec):
    at = upload(open_page(PAGE, tiny_spec), CSV, "my_reviews.csv")
    at.number_input(key="ft_max_steps").set_value(3)
    at.number_input(key="ft_max_length").set_value(16)
    at.button(key="ft_start").click()
    at = wait_for_results(at.run())
    assert [header.value for header in at.header] == ["Results"]
    title = next(caption for caption in shown(at.caption) if caption.startswith("Job "))
    assert "“my_reviews.csv” (20 rows: 16 to train on, 4 to validate)" in title and "max length 16 tokens" in title
    said = " ".join(shown(at.caption))
    assert "of 4 rows (95% interval" in said and "in all: waiting" in said and ", training " in said
    assert any("measured on only 4 validation rows" in warning for warning in shown(at.warning))

    other = CSV.replace(b"great", b"superb")
    at = upload(at, other, "new.csv")
    assert [header.value for header in at.header] == ["Results of an earlier job"]
    assert "my_reviews.csv" in at.expander[-1].label.replace("\\", "") and not at.expander[-1].proto.expanded
    at = upload(at, b"text,label\na,pos\nb,pos\n", "broken_onelabel.csv")  # refused: the old results stay folded
    assert [header.value for header in at.header] == ["Results of an earlier job"]
    assert any("no usable data is chosen above" in info for info in shown(at.info))
