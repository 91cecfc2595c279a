"""Every bad upload is rejected with its own reason; good ones load, whatever their delimiter or encoding."""
from __future__ import annotations

import io
import zipfile

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


def test_binary_bytes_are_not_a_csv():
    assert "binary file" in rejected(b"text,label\n\x00\x01\x02\x03,pos\n")


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
    assert "2 rows have no text" in message and "row 3, 5" in message


def test_missing_label():
    message = rejected(b"text,label\nfine,pos\nbad,\nok,pos\nworse,neg\nawful,neg\n")
    assert "1 row has no label" in message and "row 3" in message


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


def test_too_many_bytes(monkeypatch):
    monkeypatch.setattr(data, "MAX_BYTES", 100)
    assert "the limit is" in rejected(("text,label\n" + "word,pos\n" * 20).encode())


def test_ragged_rows():
    message = rejected(b"text,label\ngood,pos\nsad, really sad,neg\nok,pos\nbad,neg\n")
    assert "Row 3 has 3 fields but the header has 2" in message and "double quotes" in message


def test_short_row_is_ragged_too():
    assert "Row 4 has 1 fields" in rejected(b"text,label\na,pos\nb,neg\nlonely\nc,pos\nd,neg\n")


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
