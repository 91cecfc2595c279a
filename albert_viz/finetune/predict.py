"""Using a fine-tuned classifier: class probabilities for a sentence."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from albert_viz.model.capture import CaptureError, tokenize
from albert_viz.model.loading import LoadedModel


@dataclass(frozen=True)
class Prediction:
    """The predicted label and the probability of every class."""

    label: str
    probabilities: dict[str, float]


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
