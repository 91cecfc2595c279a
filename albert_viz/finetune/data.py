"""An uploaded CSV -> a validated, frozen LabelledDataset, or one CsvError that says exactly what is wrong.

Nothing is half-loaded: every check runs before a dataset exists. The checks run from the
bytes up (size, NUL bytes, encoding, delimiter, quotes, shape, header) to the columns (blank text,
missing labels, numeric labels, class counts), so the first message is the most basic problem.
Messages name lines of the file (line 1 is the first line, as in a text editor) and quote at most
a short excerpt of a cell.
"""
from __future__ import annotations

import hashlib

import csv
import io
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from albert_viz.assets import DATASETS_DIR
from albert_viz.model.text_limits import excerpt

SAMPLES_DIR = DATASETS_DIR
SAMPLES = {  # what the page offers without an upload
    "Movie reviews: 2,000 Rotten Tomatoes snippets, positive / negative": "movie_reviews.csv",
    "Classroom: 36 short sentences, animals / food / weather": "classroom.csv",
}
# One limit, written one way everywhere (page, README): 5 MB = 5,000,000 bytes, the unit file managers show.
# .streamlit/config.toml lets the browser send larger files so that this check, not the uploader's small
# red chip, tells the user why a file was refused.
MAX_BYTES = 5_000_000
MAX_ROWS = 5_000
MAX_CLASSES = 20
MIN_ROWS_PER_CLASS = 2  # one to train on, one to check against
DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
TEXT_NAMES = ("text", "sentence", "review", "content", "message", "comment", "body", "tweet", "utterance")
# Cells that spreadsheets and pandas write for "no value": a label like this is a missing label, not a class.
MISSING_LABELS = frozenset({"nan", "n/a", "na", "none", "null", "<na>", "#n/a", "#na"})
HEADER_CELL_CHARS = 40  # a column name is short; a longer first-row cell is an example
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
    """A parsed CSV before any column is chosen: every cell is a string, blanks are ''.

    lines holds the file line each data row starts on, for messages; header_looks_like_data says the
    first row was read as column names but looks like an example (see first_row_is_data).
    """

    frame: pd.DataFrame
    delimiter: str
    encoding: str
    notes: tuple[str, ...]
    lines: tuple[int, ...] = ()
    header_looks_like_data: bool = False
    first_row: tuple[str, ...] = ()

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
    name: str = ""  # where the rows came from (a file or a sample's name), for titles; not in the fingerprint

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

    @property
    def fingerprint(self) -> str:
        """A short digest of the rows (texts and labels, in order): the same data gives the same fingerprint."""
        digest = hashlib.sha256()
        for text, label in zip(self.texts, self.labels):
            digest.update(f"{len(text)}:{text}{len(label)}:{label}".encode())
        return digest.hexdigest()[:16]


def load_csv(data: bytes, text_column: str | None = None, label_column: str | None = None, *,
             first_row_is_data: bool = False, merge_label_variants: bool = False) -> LabelledDataset:
    """Bytes of a CSV -> dataset; columns are guessed when not given."""
    table = read_table(data, first_row_is_data=first_row_is_data)
    guessed_text, guessed_label = guess_columns(table)
    return build_dataset(table, text_column or guessed_text, label_column or guessed_label,
                         merge_label_variants=merge_label_variants)


def load_csv_file(path: str | Path, text_column: str | None = None, label_column: str | None = None) -> LabelledDataset:
    path = Path(path)
    if not path.is_file():
        raise CsvError(f"There is no file at {path}.")
    return replace(load_csv(path.read_bytes(), text_column, label_column), name=path.name)


def size_text(size_bytes: int) -> str:
    """Bytes in the unit the limit is given in: '5 MB', '5.3 MB' (1 MB = 1,000,000 bytes)."""
    megabytes = size_bytes / 1_000_000
    return f"{megabytes:.0f} MB" if megabytes == round(megabytes) else f"{megabytes:.1f} MB"


LIMIT_TEXT = size_text(MAX_BYTES)


def check_size(data: bytes) -> None:
    """Raise CsvError for an empty file or one over MAX_BYTES (cheap: call it before hashing or parsing)."""
    if not data.strip():
        raise CsvError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise CsvError(f"The file is {size_text(len(data))}; the limit is {LIMIT_TEXT}. "
                       f"Use a sample of at most {MAX_ROWS:,} rows.")


