"""What each layer knows: token states projected to 2-D with one PCA for every layer, their cosine
similarities, and linear probes (logistic regression) on frozen [CLS] and mean-pooled states per layer."""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression

from albert_viz.capture import Capture
from albert_viz.finetune.data import LabelledDataset
from albert_viz.finetune.job import split_indices
from albert_viz.models import LoadedModel


@dataclass(frozen=True, eq=False)
class LayerProjection:
    """Every layer's token states in one shared 2-D PCA frame (the axes stay put across layers)."""

    tokens: tuple[str, ...]
    points: np.ndarray  # [layer + 1, token, 2]
    mean: np.ndarray  # [hidden]: the PCA's centre, one for all layers
    components: np.ndarray  # [2, hidden]: the PCA's axes, one for all layers
    explained_variance_ratio: np.ndarray  # [2]
    cosine: np.ndarray  # [layer + 1, token, token]


def project_layers(capture: Capture) -> LayerProjection:
    """Fit one PCA on the states of all layers together, then place each layer's tokens in it."""
    states = capture.hidden_states.astype(np.float64)  # [layer + 1, token, hidden]
    depth, tokens, hidden = states.shape
    flat = states.reshape(depth * tokens, hidden)  # [(layer + 1) * token, hidden]
    pca = PCA(n_components=2, random_state=0).fit(flat)
    points = pca.transform(flat).reshape(depth, tokens, 2)  # [layer + 1, token, 2]
    unit = states / np.maximum(np.linalg.norm(states, axis=-1, keepdims=True), 1e-12)
    return LayerProjection(capture.tokens, points, pca.mean_, pca.components_, pca.explained_variance_ratio_,
                           unit @ unit.transpose(0, 2, 1))


class ProbeCancelled(RuntimeError):
    """The user stopped the probing run."""


@dataclass(frozen=True, eq=False)
class LayerFeatures:
    """Frozen sentence features for every layer, from one forward pass per batch."""

    cls: np.ndarray  # [row, layer + 1, hidden]: the [CLS] state
    mean: np.ndarray  # [row, layer + 1, hidden]: mean over the row's real tokens (padding left out)


@torch.no_grad()
def layer_features(loaded: LoadedModel, texts: Sequence[str], batch_size: int = 32, max_length: int = 128,
                   on_batch: Callable[[int, int], None] | None = None,
                   cancelled: Callable[[], bool] | None = None) -> LayerFeatures:
    """[CLS] and mean-pooled states of all layers for each text; on_batch(done, total) after each batch."""
    tokenizer = copy.deepcopy(loaded.tokenizer)  # the shared tokenizer's padding state is not thread-safe
    cls_parts, mean_parts = [], []
    for start in range(0, len(texts), batch_size):
        if cancelled is not None and cancelled():
            raise ProbeCancelled("Probing stopped.")
        encoded = tokenizer(list(texts[start:start + batch_size]), padding=True, truncation=True,
                            max_length=min(max_length, loaded.max_tokens), return_tensors="pt").to(loaded.device)
        with loaded.lock:  # a capture's LayerNorm hooks would otherwise record this forward pass too
            states = torch.stack(loaded.encoder(**encoded, output_hidden_states=True).hidden_states, dim=1)
        # states: [row, layer + 1, token, hidden]
        mask = encoded["attention_mask"][:, None, :, None].to(states.dtype)  # [row, 1, token, 1]
        cls_parts.append(states[:, :, 0].float().cpu().numpy())
        mean_parts.append(((states * mask).sum(dim=2) / mask.sum(dim=2)).float().cpu().numpy())
        if on_batch is not None:
            on_batch(min(start + batch_size, len(texts)), len(texts))
    return LayerFeatures(np.concatenate(cls_parts), np.concatenate(mean_parts))


@dataclass(frozen=True, eq=False)
class ProbeResult:
    """Validation accuracy of a logistic regression per layer, on [CLS] and on mean-pooled states."""

    cls_accuracy: np.ndarray  # [layer + 1]
    mean_accuracy: np.ndarray  # [layer + 1]
    majority_accuracy: float  # always answering the most common training label


def _accuracy(features: np.ndarray, labels: np.ndarray, train: np.ndarray, validation: np.ndarray) -> float:
    probe = LogisticRegression(max_iter=2000).fit(features[train], labels[train])
    return float(probe.score(features[validation], labels[validation]))


def probe_layers(features: LayerFeatures, labels: Sequence[int], train: np.ndarray,
                 validation: np.ndarray) -> ProbeResult:
    """Fit one probe per layer on the training rows and score it on the validation rows."""
    labels = np.asarray(labels)
    depth = features.cls.shape[1]
    cls = [_accuracy(features.cls[:, layer], labels, train, validation) for layer in range(depth)]
    mean = [_accuracy(features.mean[:, layer], labels, train, validation) for layer in range(depth)]
    majority = np.bincount(labels[train]).argmax()
    return ProbeResult(np.array(cls), np.array(mean), float(np.mean(labels[validation] == majority)))


class ProbeRun:
    """Probing in a background thread: features, then one probe per layer; the page polls, never the thread."""

    def __init__(self, loaded: LoadedModel, dataset: LabelledDataset, validation_fraction: float = 0.2,
                 seed: int = 13, batch_size: int = 32):
        self.loaded, self.dataset = loaded, dataset
        self.validation_fraction, self.seed, self.batch_size = validation_fraction, seed, batch_size
        self.done, self.total = 0, len(dataset)
        self.result: ProbeResult | None = None
        self.error: str | None = None
        self.cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name="probe", daemon=True)

    def start(self) -> "ProbeRun":
        self._thread.start()
        return self

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive() and (self.result is not None or self.error is not None)

    def _progress(self, done: int, total: int) -> None:
        self.done = done

    def _run(self) -> None:
        try:
            train, validation = split_indices(self.dataset, self.validation_fraction, self.seed)
            features = layer_features(self.loaded, self.dataset.texts, self.batch_size, on_batch=self._progress,
                                      cancelled=self.cancelled.is_set)
            self.result = probe_layers(features, self.dataset.label_ids, train, validation)
        except ProbeCancelled as stopped:
            self.error = str(stopped)
        except Exception as error:  # shown on the page; the thread must not die silently
            self.error = f"Probing failed: {type(error).__name__}: {error}"
