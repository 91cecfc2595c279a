"""An uploaded CSV -> a validated, frozen LabelledDataset, or one CsvError that says exactly what is wrong.

Nothing is half-loaded: every check runs before a dataset exists. The checks run from the
bytes up (size, binary, encoding, delimiter, shape, header) to the columns (blank text,
missing labels, numeric labels, class counts), so the first message is the most basic problem.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "datasets"
SAMPLES = {  # what the page offers without an upload
    "Movie reviews: 2,000 Rotten Tomatoes snippets, positive / negative": "movie_reviews.csv",
    "Classroom: 36 short sentences, animals / food / weather": "classroom.csv",
}
MAX_BYTES = 5 * 1024 * 1024  # keep in step with server.maxUploadSize in .streamlit/config.toml
MAX_ROWS = 5_000
MAX_CLASSES = 20
MIN_ROWS_PER_CLASS = 2  # one to train on, one to check against
DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
TEXT_NAMES = ("text", "sentence", "review", "content", "message", "comment", "body", "tweet", "utterance")
LABEL_NAMES = ("label", "labels", "class", "category", "sentiment", "target", "y", "tag", "intent")

# Magic numbers of files people upload by mistake.
SIGNATURES = {
    b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
    b"%PDF": "a PDF document", b"PK\x03\x04": "a ZIP archive (or an Excel .xlsx / Word .docx file)",
    b"\x1f\x8b": "a gzip archive", b"7z\xbc\xaf": "a 7-Zip archive", b"Rar!": "a RAR archive",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls / Word .doc file", b"BM": None, b"RIFF": "a RIFF (audio/video) file",
    b"\x7fELF": "a program", b"MZ": None,
}
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CsvError(ValueError):
    """The upload cannot be used; the message says why and what to do, for the user."""


@dataclass(frozen=True)
class RawTable:
    """A parsed CSV before any column is chosen: every cell is a string, blanks are ''."""

    frame: pd.DataFrame
    delimiter: str
    encoding: str
    notes: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.frame.columns)


@dataclass(frozen=True)
class LabelledDataset:
    """Texts and their string labels; label_names is sorted, label_ids index into it."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    label_names: tuple[str, ...]
    text_column: str
    label_column: str
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def label_ids(self) -> tuple[int, ...]:
        index = {name: i for i, name in enumerate(self.label_names)}
        return tuple(index[label] for label in self.labels)

    @property
    def class_counts(self) -> dict[str, int]:
        counts = pd.Series(self.labels).value_counts()
        return {name: int(counts[name]) for name in self.label_names}

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"text": self.texts, "label": self.labels})


def load_csv(data: bytes, text_column: str | None = None, label_column: str | None = None) -> LabelledDataset:
    """Bytes of a CSV -> dataset; columns are guessed when not given."""
    table = read_table(data)
    guessed_text, guessed_label = guess_columns(table)
    return build_dataset(table, text_column or guessed_text, label_column or guessed_label)


def load_csv_file(path: str | Path, text_column: str | None = None, label_column: str | None = None) -> LabelledDataset:
    path = Path(path)
    if not path.is_file():
        raise CsvError(f"There is no file at {path}.")
    return load_csv(path.read_bytes(), text_column, label_column)


def read_table(data: bytes) -> RawTable:
    """Check the bytes and parse them; raise CsvError on the first problem found."""
    _check_size(data)
    _check_not_binary(data)
    text, encoding, notes = _decode(data)
    delimiter = _sniff_delimiter(text)
    rows = _check_shape(text, delimiter)
    frame = pd.DataFrame(rows[1:], columns=[name.strip() for name in rows[0]], dtype=str)
    if delimiter != ",":
        notes += (f"The columns are separated by a {DELIMITER_NAMES[delimiter]}, not a comma; read them that way.",)
    return RawTable(frame=frame, delimiter=delimiter, encoding=encoding, notes=notes)


def _check_size(data: bytes) -> None:
    if not data.strip():
        raise CsvError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise CsvError(f"The file is {len(data) / 2**20:.1f} MB; the limit is {MAX_BYTES / 2**20:.0f} MB. "
                       f"Use a sample of at most {MAX_ROWS:,} rows.")


def _check_not_binary(data: bytes) -> None:
    head = data[:16]
    for signature, kind in SIGNATURES.items():
        if head.startswith(signature) and kind:
            raise CsvError(f"This is {kind}, not a CSV file. Save the table as CSV (comma-separated values) and upload that.")
    if b"\x00" in data[:4096] and not _utf16_bom(data):
        raise CsvError("This is a binary file, not a CSV file. Save the table as CSV (comma-separated values) and upload that.")


def _utf16_bom(data: bytes) -> bool:
    return data.startswith((b"\xff\xfe", b"\xfe\xff"))


