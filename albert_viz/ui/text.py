"""Text from users and files, shown as text: never as Markdown, HTML or LaTeX."""
from __future__ import annotations

import re


def plain(message: str) -> str:
    """Backslash-escape Markdown so a message that quotes the user's data shows as text, never as markup."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!<>|~$])", r"\\\1", message)
