"""Every bad upload is rejected with its own reason; good ones load, whatever their delimiter or encoding."""
from __future__ import annotations

import io
import tomllib
import zipfile

import numpy as np

import pytest

from albert_viz.finetune import data
from albert_viz.finetune.data import CsvError, load_csv

GOOD = "text,label\nI loved it,pos\nGreat film,pos\nAwful,neg\nBoring plot,neg\n"


def rejected(payload: bytes, **columns) -> str:
    with pytest.raises(CsvError) as error:
        load_csv(payload, **columns)
    return str(error.value)


def test_good_csv_loads_with_sorted_label_names():
    dataset = load_csv(GOOD.encode())
    assert dataset.texts[0] == "I loved it"
    assert dataset.label_names == ("neg", "pos")
    assert dataset.class_counts == {"neg": 2, "pos": 2}


def test_empty_file():
    assert "empty" in rejected(b"")
    assert "empty" in rejected(b"  \n\n")


def test_png_image_is_not_a_csv():
    assert "PNG image, not a CSV" in rejected(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))


def test_excel_or_zip_archive_is_not_a_csv():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", GOOD)
    assert "ZIP archive" in rejected(buffer.getvalue())


def test_nul_bytes_name_their_line():
    message = rejected(b"text,label\nfine,pos\nok,neg\nbro\x00ken,pos\nbad,neg\nwor\x00se,neg\n")
    assert message.startswith("Line 4 (and 1 more line) contains a NUL byte")


def test_undecodable_text_names_the_encodings_tried():
    message = rejected(b"text,label\n\x81\x8d\x90 caf\x9d,pos\nok,neg\n")
    assert "could not be decoded" in message and "UTF-8" in message and "Windows-1252" in message


def test_utf8_with_bom_and_latin1_are_read():
    assert load_csv(b"\xef\xbb\xbf" + GOOD.encode()).text_column == "text"  # BOM not glued to the header
    latin = load_csv("text,label\ncafé crème,pos\nbon,pos\nnul,neg\nmauvais,neg\n".encode("cp1252"))
    assert latin.texts[0] == "café crème"
    assert any("Windows-1252" in note for note in latin.notes)


def test_utf16_excel_export_is_read():
    assert load_csv(GOOD.encode("utf-16")).label_names == ("neg", "pos")


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters_are_sniffed(delimiter):
    dataset = load_csv(GOOD.replace(",", delimiter).encode())
    assert dataset.texts == ("I loved it", "Great film", "Awful", "Boring plot")
    assert any("not a comma" in note for note in dataset.notes)


def test_quoted_text_with_commas_and_newlines_is_one_field():
    dataset = load_csv(b'text,label\n"Long, slow, and dull",neg\n"Two\nlines",neg\nfun,pos\nwow,pos\n')
    assert dataset.texts[:2] == ("Long, slow, and dull", "Two\nlines")


def test_one_column_only():
    assert "only one column" in rejected(b"text\nhello\nworld\n")


def test_blank_text_names_the_rows():
    message = rejected(b"text,label\nfine,pos\n   ,neg\nok,pos\n,neg\n")
    assert "2 rows have no text" in message and "lines 3, 5" in message


def test_rows_without_a_label_are_left_out_and_counted():
    dataset = load_csv(b"text,label\nfine,pos\nbad,\nok,pos\nworse,neg\nawful,neg\n")
    assert dataset.texts == ("fine", "ok", "worse", "awful")
    assert any("1 row has no label" in note and "line 3" in note and "left out" in note for note in dataset.notes)


@pytest.mark.parametrize("missing", ["NaN", "nan", "n/a", "N/A", "None", "NULL", "NA"])
def test_labels_written_as_missing_values_are_missing_not_a_class(missing):
    payload = f"text,label\nfine,pos\nok,pos\nbad,neg\nawful,neg\nwho knows,{missing}\nno idea,{missing}\n"
    dataset = load_csv(payload.encode())
    assert dataset.label_names == ("neg", "pos")
    assert any("2 rows have no label" in note and "lines 6, 7" in note for note in dataset.notes)


