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
PATTERN_THRESHOLD = 0.5  # a head is labelled by a pattern when that pattern holds most of its weight


@dataclass(frozen=True, eq=False)
class HeadStatistics:
    """Per head, the mean attention a query gives to each kind of target, and the entropy of its rows."""

    previous: np.ndarray  # [layer, head]
    next: np.ndarray  # [layer, head]
    self: np.ndarray  # [layer, head]
    cls: np.ndarray  # [layer, head]
    sep: np.ndarray  # [layer, head]
    entropy: np.ndarray  # [layer, head], in nats, averaged over queries

    def labels(self) -> np.ndarray:
        """The dominant pattern of every head, as a key of PATTERNS; [layer, head]."""
        stacked = np.stack([getattr(self, key) for key in ("previous", "next", "self", "cls", "sep")])  # [pattern, layer, head]
        keys = np.array(["previous", "next", "self", "cls", "sep"])
        best = stacked.argmax(axis=0)
        return np.where(stacked.max(axis=0) >= PATTERN_THRESHOLD, keys[best], "broad")


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
    return HeadStatistics(
        previous=_offset_mass(attentions, -1),  # key j = i - 1 sits on the diagonal below the main one
        next=_offset_mass(attentions, 1),
        self=_offset_mass(attentions, 0),
        cls=_column_mass(attentions, tokens == cls_token),
        sep=_column_mass(attentions, tokens == sep_token),
        entropy=-(attentions * np.log(safe)).sum(axis=-1).mean(axis=-1),
    )