def _decode(data: bytes) -> tuple[str, str, tuple[str, ...]]:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 with a note; else say what was tried."""
    if _utf16_bom(data):
        try:
            return data.decode("utf-16"), "utf-16", ()
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), "utf-8", ()
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    if text is None or CONTROL_CHARACTERS.search(text):
        raise CsvError("The file's text could not be decoded: it is not UTF-8, UTF-8 with a BOM, UTF-16 or "
                       "Windows-1252 (Latin-1). In your spreadsheet choose 'Save as… CSV UTF-8' and upload again.")
    note = "The file is not UTF-8; it was read as Windows-1252 (Latin-1). Check that accented letters look right."
    return text, "cp1252", (note,)


def _sniff_delimiter(text: str) -> str:
    """The delimiter the header and first rows agree on; a comma when the sniffer cannot tell."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _check_shape(text: str, delimiter: str) -> list[list[str]]:
    """Every non-blank row has as many fields as the header, column names are distinct, rows within the limit."""
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise CsvError(f"The file is not a readable CSV ({error}).")
    if not rows:
        raise CsvError("The file is empty: it has no values, only separators.")
    header = [name.strip() for name in rows[0]]
    if len(header) < 2:
        raise CsvError("The file has only one column. It needs a text column and a label column, "
                       "with a header row such as 'text,label'.")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise CsvError(f"The header names the column {duplicates[0]!r} more than once; give every column its own name.")
    if any(not name for name in header):
        raise CsvError("A column in the header row has no name; give every column a name such as 'text' and 'label'.")
    _check_ragged(rows, len(header), delimiter)
    if len(rows) < 2:
        raise CsvError("The file has a header row but no data rows.")
    if len(rows) - 1 > MAX_ROWS:
        raise CsvError(f"The file has {len(rows) - 1:,} rows; the limit is {MAX_ROWS:,}. Use a smaller sample.")
    return rows


def _check_ragged(rows: list[list[str]], width: int, delimiter: str) -> None:
    bad = [(number, len(row)) for number, row in enumerate(rows[1:], start=2) if len(row) != width]
    if bad:
        number, fields = bad[0]
        more = f" ({len(bad)} rows like this in all)" if len(bad) > 1 else ""
        raise CsvError(f"Row {number} has {fields} fields but the header has {width}{more}. If a text contains a "
                       f"{DELIMITER_NAMES[delimiter]}, put the text in double quotes.")


def guess_columns(table: RawTable) -> tuple[str, str]:
    """The text column (by name, else longest cells) and the label column (by name, else fewest distinct values)."""
    columns = list(table.columns)
    by_name = {name.lower(): name for name in columns}
    text = next((by_name[n] for n in TEXT_NAMES if n in by_name), None)
    if text is None:
        text = max(columns, key=lambda c: table.frame[c].str.len().mean())
    rest = [c for c in columns if c != text]
    label = next((by_name[n] for n in LABEL_NAMES if n in by_name and by_name[n] != text), None)
    if label is None:
        label = min(rest, key=lambda c: table.frame[c].nunique())
    return text, label


def build_dataset(table: RawTable, text_column: str, label_column: str) -> LabelledDataset:
    """Check the chosen columns and freeze them into a dataset."""
    for column in (text_column, label_column):
        if column not in table.columns:
            raise CsvError(f"There is no column {column!r}; the columns are {', '.join(map(repr, table.columns))}.")
    if text_column == label_column:
        raise CsvError("The text column and the label column must be different columns.")
    texts = table.frame[text_column].str.strip()
    labels = table.frame[label_column].str.strip()
    _check_present(texts, "text", text_column)
    _check_present(labels, "label", label_column)
    labels, notes = _normalise_numeric_labels(labels)
    _check_classes(labels, label_column)
    return LabelledDataset(texts=tuple(texts), labels=tuple(labels), label_names=tuple(sorted(labels.unique())),
                           text_column=text_column, label_column=label_column, notes=table.notes + notes)


def _rows_text(positions) -> str:
    """Spreadsheet row numbers (the header is row 1) of the first few offending rows."""
    numbers = [str(p + 2) for p in positions[:5]]
    return ", ".join(numbers) + (f" and {len(positions) - 5} more" if len(positions) > 5 else "")


def _check_present(values: pd.Series, what: str, column: str) -> None:
    blank = [i for i, value in enumerate(values) if not value]
    if blank:
        count = "1 row has" if len(blank) == 1 else f"{len(blank)} rows have"
        raise CsvError(f"{count} no {what} in column {column!r} (row {_rows_text(blank)}). "
                       "Fill them in or delete those rows.")


def _normalise_numeric_labels(labels: pd.Series) -> tuple[pd.Series, tuple[str, ...]]:
    """Whole-number labels such as 1.0 become '1'; fractional ones mean a score, which we cannot classify."""
    numbers = pd.to_numeric(labels, errors="coerce")
    if numbers.isna().any():
        return labels, ()
    fractional = numbers[numbers != numbers.round()]
    if len(fractional):
        examples = ", ".join(dict.fromkeys(labels[fractional.index].tolist()[:3]))
        raise CsvError(f"The labels are numbers with fractions ({examples}, …): that looks like a score to predict "
                       "(regression), but this page learns categories. Use labels such as 'positive'/'negative' or 0/1.")
    whole = numbers.astype("int64").astype(str)
    changed = (whole != labels).any()
    return whole, (("Labels such as '1.0' were read as whole numbers ('1').",) if changed else ())


def _check_classes(labels: pd.Series, column: str) -> None:
    counts = labels.value_counts()
    if len(counts) < 2:
        raise CsvError(f"Every row has the label {counts.index[0]!r}. Fine-tuning needs at least two different labels.")
    if len(counts) > MAX_CLASSES:
        raise CsvError(f"Column {column!r} has {len(counts)} different labels; the limit is {MAX_CLASSES}. "
                       "Is it the right label column?")
    rare = counts[counts < MIN_ROWS_PER_CLASS]
    if len(rare):
        names = ", ".join(repr(name) for name in rare.index[:5])
        raise CsvError(f"The label {names} has only {int(rare.iloc[0])} row; every label needs at least "
                       f"{MIN_ROWS_PER_CLASS} rows (one to learn from, one to check against)."
                       if len(rare) == 1 else
                       f"The labels {names} have only one row each; every label needs at least "
                       f"{MIN_ROWS_PER_CLASS} rows (one to learn from, one to check against).")
