"""Text that came from a user (a sentence, a word, a label, a path) shown inert: never Markdown, HTML or LaTeX.

Streamlit renders Markdown (and $…$ as LaTeX) in st.markdown, st.caption, st.info/warning/error, st.metric
labels and values, and widget labels; raw HTML is never rendered there, but links, emphasis and formulas are.
"""
from __future__ import annotations

import re

# Escaped everywhere: emphasis, code, links and images, HTML, tables, strikethrough, LaTeX ($), entities.
_ANYWHERE = re.compile(r"([\\`*_{}\[\]()#<>|~$:.!&])")
# Only at the start of a line do these make lists, rules and headings; elsewhere they stay readable (e.g. hub ids).
_LINE_START = re.compile(r"^(\s*)([-+=])", re.MULTILINE)
# Streamlit turns bare http://…, www.… and name@host text into links *after* parsing, so escapes cannot stop it;
# an invisible word joiner (U+2060) after the scheme and after '@' breaks the pattern and shows nothing.
_LINK_START = re.compile(r"(?i)((?:https?|ftp|mailto|www)(?=[:.])|@)")
WORD_JOINER = "\u2060"


def plain(message: str) -> str:
    """Backslash-escape Markdown and LaTeX so a message that quotes the user's text shows as that text."""
    unlinked = _LINK_START.sub(lambda match: match.group(1) + WORD_JOINER, str(message))
    return _LINE_START.sub(r"\1\\\2", _ANYWHERE.sub(r"\\\1", unlinked))


def safe_file_name(name: str, default: str = "download") -> str:
    """A download file name of letters, digits, '.', '_' and '-' only: no path, no hidden file, no odd characters."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:120]
    return cleaned or default
