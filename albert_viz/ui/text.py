"""Text that came from a user (a sentence, a word, a label, a path) shown inert: never Markdown, HTML or LaTeX.

Streamlit renders Markdown (and $…$ as LaTeX) in st.markdown, st.caption, st.info/warning/error, st.metric
labels and values, and widget labels; raw HTML is never rendered there, but links, emphasis and formulas are.
"""
from __future__ import annotations

import re

# Escaped everywhere: emphasis, code, links and images, HTML, tables, strikethrough, LaTeX ($), and ':' and '.'
# so that a bare http://… or www.… is not turned into a link (GitHub-flavoured Markdown autolinks them).
_ANYWHERE = re.compile(r"([\\`*_{}\[\]()#<>|~$:.!&])")
# Only at the start of a line do these make lists, rules and headings; elsewhere they stay readable (e.g. hub ids).
_LINE_START = re.compile(r"^(\s*)([-+=])", re.MULTILINE)


def plain(message: str) -> str:
    """Backslash-escape Markdown and LaTeX so a message that quotes the user's text shows as that text."""
    return _LINE_START.sub(r"\1\\\2", _ANYWHERE.sub(r"\\\1", str(message)))


def safe_file_name(name: str, default: str = "download") -> str:
    """A download file name of letters, digits, '.', '_' and '-' only: no path, no hidden file, no odd characters."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:120]
    return cleaned or default
