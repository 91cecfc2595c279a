"""Measure positional attention heads (previous / next token, Clark et al. 2019) for any BERT-family model.

python -m albert_viz.pretrain.attention_structure [MODEL_DIR_OR_teacher ...]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

# Ordinary sentences, written for this measurement (not taken from the training corpus).
SENTENCES = (
    "The children walked to school along the river.",
    "My sister bought a new bicycle last week.",
    "We watched the sun set behind the mountains.",
    "The teacher wrote the answer on the board.",
    "He forgot his umbrella and got wet in the rain.",
    "The library closes at six on Saturdays.",
    "A small boat drifted slowly across the lake.",
    "She plays the piano every evening after dinner.",
    "The old man fed the pigeons in the square.",
    "They built a sandcastle near the edge of the water.",
    "Our neighbours painted their front door bright red.",
    "The train was late because of the snow.",
    "I found my keys under the kitchen table.",
    "The museum has a famous painting of a ship.",
    "He read the letter twice before he answered it.",
    "The baker opens his shop very early in the morning.",
    "We planted tomatoes and beans in the garden.",
    "The doctor asked him to rest for a few days.",
    "A loud noise woke the baby in the middle of the night.",
    "The students finished their project before the deadline.",
    "She carried the heavy box up the stairs.",
    "The city council approved the plan for a new park.",
    "My grandfather tells wonderful stories about the war.",
    "The cat knocked a glass off the shelf.",
    "They travelled by bus through several small villages.",
    "The price of bread went up again this month.",
    "He practised his speech in front of the mirror.",
    "The storm damaged many houses along the coast.",
    "We need more chairs for the meeting tomorrow.",
    "The girl smiled when she saw the puppy.",
    "The scientists measured the temperature of the ocean.",
    "Please close the window before you leave the room.",
    "The band played songs that everyone knew.",
    "Our team lost the match in the final minute.",
    "The farmer sold his apples at the market.",
    "She wrote a long email to her best friend.",
    "The movie was longer than we expected.",
    "He repaired the fence with a hammer and some nails.",
    "The river flooded the fields after the heavy rain.",
    "I love programming because it feels like solving puzzles.",
)


@dataclass(frozen=True)
class HeadScore:
    """One head's mean attention to a relative position."""

    layer: int
    head: int
    weight: float


@dataclass(frozen=True)
class Structure:
    """The strongest previous-token and next-token heads, with the uniform baseline."""

    model: str
    previous: HeadScore
    next: HeadScore
    uniform_baseline: float


def resolve(model: str) -> Path:
    """'teacher' means the build-time teacher package; anything else is a folder."""
    if model == "teacher":
        from albert_viz.pretrain.student import teacher_dir

        return teacher_dir()
    return Path(model)


@torch.no_grad()
def offset_attention(model, tokenizer, sentences=SENTENCES) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean attention to the previous and next token per [layer, head], over sentences and query positions."""
    prev_sum = next_sum = 0.0
    count = 0
    uniform = []
    for text in sentences:
        enc = tokenizer(text, return_tensors="pt")
        att = torch.stack(model(**enc, output_attentions=True).attentions)[:, 0]  # [layer, head, query, key]
        n = att.shape[-1]
        idx = torch.arange(1, n - 1)  # queries with both neighbours: skip [CLS] and the final [SEP]
        prev_sum = prev_sum + att[:, :, idx, idx - 1].sum(-1)  # [layer, head]
        next_sum = next_sum + att[:, :, idx, idx + 1].sum(-1)
        count += len(idx)
        uniform.append(1.0 / n)
    return (prev_sum / count).numpy(), (next_sum / count).numpy(), float(np.mean(uniform))


def best(scores: np.ndarray) -> HeadScore:
    """The head with the largest score."""
    layer, head = np.unravel_index(int(scores.argmax()), scores.shape)
    return HeadScore(int(layer), int(head), round(float(scores[layer, head]), 3))


def measure(model: str) -> Structure:
    """Load a model folder with plain transformers (eager attention) and find its positional heads."""
    folder = resolve(model)
    net = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    prev, nxt, uniform = offset_attention(net, AutoTokenizer.from_pretrained(folder))
    return Structure(model, best(prev), best(nxt), round(uniform, 3))


def main() -> None:
    """Print one JSON line per model."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="*", default=["teacher", "assets/models/albert-tiny"])
    for model in parser.parse_args().models:
        print(json.dumps(asdict(measure(model))))


if __name__ == "__main__":
    main()
