"""Messages quote a short one-line excerpt of what a user typed, and say when a text is over its box's limit."""
from albert_viz.model.text_limits import EXCERPT_CHARS, excerpt, over_limit


def test_an_excerpt_is_one_short_line():
    quoted = excerpt("first line\nsecond line " + "word " * 10_000)
    assert "\n" not in quoted and len(quoted) == EXCERPT_CHARS and quoted.endswith("…")
    assert excerpt("short  text") == "short text"


def test_over_limit_says_the_limit_and_the_length_and_quotes_only_the_start():
    assert over_limit("x" * 2_000, 2_000) is None
    message = over_limit("zebra " * 7_400, 2_000)
    assert "at most 2,000 characters" in message and "44,400" in message and len(message) < 250


