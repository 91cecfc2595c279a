"""What each layer knows: token states projected to 2-D with one PCA for every layer, their cosine
similarities, and linear probes (logistic regression) on frozen [CLS] and mean-pooled states per layer."""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression

from albert_viz.finetune.data import LabelledDataset
from albert_viz.finetune.job import split_indices
from albert_viz.finetune.metrics import SMALL_SAMPLE, wilson_interval
from albert_viz.model.capture import Capture, state_name
from albert_viz.model.loading import LoadedModel


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
    train: np.ndarray  # [train row]: the rows the probes were fitted on
    validation: np.ndarray  # [validation row]: the rows they were scored on

    @property
    def best_accuracy(self) -> np.ndarray:
        """[layer + 1]: the better of the two poolings at each layer."""
        return np.maximum(self.cls_accuracy, self.mean_accuracy)

    @property
    def rows(self) -> int:
        """How many validation rows every accuracy here is measured on."""
        return len(self.validation)

    def interval(self, accuracy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[layer + 1] each: the 95% Wilson interval around each of these accuracies, on this many rows."""
        bounds = [wilson_interval(round(value * self.rows), self.rows) for value in np.atleast_1d(accuracy)]
        low, high = np.array(bounds).T  # [2, layer + 1]
        return low, high


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
    return ProbeResult(np.array(cls), np.array(mean), float(np.mean(labels[validation] == majority)),
                       np.asarray(train), np.asarray(validation))


@dataclass(frozen=True, eq=False)
class ProbeComparison:
    """The same probes, fitted and scored on the same rows, for one or more models (e.g. base and fine-tuned)."""

    names: tuple[str, ...]
    results: tuple[ProbeResult, ...]


def probe_models(models: Mapping[str, LoadedModel], dataset: LabelledDataset, train: np.ndarray,
                 validation: np.ndarray, batch_size: int = 32,
                 on_rows: Callable[[str, int, int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> ProbeComparison:
    """Probe every layer of each model on one split; on_rows(model name, rows read, total) after each batch."""
    results = []
    for name, loaded in models.items():
        progress = None if on_rows is None else (lambda done, total, name=name: on_rows(name, done, total))
        features = layer_features(loaded, dataset.texts, batch_size, on_batch=progress, cancelled=cancelled)
        results.append(probe_layers(features, dataset.label_ids, train, validation))
    return ProbeComparison(tuple(models), tuple(results))


def validation_rows_held_out(dataset: LabelledDataset, validation_fraction: float, seed: int,
                             held_out_texts: Sequence[str]) -> bool:
    """Whether every row this split scores on is among held_out_texts (the rows a fine-tuning job never trained on)."""
    _, validation = split_indices(dataset, validation_fraction, seed)
    return {dataset.texts[row] for row in validation} <= set(held_out_texts)


# "Readable" at a layer: its accuracy has come this share of the way from the majority baseline to the model's best.
READABLE_SHARE = 0.9
# A best accuracy less than this above the majority baseline is read as "the probes found no label at all".
NOTHING_READABLE_MARGIN = 0.05


def readable_layer(result: ProbeResult) -> int | None:
    """The first layer whose accuracy is 90% of the way from the majority baseline to the best, or None."""
    best = result.best_accuracy
    if best.max() < result.majority_accuracy + NOTHING_READABLE_MARGIN:
        return None
    threshold = result.majority_accuracy + READABLE_SHARE * (best.max() - result.majority_accuracy)
    return int(np.argmax(best >= threshold - 1e-12))


def describe_probes(comparison: ProbeComparison) -> str:
    """The chart in words, from its numbers: where each model makes the label readable, and what changed."""
    several = len(comparison.names) > 1
    sentences = [_describe_one(name if several else None, result)
                 for name, result in zip(comparison.names, comparison.results)]
    base_name, base = comparison.names[0], comparison.results[0]
    for name, other in zip(comparison.names[1:], comparison.results[1:]):
        sentences.append(_describe_move(base_name, base, name, other))
    return " ".join(sentences)


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]  # str.capitalize would lower-case a model's name


def _at(depth: int) -> str:
    """Where a probe read its states, in the app's one layer numbering: 'in the embeddings', 'after layer 2'."""
    return "in the embeddings" if depth == 0 else state_name(depth)


def _in(name: str | None, sentence: str) -> str:
    """'In the base model, the label…' for one of several models; 'The label…' when there is only one."""
    return f"In the {name}, {sentence}" if name else _capitalised(sentence)


def _counted(result: ProbeResult, accuracy: float) -> str:
    """'92%', with the rows it is measured on and (when they are few) its 95% Wilson interval."""
    if result.rows >= SMALL_SAMPLE:
        return f"{accuracy:.0%} of {result.rows:,} rows"
    low, high = wilson_interval(round(accuracy * result.rows), result.rows)
    return f"{accuracy:.0%} of {result.rows} rows (95% interval {low:.0%}–{high:.0%})"


def _pooling_at(result: ProbeResult, layer: int) -> str:
    return "[CLS]" if result.cls_accuracy[layer] >= result.mean_accuracy[layer] else "the mean of the tokens"


def _describe_one(name: str | None, result: ProbeResult) -> str:
    best = result.best_accuracy
    top = int(best.argmax())
    layer = readable_layer(result)
    if layer is None:
        return _in(name, f"no layer reads the label much better than always answering the commonest label "
                         f"({result.majority_accuracy:.0%}); the best is {_counted(result, best.max())} {_at(top)}.")
    better_later = f"; the best is {best.max():.0%} {_at(top)}" if best[top] > best[layer] else ""
    return _in(name, f"the label becomes readable {_at(layer)}, where the probe on "
                     f"{_pooling_at(result, layer)} gets {_counted(result, best[layer])} right, against "
                     f"{result.majority_accuracy:.0%} for always answering the commonest label{better_later}.")


def _describe_move(base_name: str, base: ProbeResult, name: str, other: ProbeResult) -> str:
    before, after = readable_layer(base), readable_layer(other)
    if before == after:
        moved = "where the label becomes readable did not move"
    elif before is None:
        moved = f"the label became readable, {_at(after)}"
    elif after is None:
        moved = "no layer reads the label any more"
    else:
        moved = (f"where the label becomes readable moved {'earlier' if after < before else 'later'}, "
                 f"from {_at(before)} to {_at(after)}")
    before_cls, after_cls = f"{base.cls_accuracy[-1]:.0%}", f"{other.cls_accuracy[-1]:.0%}"
    went = f"stayed at {after_cls}" if before_cls == after_cls else f"went from {before_cls} to {after_cls}"
    return (f"From the {base_name} to the {name}: {moved}; the last layer's [CLS] state (what a classifier reads) "
            f"{went}.")


class ProbeRun:
    """Probing in a background thread: features, then one probe per layer, for each model on one split; the page
    polls, never the thread."""

    def __init__(self, models: Mapping[str, LoadedModel], dataset: LabelledDataset,
                 validation_fraction: float = 0.2, seed: int = 13, batch_size: int = 32):
        self.models, self.dataset = dict(models), dataset
        self.validation_fraction, self.seed, self.batch_size = validation_fraction, seed, batch_size
        self.reading, self.done, self.total = next(iter(self.models)), 0, len(dataset)
        self.result: ProbeComparison | None = None
        self.error: str | None = None
        self.cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name="probe", daemon=True)

    def start(self) -> "ProbeRun":
        self._thread.start()
        return self

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive() and (self.result is not None or self.error is not None)

    def _progress(self, name: str, done: int, total: int) -> None:
        self.reading, self.done = name, done

    def _run(self) -> None:
        try:
            train, validation = split_indices(self.dataset, self.validation_fraction, self.seed)
            self.result = probe_models(self.models, self.dataset, train, validation, self.batch_size,
                                       on_rows=self._progress, cancelled=self.cancelled.is_set)
        except ProbeCancelled as stopped:
            self.error = str(stopped)
        except Exception as error:  # shown on the page; the thread must not die silently
            self.error = f"Probing failed: {type(error).__name__}: {error}"