def read_table(data: bytes, first_row_is_data: bool = False) -> RawTable:
    """Check the bytes and parse them; raise CsvError on the first problem found.

    With first_row_is_data the file has no header row: every row is an example and the columns are
    called 'column 1', 'column 2', ...
    """
    check_size(data)
    _check_not_binary(data)
    text, encoding, notes = _decode(data)
    delimiter = _sniff_delimiter(text)
    lines, rows = _check_shape(text, delimiter, first_row_is_data)
    if first_row_is_data:
        header = [f"column {number}" for number in range(1, len(rows[0]) + 1)]
        frame = pd.DataFrame(rows, columns=header, dtype=str)
        notes += ("The first row was read as an example, not as column names; the columns are called "
                  f"{', '.join(map(repr, header))}.",)
        table_lines, looks_like_data = lines, False
    else:
        frame = pd.DataFrame(rows[1:], columns=[name.strip() for name in rows[0]], dtype=str)
        table_lines, looks_like_data = lines[1:], _header_looks_like_data(rows)
    if delimiter != ",":
        notes += (f"The columns are separated by a {DELIMITER_NAMES[delimiter]}, not a comma; read them that way.",)
    return RawTable(frame=frame, delimiter=delimiter, encoding=encoding, notes=notes, lines=tuple(table_lines),
                    header_looks_like_data=looks_like_data, first_row=tuple(rows[0]))


def _check_not_binary(data: bytes) -> None:
    head = data[:16]
    for signature, kind in SIGNATURES.items():
        if head.startswith(signature) and kind:
            raise CsvError(f"This is {kind}, not a CSV file. Save the table as CSV (comma-separated values) and upload that.")
    if b"\x00" in data and not _utf16_bom(data) and _unmarked_utf16(data) is None:
        lines = data.split(b"\n")
        with_nul = [number for number, line in enumerate(lines, start=1) if b"\x00" in line]
        others = len(with_nul) - 1
        also = f" (and {others:,} more line{'s' if others > 1 else ''})" if others else ""
        raise CsvError(f"Line {with_nul[0]}{also} contains a NUL byte (character code 0), which a CSV file never "
                       "holds: the file is damaged, or it is not text at all. Open it in a spreadsheet or text "
                       "editor, save it again as CSV (UTF-8), and upload that.")


def _utf16_bom(data: bytes) -> bool:
    return data.startswith((b"\xff\xfe", b"\xfe\xff"))