def test_a_label_column_of_missing_values_is_refused():
    assert "No row has a label" in rejected(b"text,label\na,NaN\nb,\nc,None\n")


def test_one_class_only():
    assert "at least two different labels" in rejected(b"text,label\na,pos\nb,pos\nc,pos\n")


def test_class_with_a_single_row():
    message = rejected(b"text,label\na,pos\nb,pos\nc,neg\nd,neg\ne,meh\n")
    assert "'meh' has only 1 row" in message


def test_too_many_classes():
    rows = "".join(f"text {i},class{i % 25}\n" for i in range(50))
    message = rejected(("text,label\n" + rows).encode())
    assert "25 different labels" in message and f"limit is {data.MAX_CLASSES}" in message


def test_too_many_rows(monkeypatch):
    monkeypatch.setattr(data, "MAX_ROWS", 10)
    rows = "".join(f"text {i},{'ab'[i % 2]}\n" for i in range(11))
    assert "11 rows; the limit is 10" in rejected(("text,label\n" + rows).encode())


def test_too_many_bytes_says_the_size_in_the_limits_unit():
    payload = ("text,label\n" + "a short review of a film,pos\n" * 200_000).encode()  # 5.8 MB
    assert f"The file is 5.8 MB; the limit is {data.LIMIT_TEXT}." in rejected(payload)


def test_one_upload_limit_everywhere():
    """The browser lets a larger file through so that our check (and message) refuses it; the README agrees."""
    root = data.SAMPLES_DIR.parents[1]
    server = tomllib.loads((root / ".streamlit" / "config.toml").read_text())["server"]
    assert server["maxUploadSize"] * 1_000_000 > data.MAX_BYTES  # Streamlit's MB: 10**6 bytes in most browsers
    assert data.LIMIT_TEXT == "5 MB" and f"Uploads: {data.LIMIT_TEXT}" in (root / "README.md").read_text()


def test_a_file_without_a_header_row_is_detected_and_can_be_read_as_data():
    payload = b"I loved it,pos\nGreat film,pos\nAwful,neg\nBoring plot,neg\n"
    assert data.read_table(payload).header_looks_like_data
    dataset = load_csv(payload, first_row_is_data=True)
    assert dataset.texts[0] == "I loved it" and len(dataset) == 4
    assert (dataset.text_column, dataset.label_column) == ("column 1", "column 2")


@pytest.mark.parametrize("first_row", ["This film was a long and beautiful journey,pos", "great,1"])
def test_first_rows_that_look_like_examples(first_row):
    payload = f"{first_row}\nterrible,0\nfine,1\nbad,0\n".encode()
    assert data.read_table(payload).header_looks_like_data


def test_real_header_rows_are_not_flagged():
    assert not data.read_table(GOOD.encode()).header_looks_like_data
    for name in data.SAMPLES.values():
        assert not data.read_table((data.SAMPLES_DIR / name).read_bytes()).header_looks_like_data


def test_labels_differing_only_in_case_or_spacing_are_found_and_merged_on_request():
    payload = (b"text,label\na,positive\nb,positive\nc,Positive\nd,POSITIVE \ne,negative\nf,negative\n"
               b"g,very good\nh,very good\ni,Very  Good\n")
    labels = data.read_table(payload).frame["label"]
    assert data.label_variants(labels) == (("positive", "Positive", "POSITIVE"), ("very good", "Very  Good"))
    assert "'Positive', 'POSITIVE', 'Very Good' have only one row each" in rejected(payload)  # unmerged
    merged = load_csv(payload, merge_label_variants=True)
    assert merged.class_counts == {"negative": 2, "positive": 4, "very good": 3}
    assert any("differ only in capitals or spaces were merged" in note for note in merged.notes)


def test_ragged_rows():
    message = rejected(b"text,label\ngood,pos\nsad, really sad,neg\nok,pos\nbad,neg\n")
    assert "Line 3 has 3 fields but the header has 2" in message and "double quotes" in message


