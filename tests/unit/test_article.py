"""The article the app corrects: its claims are named, quoted where they stand, and each comes with the truth."""
from pathlib import Path

import pytest

from albert_viz.teaching import article

SEEDS = sorted(Path("/work/shared/seeds").glob("000_*.txt"))  # the article itself, where this machine has it


def test_the_claims_cover_every_error_the_facts_sheet_lists():
    topics = {claim.topic for claim in article.CLAIMS}
    assert {"cross-attention", "linear layer normalization", "training direction", "paper title",
            "attention formula (softmax)", "encoder and decoder", "worked example"} <= topics


@pytest.mark.skipif(not SEEDS, reason="the article's text is not on this machine")
def test_every_original_quote_stands_in_the_article_word_for_word():
    text = SEEDS[0].read_text(encoding="utf-8")
    for claim in article.CLAIMS:
        for part in claim.original.split("……"):  # …… marks words left out of a long sentence
            assert part in text, claim.topic


def test_every_claim_says_where_it_is_and_what_is_true():
    for claim in article.CLAIMS:
        assert claim.section.startswith("§") and claim.quote and claim.truth