def _unmarked_utf16(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the bytes are plain-Latin UTF-16 saved without a BOM (every other byte 0)."""
    sample = data[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return None
    odd_zero = sample[1::2].count(0) / (len(sample) // 2)  # [high bytes of little-endian text]
    even_zero = sample[0::2].count(0) / (len(sample) // 2)
    if odd_zero > 0.9 and even_zero == 0:
        return "utf-16-le"
    if even_zero > 0.9 and odd_zero == 0:
        return "utf-16-be"
    return None


def _decode(data: bytes) -> tuple[str, str, tuple[str, ...]]:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 with a note; else say what was tried."""
    if _utf16_bom(data):
        try:
            return data.decode("utf-16"), "utf-16", ()
        except UnicodeDecodeError:
            pass
    if unmarked := _unmarked_utf16(data):
        return data.decode(unmarked, errors="replace"), unmarked, ("The file is saved as UTF-16 without a marker; "
                                                                   "it was read as UTF-16.",)
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


def _check_shape(text: str, delimiter: str, first_row_is_data: bool) -> tuple[list[int], list[list[str]]]:
    """Every quote closed, every non-blank row as wide as the first, names distinct, rows within the limit.

    Returns the line each kept row starts on, and the rows.
    """
    spans = _parse(text, delimiter)
    rows = [row for _, _, row in spans]
    if not rows:
        raise CsvError("The file is empty: it has no values, only separators.")
    header = [name.strip() for name in rows[0]]
    if len(header) < 2:
        raise CsvError("The file has only one column. It needs a text column and a label column, "
                       "with a header row such as 'text,label'.")
    if not first_row_is_data:
        _check_header(header)
    _check_ragged(spans, len(header), delimiter, "the first row" if first_row_is_data else "the header")
    examples = len(rows) - (0 if first_row_is_data else 1)
    if examples < 1:
        raise CsvError("The file has a header row but no data rows.")
    if examples > MAX_ROWS:
        raise CsvError(f"The file has {examples:,} rows; the limit is {MAX_ROWS:,}. Use a smaller sample.")
    return [start for start, _, _ in spans], rows


def _parse(text: str, delimiter: str) -> list[tuple[int, int, list[str]]]:
    """(first line, last line, cells) of every non-blank row; a quote never closed or an endless cell is a CsvError."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    spans, start = [], 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                spans.append((start, reader.line_num, row))
            start = reader.line_num + 1
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise CsvError(f"The cell that starts on line {start} is longer than {csv.field_size_limit():,} "
                           "characters, more than a CSV cell may hold. Usually a quote (\") that opens a text is "
                           "never closed, so the rest of the file ran into one cell; otherwise shorten that text.")
        raise CsvError(f"Line {reader.line_num} could not be read as CSV ({error}).")
    if spans and _quote_left_open(text, spans[-1][0], delimiter):
        raise CsvError(f"A quote (\") is never closed, starting on line {spans[-1][0]}: everything after it was read "
                       "as one text. Put the closing quote where that text ends (a quote inside a text is written "
                       "as two quotes, \"\"), or remove the opening one.")
    return spans


def _quote_left_open(text: str, line: int, delimiter: str) -> bool:
    """Whether the row starting on that line runs to the end of the file inside a quote.

    Python's lenient reader ends such a row at the end of the file without a word; the strict one says
    'unexpected end of data'.
    """
    rest = "\n".join(text.split("\n")[line - 1:])
    try:
        next(csv.reader(io.StringIO(rest), delimiter=delimiter, strict=True), None)
    except csv.Error as error:
        return "unexpected end of data" in str(error)
    return False


def _check_header(header: list[str]) -> None:
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise CsvError(f"The header names the column {excerpt(duplicates[0])!r} more than once; "
                       "give every column its own name.")
    if any(not name for name in header):
        raise CsvError("A column in the header row has no name; give every column a name such as 'text' and 'label'.")


def _check_ragged(spans: list[tuple[int, int, list[str]]], width: int, delimiter: str, reference: str) -> None:
    bad = [(start, last, len(row)) for start, last, row in spans[1:] if len(row) != width]
    if not bad:
        return
    start, last, fields = bad[0]
    if last > start:  # a quote opened on `start` swallowed the line ends up to `last`
        raise CsvError(f"A quote (\") opens a text on line {start} and is not closed until line {last}, so those "
                       f"lines were read as one cell. Put the closing quote where that text ends (a quote inside a "
                       "text is written as two quotes, \"\").")
    more = f" ({len(bad)} rows like this in all)" if len(bad) > 1 else ""
    raise CsvError(f"Line {start} has {fields} fields but {reference} has {width}{more}. If a text contains a "
                   f"{DELIMITER_NAMES[delimiter]}, put the text in double quotes.")


def _header_looks_like_data(rows: list[list[str]]) -> bool:
    """Column names are short words that do not reappear as values; a first row of examples breaks that."""
    header = [cell.strip() for cell in rows[0]]
    columns = list(zip(*rows[1:])) if len(rows) > 1 else []
    for position, name in enumerate(header):
        values = {value.strip().casefold() for value in columns[position]} if position < len(columns) else set()
        if len(name) > HEADER_CELL_CHARS or name.casefold() in values or _is_number(name):
            return True
    return False


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


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


def label_variants(labels) -> tuple[tuple[str, ...], ...]:
    """Groups of labels that differ only in case or spacing ('positive', 'Positive', 'POSITIVE '), most used first."""
    values = pd.Series([str(label) for label in labels]).str.strip()
    values = values[(values != "") & ~values.str.casefold().isin(MISSING_LABELS)]  # missing, not a spelling
    counts = values.value_counts()
    keys = pd.Series(counts.index, index=counts.index).map(_label_key)
    groups = [tuple(group.index) for _, group in keys.groupby(keys, sort=True) if len(group) > 1]
    return tuple(groups)


def _label_key(label: str) -> str:
    return " ".join(label.split()).casefold()


def build_dataset(table: RawTable, text_column: str, label_column: str,
                  merge_label_variants: bool = False) -> LabelledDataset:
    """Check the chosen columns and freeze them into a dataset; rows without a label are left out (with a note)."""
    for column in (text_column, label_column):
        if column not in table.columns:
            raise CsvError(f"There is no column {excerpt(column)!r}; the columns are "
                           f"{', '.join(repr(excerpt(name)) for name in table.columns)}.")
    if text_column == label_column:
        raise CsvError("The text column and the label column must be different columns.")
    lines = np.asarray(table.lines or range(2, len(table.frame) + 2))
    texts = table.frame[text_column].str.strip()
    labels = table.frame[label_column].str.strip()
    _check_present(texts, lines, "text", text_column)
    missing = (labels == "") | labels.str.casefold().isin(MISSING_LABELS)
    notes = _missing_label_note(missing, lines, labels, label_column)
    if missing.all():
        raise CsvError(f"No row has a label in column {excerpt(label_column)!r}. Is it the right label column?")
    texts, labels = texts[~missing].reset_index(drop=True), labels[~missing].reset_index(drop=True)
    if merge_label_variants:
        labels, merged = _merge_variants(labels)
        notes += merged
    labels, numeric = _normalise_numeric_labels(labels)
    _check_classes(labels, label_column)
    return LabelledDataset(texts=tuple(texts), labels=tuple(labels), label_names=tuple(sorted(labels.unique())),
                           text_column=text_column, label_column=label_column, notes=table.notes + notes + numeric)


def _lines_text(lines) -> str:
    """The first few file lines, e.g. 'line 3' or 'lines 3, 5, 9 and 4 more'."""
    shown = ", ".join(str(line) for line in lines[:5])
    return ("line " if len(lines) == 1 else "lines ") + shown + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")


def _check_present(values: pd.Series, lines: np.ndarray, what: str, column: str) -> None:
    blank = lines[(values == "").to_numpy()]
    if len(blank):
        count = "1 row has" if len(blank) == 1 else f"{len(blank)} rows have"
        raise CsvError(f"{count} no {what} in column {excerpt(column)!r} ({_lines_text(blank)}). "
                       "Fill them in or delete those rows.")


def _missing_label_note(missing: pd.Series, lines: np.ndarray, labels: pd.Series, column: str) -> tuple[str, ...]:
    if not missing.any():
        return ()
    count = int(missing.sum())
    spellings = dict.fromkeys(repr(excerpt(label)) if label else "blank" for label in labels[missing])
    rows = "1 row has" if count == 1 else f"{count:,} rows have"
    return (f"{rows} no label in column {excerpt(column)!r} ({', '.join(list(spellings)[:4])}; "
            f"{_lines_text(lines[missing.to_numpy()])}): {'it was' if count == 1 else 'they were'} left out.",)


def _merge_variants(labels: pd.Series) -> tuple[pd.Series, tuple[str, ...]]:
    """Each group of case/spacing variants becomes its most used spelling."""
    groups = label_variants(labels)
    if not groups:
        return labels, ()
    spelling = {variant: group[0] for group in groups for variant in group}
    merged = labels.map(lambda label: spelling.get(label, label))
    described = "; ".join(f"{', '.join(repr(excerpt(v, 20)) for v in group[1:])} → {excerpt(group[0], 20)!r}"
                          for group in groups[:5])
    return merged, (f"Labels that differ only in capitals or spaces were merged: {described}.",)


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
        raise CsvError(f"Every row has the label {excerpt(counts.index[0])!r}. Fine-tuning needs at least two different labels.")
    if len(counts) > MAX_CLASSES:
        raise CsvError(f"Column {excerpt(column)!r} has {len(counts)} different labels; the limit is {MAX_CLASSES}. "
                       "Is it the right label column?")
    rare = counts[counts < MIN_ROWS_PER_CLASS]
    if len(rare):
        names = ", ".join(repr(excerpt(name)) for name in rare.index[:5])
        raise CsvError(f"The label {names} has only {int(rare.iloc[0])} row; every label needs at least "
                       f"{MIN_ROWS_PER_CLASS} rows (one to learn from, one to check against)."
                       if len(rare) == 1 else
                       f"The labels {names} have only one row each; every label needs at least "
                       f"{MIN_ROWS_PER_CLASS} rows (one to learn from, one to check against).")


@dataclass(frozen=True)
class TruncationAdvice:
    """Most texts are longer than max_length: how many are cut, a larger maximum, and its cost in training time."""

    cut: int
    total: int
    max_length: int
    suggested: int  # covers 9 texts in 10, within the model's limit (== max_length when already at the limit)
    cut_at_suggested: int
    time_ratio: float  # training time at `suggested` over training time now (batches are padded to their longest row)


def truncation_advice(lengths: np.ndarray, max_length: int, limit: int) -> TruncationAdvice | None:
    """None unless at least half the texts are cut at max_length.

    The time ratio counts the tokens the model processes: each batch is padded to its own longest row,
    so work grows with the tokens kept; attention grows faster still, so the real ratio is a little higher.
    """
    lengths = np.asarray(lengths)
    cut = int((lengths > max_length).sum())
    if not len(lengths) or cut * 2 < len(lengths):
        return None
    suggested = int(min(limit, max(max_length, -(-np.percentile(lengths, 90) // 8) * 8)))  # a multiple of 8
    ratio = float(np.minimum(lengths, suggested).sum() / np.minimum(lengths, max_length).sum())
    return TruncationAdvice(cut=cut, total=len(lengths), max_length=max_length, suggested=suggested,
                            cut_at_suggested=int((lengths > suggested).sum()), time_ratio=ratio)
