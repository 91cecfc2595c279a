"""Are the explanations faithful? Delete the words each one ranks highest and watch the model's confidence.

ERASER (DeYoung et al. 2020): the words an explanation ranks highest are replaced by [MASK] one more at a
time, most important first, and the model's probability of its *original* answer is read after each step
(the deletion curve). Three numbers per explanation:
  comprehensiveness  p(original) − p(top k% masked), averaged over ERASER's bins k ∈ {1, 5, 10, 20, 50}%
                     (high: the words it names were needed);
  sufficiency        p(original) − p(all but the top k% masked), same bins (low: those words alone suffice);
  AOPC               the area over the deletion curve: p(original) − p(first k words masked), averaged over
                     every k from 1 to all words (Samek et al. 2017).
A random order, seeded, is the floor an explanation must beat. Ties in an explanation's scores keep sentence
order (a stable sort), so the same scores always give the same curve.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from albert_viz.analysis.ablation import AblationCancelled, _probabilities
from albert_viz.analysis.attention_modes import head_value_norms
from albert_viz.analysis.attribution import CLASSIFIER, MASKED_WORD, MAX_TOKENS, Attribution, explain_prediction
from albert_viz.analysis.walkthrough import albert_layer
from albert_viz.model.capture import tokenize
from albert_viz.model.loading import LoadedModel

METHODS = {
    "last_layer": "last layer's attention",
    "rollout": "attention rollout",
    "norm_weighted": "norm-weighted attention",
    "integrated_gradients": "Integrated Gradients",
    "gradient_x_input": "gradient × input",
    "random": "random order (the floor)",
}
ERASER_BINS = (0.01, 0.05, 0.1, 0.2, 0.5)
GRID = np.linspace(0, 1, 11)  # shares removed on which curves of different sentences are averaged
REPLACEMENT_NOTE = "Removed words are replaced by [MASK], so the sentence keeps its length and positions."
BATCH = 64
SAME = 1e-9  # AOPCs closer than this are a tie: two explanations that rank the words alike


@dataclass(frozen=True, eq=False)
class DeletionCurve:
    """One explanation's deletion curve and its three numbers."""

    method: str
    order: np.ndarray  # token positions, most important first (ordinary tokens only)
    probabilities: np.ndarray  # [k + 1]: p(original answer) with the first k of `order` masked
    comprehensiveness: float
    sufficiency: float
    aopc: float
    tied: int  # ordinary tokens whose score equals another's: their order is sentence order

    @property
    def shares(self) -> np.ndarray:
        """[k + 1]: the share of the ordinary words masked at each point."""
        return np.arange(len(self.probabilities)) / max(len(self.order), 1)

    def on_grid(self) -> np.ndarray:
        """The curve at GRID's shares (linear between steps), for averaging sentences of different lengths."""
        return np.interp(GRID, self.shares, self.probabilities)


@dataclass(frozen=True, eq=False)
class Faithfulness:
    """Every explanation's deletion curve for one sentence and one explained output."""

    tokens: tuple[str, ...]
    kind: str
    target: str  # the model's original answer: a class or a word
    probability: float  # the model's own probability of it, nothing masked
    curves: dict[str, DeletionCurve]
    seed: int

    def best(self) -> str:
        """The explanation (random aside) whose top words, once masked, lower the probability most (AOPC)."""
        return max((m for m in self.curves if m != "random"), key=lambda m: self.curves[m].aopc)


def deletion_order(scores: np.ndarray, explained: np.ndarray) -> tuple[np.ndarray, int]:
    """Ordinary positions, highest score first; ties kept in sentence order. Also how many positions share a score."""
    positions = np.flatnonzero(explained)
    ranked = positions[np.argsort(-scores[positions], kind="stable")]
    _, counts = np.unique(scores[positions], return_counts=True)
    return ranked, int(counts[counts > 1].sum())