def test_short_row_is_ragged_too():
    assert "Line 4 has 1 fields" in rejected(b"text,label\na,pos\nb,neg\nlonely\nc,pos\nd,neg\n")


def test_a_quote_never_closed_is_named_as_such():
    message = rejected(b'text,label\na,pos\n"b is never closed,neg\nc,pos\nd,neg\n')
    assert message.startswith('A quote (") is never closed, starting on line 3')
    assert "double quotes" not in message


def test_a_quote_closed_lines_later_names_both_lines():
    message = rejected(b'text,label\na,pos\n"b, unclosed,neg\nc,pos\nd,"quoted" neg\ne,pos\n')
    assert 'A quote (") opens a text on line 3 and is not closed until line 5' in message


def test_a_cell_over_the_readers_field_limit_gets_our_message():
    payload = b'text,label\na,pos\nb,neg\n"' + b"word " * 30_000 + b'\n'
    message = rejected(payload)
    assert "starts on line 4 is longer than 131,072 characters" in message and "field limit" not in message


def test_duplicate_column_names():
    assert "'text' more than once" in rejected(b"text,text,label\na,b,pos\nc,d,neg\ne,f,pos\ng,h,neg\n")


def test_fractional_labels_look_like_regression():
    message = rejected(b"text,score\ngreat,4.5\nbad,1.5\nok,3.2\nmeh,2.7\n")
    assert "regression" in message and "4.5" in message


def test_whole_number_float_labels_become_classes():
    dataset = load_csv(b"text,label\na,1.0\nb,1.0\nc,0.0\nd,0\n")
    assert dataset.label_names == ("0", "1")


def test_columns_are_guessed_by_name_and_can_be_chosen():
    payload = b"id,review,sentiment\n1,Loved it,pos\n2,Nice,pos\n3,Hated it,neg\n4,Dull,neg\n"
    guessed = load_csv(payload)
    assert (guessed.text_column, guessed.label_column) == ("review", "sentiment")
    assert rejected(payload, text_column="review", label_column="review").startswith("The text column and the label")
    assert "There is no column 'nope'" in rejected(payload, text_column="nope")


def test_html_is_kept_as_plain_data():
    dataset = load_csv(b'text,label\n"<script>alert(1)</script>",neg\n<b>bold</b>,neg\nfine,pos\ngood,pos\n')
    assert dataset.texts[0] == "<script>alert(1)</script>"


def test_sample_csvs_load():
    for name, classes in [("movie_reviews.csv", 2), ("classroom.csv", 3)]:
        dataset = data.load_csv_file(data.SAMPLES_DIR / name)
        assert len(dataset.label_names) == classes


def test_truncation_advice_only_when_most_texts_are_cut():
    assert data.truncation_advice(np.array([10] * 6 + [100] * 4), max_length=64, limit=256) is None


def test_truncation_advice_offers_a_length_covering_most_texts_and_its_cost():
    lengths = np.array([40] * 10 + [120] * 90)
    advice = data.truncation_advice(lengths, max_length=64, limit=256)
    assert (advice.cut, advice.total, advice.suggested, advice.cut_at_suggested) == (90, 100, 120, 0)
    assert advice.time_ratio == pytest.approx((10 * 40 + 90 * 120) / (10 * 40 + 90 * 64))


def test_truncation_advice_at_the_models_limit_suggests_nothing_larger():
    advice = data.truncation_advice(np.array([600] * 5), max_length=256, limit=256)
    assert advice.suggested == 256 and advice.time_ratio == 1.0


def test_a_csv_saved_as_utf16_without_a_marker_is_read_with_a_note():
    table = data.read_table("text,label\ngreat film,pos\nawful film,neg\n".encode("utf-16-le"))
    assert list(table.frame.columns) == ["text", "label"] and table.frame.shape == (2, 2)
    assert any("UTF-16" in note for note in table.notes)
