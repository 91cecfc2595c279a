"""How much text each box takes, and how a message quotes what a user typed (a short excerpt, never all of it)."""
from __future__ import annotations


SENTENCE_CHARS = 2_000  # a sentence or a paragraph: ~500 tokens, more than the bundled model reads
SEGMENT_CHARS = 1_000  # one SOP segment: a sentence or two
WORD_CHARS = 100  # the word to mask
NAME_CHARS = 500  # a hub model id or a folder path
# What a box accepts from the browser. Over its max_chars the browser drops a paste without a word, so the
# box takes far more than the limit above and the page says when a text is over that limit.
PASTE_CHARS = 100_000
EXCERPT_CHARS = 60


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first `limit` characters of a text on one line, with … when it was longer."""
    flat = " ".join(str(text).split())  # [one line]
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def over_limit(text: str, limit: int, what: str = "This box") -> str | None:
    """None when the text fits; else a message that says the limit and quotes only the start of the text."""
    if len(text) <= limit:
        return None
    return (f"{what} uses at most {limit:,} characters; the text has {len(text):,}, so only the first {limit:,} "
            f"are used (it begins “{excerpt(text)}”).")

