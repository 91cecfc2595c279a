"""Every text box has a limit, going over it says so, and no message repeats more than a short excerpt of the input."""
from albert_viz.model.text_limits import EXCERPT_CHARS, SEGMENT_CHARS, SENTENCE_CHARS, WORD_CHARS

PASTE = "zebra " * 7_400  # a 44 KB paste
LONG_ECHO = "zebra " * 20  # 120 characters: more than any message may quote


def messages(at) -> list[str]:
    return [element.value for kind in ("info", "warning", "error", "markdown", "caption") for element in at.get(kind)]


def test_a_sentence_over_the_limit_is_cut_with_a_short_message(open_page, tiny_spec):
    at = open_page("pages/attention.py", tiny_spec)
    at.text_input(key="_widget_sentence").input(PASTE).run()
    assert not at.exception
    warning = next(w.value for w in at.warning if "characters" in w.value)
    assert f"at most {SENTENCE_CHARS:,} characters" in warning and len(warning) < 200 + EXCERPT_CHARS * 2
    assert all(LONG_ECHO not in message for message in messages(at))
    assert all(box.proto.max_chars > SENTENCE_CHARS for box in at.text_input)  # a paste reaches the page


def test_the_masked_word_box_has_a_limit_and_no_message_echoes_the_paste(open_page, tiny_spec):
    at = open_page("pages/worked_examples.py", tiny_spec)
    at.radio(key="_widget_wk_mode").set_value("pretraining").run()
    at.text_input(key="_widget_wk_mask_word").input(PASTE).run()
    assert not at.exception
    assert any(f"at most {WORD_CHARS:,} characters" in warning.value for warning in at.warning)
    assert all(LONG_ECHO not in message for message in messages(at))


def test_the_sop_segment_boxes_have_a_limit(open_page, tiny_spec):
    at = open_page("pages/anatomy.py", tiny_spec)
    at.text_input(key="anatomy_sop_first").input(PASTE).run()
    assert not at.exception
    assert any(f"at most {SEGMENT_CHARS:,} characters" in warning.value for warning in at.warning)
    assert all(LONG_ECHO not in message for message in messages(at))
