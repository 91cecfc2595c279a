"""Attention maths: head averages, rollout, and the pattern each head is labelled with."""
import numpy as np

from albert_viz.analysis.attention import head_mean, head_statistics, rollout
from albert_viz.model.capture import capture


def shifted(n: int, offset: int) -> np.ndarray:
    """A [query, key] matrix where every query looks `offset` tokens away (or at itself at the edge)."""
    matrix = np.zeros((n, n))
    for query in range(n):
        key = query + offset
        matrix[query, key if 0 <= key < n else query] = 1.0
    return matrix


def test_rollout_rows_remain_distributions(tiny_model):
    rolled = rollout(capture(tiny_model, "I love programming").attentions)
    np.testing.assert_allclose(rolled.sum(axis=-1), 1.0, atol=1e-6)


def test_head_mean_averages_over_heads():
    attentions = np.stack([np.stack([shifted(5, -1), shifted(5, 1)])])  # [layer 1, head 2, 5, 5]
    np.testing.assert_allclose(head_mean(attentions)[0], (shifted(5, -1) + shifted(5, 1)) / 2)


def test_previous_and_next_token_heads_are_labelled(tiny_model):
    base = capture(tiny_model, "the cat is very tired today")
    n = base.num_tokens
    attentions = np.stack([np.stack([shifted(n, -1), shifted(n, 1)])])  # [layer, head, query, key]
    import dataclasses

    constructed = dataclasses.replace(base, attentions=attentions)
    assert head_statistics(constructed).labels().tolist() == [["previous", "next"]]


def _with_attentions(model, text: str, attentions: np.ndarray):
    import dataclasses

    return dataclasses.replace(capture(model, text), attentions=attentions)


def test_a_head_that_spreads_its_weight_evenly_is_broad(tiny_model):
    base = capture(tiny_model, "the cat is very tired today")
    n = base.num_tokens
    even = np.full((1, 1, n, n), 1.0 / n)  # [layer, head, query, key]
    statistics = head_statistics(_with_attentions(tiny_model, "the cat is very tired today", even))
    assert statistics.labels().tolist() == [["broad"]]


def test_a_pattern_well_above_an_even_spread_stands_out_even_below_half_the_weight(tiny_model):
    """0.4 of every row on the next token of 8 is over three times an even spread (1/8): a next-token head."""
    n = capture(tiny_model, "the cat is very tired today").num_tokens
    rows = 0.4 * shifted(n, 1) + 0.6 * np.full((n, n), 1.0 / n)  # [query, key]
    statistics = head_statistics(_with_attentions(tiny_model, "the cat is very tired today", rows[None, None]))
    assert statistics.labels().tolist() == [["next"]] and statistics.dominant_share()[0, 0] < 0.5


def test_the_bundled_models_next_token_heads_are_labelled_on_the_readme_sentence():
    """The README's next-token head (layer 1 head 8), and layer 2 head 9 (0.38 of its weight), both read "next"."""
    from albert_viz.model.loading import ModelSpec, load_model

    text = "The animal didn't cross the street because it was too tired."
    labels = head_statistics(capture(load_model(ModelSpec()), text)).labels()
    assert labels[1, 8] == "next" and labels[2, 9] == "next"


def test_the_broad_rule_is_stated_in_numbers():
    from albert_viz.analysis.attention import broad_rule

    assert "2/16 = 0.125" in broad_rule(16)