def _norm_weighted_row(loaded: LoadedModel, ids: torch.Tensor, segments: torch.Tensor, position: int) -> np.ndarray:
    """Last layer, from the explained position: ‖α_ij · f_h(x_j)‖ averaged over heads; [token]."""
    with torch.no_grad():
        output = loaded.encoder(input_ids=ids, token_type_ids=segments, output_attentions=True,
                                output_hidden_states=True)
        last = len(output.attentions) - 1
        norms = head_value_norms(output.hidden_states[last][0], albert_layer(loaded, last).attention)  # [head, key]
        weights = output.attentions[last][0, :, position] * norms  # [head, key]
    return weights.mean(dim=0).float().cpu().numpy()


def explanation_scores(loaded: LoadedModel, attribution: Attribution, ids, segments, seed: int) -> dict[str, np.ndarray]:
    """Each method's score per token (higher: more important); random is a seeded permutation."""
    rng = np.random.default_rng(seed)
    return {
        "last_layer": attribution.last_layer, "rollout": attribution.rollout,
        "norm_weighted": _norm_weighted_row(loaded, ids, segments, attribution.position),
        "integrated_gradients": attribution.integrated_gradients, "gradient_x_input": attribution.gradient_x_input,
        "random": rng.permutation(len(attribution.tokens)).astype(float),
    }


def _bins(count: int) -> list[int]:
    """ERASER's bins as numbers of words: at least one, at most all."""
    return [min(count, max(1, round(share * count))) for share in ERASER_BINS]


def faithfulness(loaded: LoadedModel, text: str, text_pair: str | None = None, kind: str = CLASSIFIER,
                 mask_position: int | None = None, n_steps: int = 16, seed: int = 0,
                 attribution: Attribution | None = None) -> Faithfulness:
    """Deletion curves, comprehensiveness, sufficiency and AOPC of every explanation for one sentence."""
    attribution = attribution or explain_prediction(loaded, text, text_pair, kind, mask_position, n_steps)
    encoded, _ = tokenize(loaded, text, text_pair, MAX_TOKENS)
    ids, segments = encoded["input_ids"].to(loaded.device), encoded["token_type_ids"].to(loaded.device)
    mask_id = loaded.tokenizer.mask_token_id
    if attribution.kind == MASKED_WORD:
        ids = ids.clone()
        ids[0, attribution.position] = mask_id
    answer = _answer_index(loaded, attribution)
    orders = {}
    for method, scores in explanation_scores(loaded, attribution, ids, segments, seed).items():
        orders[method] = deletion_order(np.asarray(scores, dtype=float), attribution.explained)
    variants = []  # (method, "deleted" | "kept", k) -> one masked copy of the sentence each
    for method, (order, _) in orders.items():
        variants += [(method, "deleted", k) for k in range(len(order) + 1)]
        variants += [(method, "kept", k) for k in _bins(len(order))]
    probabilities = _answer_probabilities(loaded, attribution, ids, segments, variants, orders, mask_id, answer)
    return Faithfulness(attribution.tokens, attribution.kind, attribution.target, float(probabilities[0]),
                        _curves(orders, variants, probabilities), seed)


def _answer_index(loaded: LoadedModel, attribution: Attribution) -> int:
    if attribution.kind == CLASSIFIER:
        return int(loaded.config.label2id.get(attribution.target, next(
            i for i, name in loaded.config.id2label.items() if str(name) == attribution.target)))
    return int(loaded.tokenizer.convert_tokens_to_ids(attribution.target))


@torch.no_grad()
def _answer_probabilities(loaded, attribution, ids, segments, variants, orders, mask_id, answer) -> np.ndarray:
    """p(original answer) for every masked variant, in batches; [variant]."""
    copies = ids.repeat(len(variants), 1)  # [variant, token]
    for row, (method, how, k) in enumerate(variants):
        order = torch.as_tensor(orders[method][0], device=ids.device, dtype=torch.long)
        masked = order[:k] if how == "deleted" else order[k:]
        copies[row, masked] = mask_id
    results = []
    with loaded.lock:
        for start in range(0, len(copies), BATCH):
            chunk = copies[start:start + BATCH]
            hidden = loaded.encoder(input_ids=chunk, token_type_ids=segments.expand(len(chunk), -1)).last_hidden_state
            read = hidden[:, attribution.position] if attribution.kind == MASKED_WORD else hidden
            results.append(_probabilities(loaded, attribution.kind, read)[:, answer].cpu())
    return torch.cat(results).double().numpy()


