"""Pure maths on captured attention: head averages, rollout, per-head statistics, pattern labels."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from albert_viz.model.capture import Capture

# What each statistic measures, in the words the page uses.
PATTERNS = {
    "previous": "previous token",
    "next": "next token",
    "self": "itself",
    "cls": "[CLS]",
    "sep": "[SEP]",
    "broad": "broad / mixed",
}
PATTERN_KEYS = ("previous", "next", "self", "cls", "sep")  # the patterns a head can lead with, PATTERNS' order
# A pattern stands out when it gets at least this many times the share an even spread would give it (1/n for one
# token of n; k/n for k [SEP] tokens). A fixed share such as 0.5 hid real heads: a next-token head with 0.38 of
# its weight on the next of 16 tokens is six times an even spread, yet it was drawn as "broad".
STANDS_OUT = 2.0


@dataclass(frozen=True, eq=False)
class HeadStatistics:
    """Per head, the mean attention a query gives to each kind of target, and the entropy of its rows."""

    previous: np.ndarray  # [layer, head]
    next: np.ndarray  # [layer, head]
    self: np.ndarray  # [layer, head]
    cls: np.ndarray  # [layer, head]
    sep: np.ndarray  # [layer, head]
    entropy: np.ndarray  # [layer, head], in nats, averaged over queries
    even: np.ndarray  # [pattern] in PATTERN_KEYS order: the share each pattern gets when every row is 1/n
    num_tokens: int

    def shares(self) -> np.ndarray:
        """Every pattern's share, [pattern, layer, head] in PATTERN_KEYS order."""
        return np.stack([getattr(self, key) for key in PATTERN_KEYS])

    def dominant(self) -> np.ndarray:
        """The pattern that gets the most weight in every head, whatever its share; [layer, head]."""
        return np.array(PATTERN_KEYS)[self.shares().argmax(axis=0)]

    def dominant_share(self) -> np.ndarray:
        """The dominant pattern's share of the weight; [layer, head]."""
        return self.shares().max(axis=0)

    def stands_out(self) -> np.ndarray:
        """Whether the dominant pattern gets at least STANDS_OUT times its even-spread share; [layer, head]."""
        best = self.shares().argmax(axis=0)
        return self.dominant_share() >= STANDS_OUT * self.even[best]

    def labels(self) -> np.ndarray:
        """The dominant pattern of every head, or "broad" where it does not stand out; keys of PATTERNS."""
        return np.where(self.stands_out(), self.dominant(), "broad")


def head_mean(attentions: np.ndarray) -> np.ndarray:
    """Average over heads: [layer, head, query, key] -> [layer, query, key]."""
    return attentions.mean(axis=1)


def rollout(attentions: np.ndarray) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020): per layer 0.5*A + 0.5*I, multiplied from the bottom up.

    Returns [layer, query, key]: entry l is how much each token at depth l+1 draws on each input token.
    """
    mean = head_mean(attentions)  # [layer, query, key]
    identity = np.eye(mean.shape[-1])
    flow, rolled = identity, []
    for layer_attention in mean:
        with_residual = 0.5 * layer_attention + 0.5 * identity
        with_residual /= with_residual.sum(axis=-1, keepdims=True)
        flow = with_residual @ flow
        rolled.append(flow)
    return np.stack(rolled)


def _offset_mass(attentions: np.ndarray, offset: int) -> np.ndarray:
    """Mean weight a query puts on the key `offset` positions away, over queries that have one; [layer, head]."""
    n = attentions.shape[-1]
    if abs(offset) >= n:
        return np.zeros(attentions.shape[:2])
    diagonal = np.diagonal(attentions, offset=offset, axis1=-2, axis2=-1)  # [layer, head, n - |offset|]
    return diagonal.mean(axis=-1)


def _column_mass(attentions: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Mean (over queries) total weight on the given key columns; [layer, head]."""
    if not columns.any():
        return np.zeros(attentions.shape[:2])
    return attentions[..., columns].sum(axis=-1).mean(axis=-1)


def head_statistics(capture: Capture, cls_token: str = "[CLS]", sep_token: str = "[SEP]") -> HeadStatistics:
    """Previous/next/self/[CLS]/[SEP] mass and entropy for every head of a capture."""
    attentions = capture.attentions
    tokens = np.array(capture.tokens)
    safe = np.clip(attentions, 1e-12, 1.0)
    n = attentions.shape[-1]
    counts = {"cls": int((tokens == cls_token).sum()), "sep": int((tokens == sep_token).sum())}
    return HeadStatistics(
        previous=_offset_mass(attentions, -1),  # key j = i - 1 sits on the diagonal below the main one
        next=_offset_mass(attentions, 1),
        self=_offset_mass(attentions, 0),
        cls=_column_mass(attentions, tokens == cls_token),
        sep=_column_mass(attentions, tokens == sep_token),
        entropy=-(attentions * np.log(safe)).sum(axis=-1).mean(axis=-1),
        even=np.array([counts.get(key, 1) / n for key in PATTERN_KEYS]),
        num_tokens=n,
    )


def broad_rule(num_tokens: int) -> str:
    """When a head counts as broad, in numbers for a sentence of num_tokens tokens."""
    return (f"even its leading pattern gets less than {STANDS_OUT:g}× what spreading every row evenly over the "
            f"{num_tokens} tokens would give it ({STANDS_OUT:g}/{num_tokens} = {STANDS_OUT / num_tokens:.3g} for one "
            "token)")
