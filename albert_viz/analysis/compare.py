"""Side by side: two sentences through one model, or one sentence through two models.

Where the tokens line up one to one (same count, same model shape) the attention is subtracted
position by position and the heads are ranked by how far their rows moved; the fine-tuning page's
before/after view is the two-models case (base, fine-tuned) of the same `side_by_side`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from albert_viz.model.capture import Capture

# Minimal pairs: one word differs, so the difference map isolates what that word does to attention.
MINIMAL_PAIRS = {
    "trophy / suitcase (big vs small)": ("The trophy didn't fit in the suitcase because it was too big.",
                                         "The trophy didn't fit in the suitcase because it was too small."),
    "animal / street (tired vs wide)": ("The animal didn't cross the street because it was too tired.",
                                        "The animal didn't cross the street because it was too wide."),
    "loved vs hated": ("I loved this movie, the story was great.", "I hated this movie, the story was great."),
    "not": ("The film was good.", "The film was not good."),
}


@dataclass(frozen=True, eq=False)
class AttentionChange:
    """Second minus first attention, position by position; change is [layer, head] mean total-variation distance."""

    difference: np.ndarray  # [layer, head, query, key]: second minus first
    change: np.ndarray  # [layer, head]: 0 = same pattern, 1 = no overlap at all

    def top_heads(self, count: int = 5) -> list[tuple[int, int, float]]:
        """(layer, head, change) of the heads that moved most, largest first."""
        order = np.argsort(self.change, axis=None)[::-1][:count]
        heads = self.change.shape[1]
        return [(int(i // heads), int(i % heads), float(self.change.flat[i])) for i in order]


def attention_change(first: Capture, second: Capture) -> AttentionChange:
    """Subtract two captures of the same shape: the same sentence by two models, or a minimal pair."""
    difference = second.attentions - first.attentions  # [layer, head, query, key]
    change = 0.5 * np.abs(difference).sum(axis=-1).mean(axis=-1)  # TV distance per query row, mean over rows
    return AttentionChange(difference, change)


def same_relative_layer(layer: int, from_layers: int, to_layers: int) -> int:
    """The layer at the same relative depth in a model of to_layers layers: first to first, last to last."""
    if from_layers <= 1 or to_layers <= 1:
        return 0
    return round(layer * (to_layers - 1) / (from_layers - 1))


@dataclass(frozen=True, eq=False)
class SideBySide:
    """Two captures and, when their tokens line up, the difference between them (second minus first)."""

    first: Capture
    second: Capture
    change: AttentionChange | None  # None when the two cannot be compared position by position
    note: str | None  # why there is no difference map, in words for the page

    def labels(self) -> tuple[str, ...]:
        """Axis labels for the difference map: the token, or 'first / second' where the two differ."""
        return tuple(a if a == b else f"{a} / {b}" for a, b in zip(self.first.tokens, self.second.tokens))


def side_by_side(first: Capture, second: Capture) -> SideBySide:
    """Line two captures up; subtract their attention when every position has a partner."""
    if first.attentions.shape[:2] != second.attentions.shape[:2]:
        note = (f"The two models have different shapes ({first.num_layers} layers × {first.num_heads} heads vs "
                f"{second.num_layers} × {second.num_heads}), so there is no head-by-head difference.")
        return SideBySide(first, second, None, note)
    if first.num_tokens != second.num_tokens:
        note = (f"The two inputs have {first.num_tokens} and {second.num_tokens} tokens, so the positions do not "
                "line up and a difference map would compare unrelated tokens. Make them the same length "
                "(a minimal pair: change one word for one word) to see it.")
        return SideBySide(first, second, None, note)
    return SideBySide(first, second, attention_change(first, second), None)
