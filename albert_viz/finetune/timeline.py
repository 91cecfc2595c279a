"""Watch it learn: a fine-tuning job's attention and predictions on a few held-out rows, at ~10 steps of its run.

A Trainer callback reads up to MAX_PROBE_ROWS validation rows (at most MAX_PROBE_TOKENS tokens each) at step 0
and at SNAPSHOTS evenly spaced steps, with the model switched to eval mode and no gradients, and keeps every
head's attention (float16) and the class probabilities. The job saves it beside the model as TIMELINE_FILE;
a job from before timelines has no such file. Rollout and "which heads changed" are computed when shown.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import TrainerCallback

TIMELINE_FILE = "training_timeline.npz"
MAX_PROBE_ROWS = 4
MAX_PROBE_TOKENS = 32
SNAPSHOTS = 10  # besides step 0


def snapshot_steps(total_steps: int, snapshots: int = SNAPSHOTS) -> tuple[int, ...]:
    """Step 0 and `snapshots` evenly spaced steps up to the last (fewer when the run is shorter)."""
    if total_steps <= 0 or snapshots <= 0:
        return (0,)
    return tuple(sorted({0, *(round(total_steps * i / snapshots) for i in range(1, snapshots + 1))}))


@dataclass(frozen=True, eq=False)
class Timeline:
    """What the probe rows looked like to the model at each recorded step."""

    steps: np.ndarray  # [frame]
    texts: tuple[str, ...]  # [probe]
    tokens: tuple[tuple[str, ...], ...]  # [probe][token], each row's own tokens (no padding)
    labels: np.ndarray  # [probe]: the right class
    label_names: tuple[str, ...]
    attentions: np.ndarray  # [frame, probe, layer, head, query, key] float16, padded to the longest probe
    probabilities: np.ndarray  # [frame, probe, class]

    @property
    def nbytes(self) -> int:
        return self.attentions.nbytes + self.probabilities.nbytes + self.steps.nbytes

    def attention(self, frame: int, probe: int) -> np.ndarray:
        """One probe's attention at one frame, its own tokens only, in float32; [layer, head, query, key]."""
        length = len(self.tokens[probe])
        return self.attentions[frame, probe, :, :, :length, :length].astype(np.float32)

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / TIMELINE_FILE
        tokens = np.array(["\t".join(row) for row in self.tokens])
        np.savez_compressed(path, steps=self.steps, texts=np.array(self.texts), tokens=tokens, labels=self.labels,
                            label_names=np.array(self.label_names), attentions=self.attentions,
                            probabilities=self.probabilities)
        return path


def load_timeline(model_dir: str | Path) -> Timeline | None:
    """The timeline a job saved beside its model, or None (a job from before timelines, or one without probes)."""
    path = Path(model_dir) / TIMELINE_FILE
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        return Timeline(steps=data["steps"], texts=tuple(str(t) for t in data["texts"]),
                        tokens=tuple(tuple(str(row).split("\t")) for row in data["tokens"]), labels=data["labels"],
                        label_names=tuple(str(n) for n in data["label_names"]), attentions=data["attentions"],
                        probabilities=data["probabilities"])


class TimelineCallback(TrainerCallback):
    """Records the probe rows at step 0 and at the snapshot steps of the run."""

    def __init__(self, tokenizer, texts, labels, label_names, snapshots: int = SNAPSHOTS):
        texts, labels = list(texts)[:MAX_PROBE_ROWS], list(labels)[:MAX_PROBE_ROWS]
        self.encoded = tokenizer(texts, truncation=True, max_length=MAX_PROBE_TOKENS, padding=True,
                                 return_tensors="pt")
        self.tokens = tuple(tuple(tokenizer.convert_ids_to_tokens(ids[mask.bool()].tolist()))
                            for ids, mask in zip(self.encoded["input_ids"], self.encoded["attention_mask"]))
        self.texts, self.labels, self.label_names = tuple(texts), np.asarray(labels), tuple(label_names)
        self.snapshots, self.steps = snapshots, (0,)
        self.frames: list[tuple[int, np.ndarray, np.ndarray]] = []

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.steps = snapshot_steps(state.max_steps, self.snapshots)
        self._record(0, model)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step in self.steps and state.global_step not in {step for step, _, _ in self.frames}:
            self._record(state.global_step, model)

    @torch.no_grad()
    def _record(self, step: int, model) -> None:
        was_training = model.training
        model.eval()  # no dropout in what the student sees
        try:
            device = next(model.parameters()).device
            output = model(**{key: value.to(device) for key, value in self.encoded.items()}, output_attentions=True)
        finally:
            model.train(was_training)
        attentions = torch.stack(output.attentions, dim=1)  # [layer][probe, head, q, k] -> [probe, layer, head, q, k]
        probabilities = torch.softmax(output.logits.float(), dim=-1)  # [probe, class]
        self.frames.append((step, attentions.half().cpu().numpy(), probabilities.cpu().numpy()))

    def timeline(self) -> Timeline | None:
        if not self.frames or not self.texts:
            return None
        return Timeline(steps=np.array([step for step, _, _ in self.frames]), texts=self.texts, tokens=self.tokens,
                        labels=self.labels, label_names=self.label_names,
                        attentions=np.stack([frame for _, frame, _ in self.frames]),  # [frame, probe, layer, head, q, k]
                        probabilities=np.stack([p for _, _, p in self.frames]))  # [frame, probe, class]
