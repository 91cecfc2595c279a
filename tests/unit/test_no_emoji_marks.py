"""The app says things in words: no emoji as a mark, since a machine without an emoji font draws a box."""
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Pictographs and dingbats (✅ ❌ ⚠ ⭐ 🔥 ...) and the selector that turns a text symbol into an emoji. Arrows,
# ◀ ▶ and ▁ (SentencePiece's word start) are plain text symbols that the ordinary fonts carry.
EMOJI = re.compile("[\u2600-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff]")


def user_facing_sources() -> list[Path]:
    """Everything that puts text on a screen: the library, the pages, the entry script, the lessons."""
    return [*sorted((REPO / "albert_viz").rglob("*.py")), *sorted((REPO / "pages").glob("*.py")), REPO / "app.py",
            *sorted((REPO / "assets" / "lessons").glob("*.yaml"))]


def test_no_page_lesson_or_message_uses_an_emoji_as_a_mark():
    found = [f"{path.relative_to(REPO)}:{number}: {line.strip()[:80]}"
             for path in user_facing_sources()
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if EMOJI.search(line)]
    assert found == [], "say it in words instead:\n" + "\n".join(found)
