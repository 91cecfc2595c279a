"""The attention page's switch-off controls: pick heads, see the guess before and after, every head off allowed."""


def test_switching_heads_off_shows_the_guess_before_and_after(open_page, tiny_spec):
    at = open_page("pages/attention.py", tiny_spec)
    at.text_input(key="_widget_sentence").input("the cat is [MASK] today").run()
    assert not at.exception
    at.multiselect(key="ablate_heads").set_value(["L0·H1", "L2·H3"]).run()
    assert not at.exception
    said = " ".join(text.value for text in at.text)
    assert "with all heads on" in said and "2 head(s) off" in said
    assert list(at.table[-1].value.columns) == ["all heads on", "heads off"]


def test_every_head_off_is_allowed_and_said(open_page, tiny_spec):
    at = open_page("pages/attention.py", tiny_spec)
    at.text_input(key="_widget_sentence").input("the cat is [MASK] today").run()
    at.radio(key="ablate_how").set_value("Every head but one").run()
    assert not at.exception and "11 head(s) off" in " ".join(text.value for text in at.text)


def test_a_sentence_without_a_mask_asks_for_one(open_page, tiny_spec):
    at = open_page("pages/attention.py", tiny_spec)
    at.text_input(key="_widget_sentence").input("the cat is tired").run()
    at.radio(key="ablate_how").set_value("All heads of one layer").run()
    assert not at.exception
    assert any("MASK" in info.value and "Write" in info.value for info in at.info)