def _curves(orders, variants, probabilities) -> dict[str, DeletionCurve]:
    curves = {}
    for method, (order, tied) in orders.items():
        deleted = np.array([p for (m, how, _), p in zip(variants, probabilities) if m == method and how == "deleted"])
        kept = {k: p for (m, how, k), p in zip(variants, probabilities) if m == method and how == "kept"}
        start = deleted[0]
        bins = _bins(len(order))
        curves[method] = DeletionCurve(
            method, order, deleted,
            comprehensiveness=float(np.mean([start - deleted[k] for k in bins])) if len(order) else 0.0,
            sufficiency=float(np.mean([start - kept[k] for k in bins])) if len(order) else 0.0,
            aopc=float(np.mean(start - deleted[1:])) if len(order) else 0.0, tied=tied)
    return curves


@dataclass(frozen=True, eq=False)
class FaithfulnessSummary:
    """Deletion curves and numbers averaged over validation rows."""

    kind: str
    rows: int
    curves: dict[str, np.ndarray]  # method -> [GRID share]: mean p(original answer)
    comprehensiveness: dict[str, float]
    sufficiency: dict[str, float]
    aopc: dict[str, float]

    def best(self) -> str:
        return max((m for m in self.aopc if m != "random"), key=self.aopc.get)


def faithfulness_over(loaded: LoadedModel, texts, kind: str = CLASSIFIER, n_steps: int = 16, seed: int = 0,
                      progress: Callable[[float], None] | None = None,
                      cancelled: threading.Event | None = None,
                      mask_positions: Sequence[int] | None = None) -> FaithfulnessSummary:
    """faithfulness() for each text (the classifier's verdict, or the word at mask_positions[i], or a [MASK] the
    text holds), averaged."""
    results = []
    for index, text in enumerate(texts):
        if cancelled is not None and cancelled.is_set():
            raise AblationCancelled()
        position = None if mask_positions is None else int(mask_positions[index])
        results.append(faithfulness(loaded, text, kind=kind, mask_position=position, n_steps=n_steps,
                                    seed=seed + index))
        if progress:
            progress((index + 1) / len(texts))
    methods = list(METHODS)
    mean = lambda field: {m: float(np.mean([getattr(r.curves[m], field) for r in results])) for m in methods}
    return FaithfulnessSummary(kind, len(results), {m: np.mean([r.curves[m].on_grid() for r in results], axis=0)
                                                    for m in methods},
                               mean("comprehensiveness"), mean("sufficiency"), mean("aopc"))


def verdict(aopc: Mapping[str, float], rows: int | None = None) -> str:
    """Which explanation predicted the model best, in plain words: the highest AOPC, against the random floor.

    rows: how many sentences the AOPCs are averaged over (None: one sentence). Tied explanations are named in
    METHODS' order, which is fixed, so the same numbers always give the same sentence."""
    data = "this sentence" if rows is None else f"these {rows:,} sentences" if rows != 1 else "this 1 sentence"
    named = [method for method in METHODS if method in aopc and method != "random"]
    top = max(aopc[method] for method in named)
    best = [method for method in named if top - aopc[method] < SAME]
    floor = aopc.get("random", float("nan"))
    names = " and ".join(METHODS[method] for method in best)
    against = f"against {floor:.3f} for a random order"
    if not top > floor + SAME:
        return (f"For this model and {data}, no explanation beat a random order: masking the words any of them "
                f"ranks highest lowered the probability of the model's original answer no more than masking words "
                f"at random (best AOPC {top:.3f}, {names}; random {floor:.3f}). Here none of them tells which "
                "words the model relies on.")
    if len(best) > 1:
        return (f"For this model and {data}, {names} predicted the model equally well (AOPC {top:.3f} each, "
                f"{against}): they rank the words alike. They are named in the table's fixed order, not by merit.")
    return (f"For this model and {data}, {names} predicted the model best: masking the words it ranks highest "
            f"lowered the probability of the model's original answer the most (AOPC {top:.3f}, {against}).")

