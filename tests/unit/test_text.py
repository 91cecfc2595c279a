"""User text shown inert: plain() makes Markdown show the text itself; download names are safe."""
import html
import re

import pytest
from markdown_it import MarkdownIt

from albert_viz.ui.text import WORD_JOINER, plain, safe_file_name

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "**bold** $x^2$ [link](http://example.com)",
    "![img](http://example.com/x.png) `code` ~~gone~~ _it_ | a | b |",
    "- a list\n1. numbered\n# heading\ntext\n---\n> quote",
    "C:\\path\\to\\file & &lt; www.example.com http://example.com teacher@example.com",
]


def rendered_text(markdown: str) -> str:
    """What a reader sees: the rendered HTML's text, tags removed (CommonMark, as Streamlit's renderer)."""
    output = MarkdownIt("commonmark").render(markdown)
    assert not re.search(r"<(?!/?p>)", output.replace("<br />", "")), output  # no tag but paragraphs
    return html.unescape(re.sub(r"</?p>", "", output)).strip()


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_renders_as_the_same_characters_and_no_markup(text):
    assert rendered_text(plain(text)).replace(WORD_JOINER, "") == text


def test_bare_addresses_are_broken_up_invisibly_so_they_do_not_become_links():
    # Streamlit links bare URLs and e-mail addresses after parsing: the word joiner must sit inside each
    assert not re.search(r"https?:|www\.|\w@\w", rendered_text(plain("http://a.org www.a.org me@a.org")))


def test_without_escaping_the_same_text_would_be_markup():
    assert "<strong>" in MarkdownIt("commonmark").render(HOSTILE[2])  # so the test above can fail


@pytest.mark.parametrize("name, expected", [("../../etc/passwd", "etc_passwd"), (".hidden", "hidden"),
                                            ("layernorm_attention · layer 2_token1.csv",
                                             "layernorm_attention_layer_2_token1.csv"),
                                            ("<script>.csv", "script_.csv"), ("", "download")])
def test_download_file_names_keep_only_safe_characters(name, expected):
    assert safe_file_name(name) == expected
