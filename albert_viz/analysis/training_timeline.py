"""Reading a fine-tuning timeline: which heads have changed most since step 0, and the [CLS] rollout at a step."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from albert_viz.analysis.attention import rollout
from albert_viz.finetune.timeline import Timeline


@dataclass(frozen=True, eq=False)
class HeadChanges:
    """How far each head's attention on the probe rows has moved from step 0, by one frame."""

    step: int
    change: np.ndarray  # [layer, head]: mean |A_step − A_0| over probe rows, queries and keys

    def ranked(self, top: int = 5) -> list[tuple[int, int, float]]:
        """(layer, head, change), largest change first; ties in layer-then-head order."""
        order = np.argsort(-self.change.ravel(), kind="stable")[:top]
        layers, heads = np.unravel_index(order, self.change.shape)
        return [(int(l), int(h), float(self.change[l, h])) for l, h in zip(layers, heads)]


def head_changes(timeline: Timeline, frame: int) -> HeadChanges:
    """Mean absolute change of every head's attention between step 0 and `frame`, over each probe's own tokens."""
    per_probe = [np.abs(timeline.attention(frame, probe) - timeline.attention(0, probe)).mean(axis=(-1, -2))
                 for probe in range(len(timeline.texts))]  # each [layer, head]
    return HeadChanges(int(timeline.steps[frame]), np.mean(per_probe, axis=0))


def cls_rollout(timeline: Timeline, frame: int, probe: int) -> np.ndarray:
    """The [CLS] row of the top layer's rollout for one probe at one frame: where the verdict draws from; [token]."""
    return rollout(timeline.attention(frame, probe))[-1, 0]
