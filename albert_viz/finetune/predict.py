"""Using a fine-tuned classifier: class probabilities for a sentence, and how its attention moved from the base model."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from albert_viz.capture import Capture, CaptureError, tokenize
from albert_viz.models import LoadedModel


@dataclass(frozen=True)
class Prediction:
    """The predicted label and the probability of every class."""

    label: str
    probabilities: dict[str, float]


@dataclass(frozen=True, eq=False)
class AttentionChange:
    """Base vs fine-tuned attention on one sentence; change is [layer, head] mean total-variation distance."""

    tokens: tuple[str, ...]
    difference: np.ndarray  # [layer, head, query, key]: fine-tuned minus base
    change: np.ndarray  # [layer, head]: 0 = same pattern, 1 = no overlap at all

    def top_heads(self, count: int = 5) -> list[tuple[int, int, float]]:
        """(layer, head, change) of the heads that moved most, largest first."""
        order = np.argsort(self.change, axis=None)[::-1][:count]
        heads = self.change.shape[1]
        return [(int(i // heads), int(i % heads), float(self.change.flat[i])) for i in order]


@torch.inference_mode()
def classify(loaded: LoadedModel, text: str, max_length: int | None = None) -> Prediction:
    """The fine-tuned model's verdict on one sentence."""
    if not hasattr(loaded.model, "classifier"):
        raise CaptureError("This model has no classification head.")
    encoded, _ = tokenize(loaded, text, max_tokens=max_length)
    with loaded.lock:
        logits = loaded.model(**{k: v.to(loaded.device) for k, v in encoded.items()}).logits[0]
    probabilities = torch.softmax(logits.float(), dim=-1).cpu().numpy()
    names = [loaded.config.id2label[i] for i in range(len(probabilities))]
    return Prediction(label=names[int(probabilities.argmax())],
                      probabilities={name: float(p) for name, p in zip(names, probabilities)})


def attention_change(before: Capture, after: Capture, same_tokens: bool = True) -> AttentionChange:
    """Compare two captures position by position: the same sentence by two models, or (same_tokens=False)
    two sentences whose tokens line up one to one, such as a minimal pair."""
    if (same_tokens and before.tokens != after.tokens) or before.attentions.shape != after.attentions.shape:
        raise CaptureError("The two models split the sentence differently, so their attention cannot be compared.")
    difference = after.attentions - before.attentions  # [layer, head, query, key]
    change = 0.5 * np.abs(difference).sum(axis=-1).mean(axis=-1)  # TV distance per query row, mean over rows
    return AttentionChange(tokens=before.tokens, difference=difference, change=change)
