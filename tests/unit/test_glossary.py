"""The shared glossary: every term a page explains is defined, and module paths and model shapes read as words."""
import re
from pathlib import Path

import pytest

from albert_viz.teaching import glossary

ROOT = Path(__file__).resolve().parents[2]
CALL = re.compile(r"glossary\.(?:explain|caption)\(([^)]*)\)")


def glossary_terms_used() -> set[str]:
    """Every string literal passed to glossary.explain / glossary.caption in the pages and the UI package."""
    sources = [*ROOT.glob("pages/*.py"), *ROOT.glob("albert_viz/ui/*.py"), ROOT / "app.py"]
    return {term for path in sources for arguments in CALL.findall(path.read_text())
            for term in re.findall(r'"([^"]+)"', arguments)}


def test_every_glossary_term_a_page_uses_is_defined():
    used = glossary_terms_used()
    assert used, "no page uses the glossary"
    assert used <= set(glossary.GLOSSARY), used - set(glossary.GLOSSARY)


def test_an_unknown_term_fails_loudly():
    with pytest.raises(KeyError):
        glossary.explain("flux capacitor")


def test_model_summary_has_no_unexplained_shorthand():
    summary = glossary.model_summary(6, 12, 128, 384, 1)
    for jargon in ("→", "->", "group(s)", "E 128", "H 384"):
        assert jargon not in summary
    assert "128 numbers" in summary and "384" in summary and "reused at every depth" in summary


def test_model_summary_counts_weight_sets_when_there_are_several_groups():
    assert "4 sets of layer weights" in glossary.model_summary(8, 4, 16, 32, 2, 2)


@pytest.mark.parametrize("module, groups, expected", [
    ("embeddings.LayerNorm", 1, "embedding LayerNorm"),
    ("encoder.albert_layer_groups.0.albert_layers.0.attention.LayerNorm", 1, "attention LayerNorm (the shared layer)"),
    ("encoder.albert_layer_groups.1.albert_layers.0.full_layer_layer_norm", 2,
     "feed-forward LayerNorm (shared layer 0 of group 1)"),
])
def test_layernorm_names_are_short_and_readable(module, groups, expected):
    assert glossary.layernorm_name(module, groups, 2 if groups > 1 else 1) == expected


@pytest.mark.parametrize("tokens, text, split", [
    (["[CLS]", "nan", "##tucket", "[SEP]"], "Nantucket", True),
    (["[CLS]", "didn", "'", "t", "[SEP]"], "didn't", True),
    (["[CLS]", "i", "[MASK]", "programming", "[SEP]"], "I love programming", False),
    (["[CLS]", "i", "love", "programming", "[SEP]"], "I love programming", False),
])
def test_split_words_are_noticed_so_the_page_can_explain_word_pieces(tokens, text, split):
    assert glossary.splits_words(tokens, text) is split


def test_the_glossary_states_the_one_layer_numbering_every_page_uses():
    from albert_viz.model.capture import state_name
    rule = glossary.explain("layer numbering")
    assert "layers 0 to 5" in rule and "embeddings" in rule
    assert [state_name(i) for i in (0, 1, 6)] == ["embeddings", "after layer 0", "after layer 5"]
    assert all(state_name(i) in rule for i in (0, 1, 6))


def test_the_glossary_names_both_vocabularies_and_their_markers():
    entry = glossary.explain("vocabulary")
    assert "SentencePiece" in entry and "30,000" in entry and "▁" in entry
    assert "WordPiece" in entry and "30,522" in entry and "##" in entry
