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
