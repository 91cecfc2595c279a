"""The sidebar describes the loaded model in plain words, with the shorthand explained in a tooltip."""
from albert_viz.teaching import glossary


def test_sidebar_describes_the_model_without_unexplained_shorthand(open_page, grouped_spec):
    at = open_page(None, grouped_spec)
    caption = next(c for c in at.sidebar.caption if "layers" in c.value)
    for jargon in ("→", "->", "group(s)", "E 16", "H 32"):
        assert jargon not in caption.value
    assert "4 sets of layer weights" in caption.value
    assert glossary.explain("shared group") in caption.proto.help
