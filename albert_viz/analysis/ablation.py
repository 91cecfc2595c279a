"""Cause, not correlation: switch heads off and see what the model then predicts (Michel et al. 2019).

One sentence: the prediction and the attention maps with chosen heads off, beside the untouched model's.
A task (labelled rows for a classifier, or masked words for the MLM head): the change in accuracy and in the
probability of the right answer when each head is off alone (the importance map), and the accuracy as heads
are removed least important first (the pruning curve). Everything below the lowest switched-off depth is
the same as in the untouched model, so it is computed once per row and reused; rows × ablations run in one
padded batch above it.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from albert_viz.analysis.attention_modes import ExplainError
from albert_viz.analysis.attribution import CLASSIFIER, MASKED_WORD, has_classifier, targets
from albert_viz.model.capture import tokenize
from albert_viz.model.interventions import depth_count, heads_switched_off, run_layers_read_at
from albert_viz.model.loading import LoadedModel

MAX_SEQUENCES_PER_PASS = 256  # rows × ablations in one forward pass above the switched-off depth
TOP_GUESSES = 5
ALL_OFF_NOTE = ("Every head is switched off: no token reads any other, so each position carries only what the "
                "residual path and the feed-forward layers make of its own embedding.")
SHARING_NOTE = ("ALBERT shares one layer's weights across all depths, but switching head h off at one depth "
                "zeroes only what it computes there: head h at the other depths, with the same weights, keeps working.")


class AblationCancelled(Exception):
    """The user stopped an importance map or a pruning curve."""


def head_name(depth: int, head: int) -> str:
    return f"L{depth}·H{head}"


def keep_mask(loaded: LoadedModel, off: set[tuple[int, int]] | frozenset = frozenset()) -> torch.Tensor:
    """[depth, head] of 1, with 0 at each (depth, head) in `off`."""
    keep = torch.ones(depth_count(loaded.config), loaded.config.num_attention_heads)
    for depth, head in off:
        keep[depth, head] = 0
    return keep


@dataclass(frozen=True, eq=False)
class Prediction:
    """What one output says: a classifier's class probabilities, or the top guesses at one masked position."""

    labels: tuple[str, ...]  # class names, or the top guessed words
    probabilities: np.ndarray  # [label]


@dataclass(frozen=True, eq=False)
class AblationOutcome:
    """One sentence with some heads off, beside the untouched model."""

    tokens: tuple[str, ...]
    kind: str
    position: int  # the output read: 0 ([CLS]) for a verdict, the [MASK] for a word
    off: tuple[tuple[int, int], ...]
    before: Prediction
    after: Prediction
    after_of_before: np.ndarray  # [label]: the ablated model's probability of each label the untouched model named
    attentions_before: np.ndarray  # [layer, head, query, key]
    attentions_after: np.ndarray  # [layer, head, query, key]

    @property
    def all_off(self) -> bool:
        return len(self.off) == self.attentions_before.shape[0] * self.attentions_before.shape[1]

    @property
    def changed(self) -> bool:
        return self.before.labels[int(self.before.probabilities.argmax())] != \
            self.after.labels[int(self.after.probabilities.argmax())]

    def attention_change(self) -> np.ndarray:
        """Mean |Δ attention| per head; [layer, head]. Zero below the lowest head switched off."""
        return np.abs(self.attentions_after - self.attentions_before).mean(axis=(-1, -2))

    def most_changed_head(self) -> tuple[int, int] | None:
        """The (depth, head) whose attention moved most; None where none moved (only the top depth was off)."""
        change = self.attention_change()
        if change.max() <= 1e-6:  # float noise: a head above no switched-off head computes the same weights
            return None
        depth, head = np.unravel_index(int(change.argmax()), change.shape)
        return int(depth), int(head)


def _inputs(loaded: LoadedModel, text: str, text_pair: str | None, kind: str,
            mask_position: int | None = None) -> tuple[dict, int]:
    """Model inputs for one sentence and the position read.

    The masked-word question reads the first [MASK] in the text, or masks the word at `mask_position` (as the
    explain page asks about a word the user chose).
    """
    encoded, _ = tokenize(loaded, text, text_pair)
    ids = encoded["input_ids"][0]
    if torch.isin(ids, torch.tensor(loaded.tokenizer.all_special_ids)).all():
        raise ExplainError("The sentence is made of special tokens only: there is nothing for the heads to read.")
    if kind == CLASSIFIER:
        return encoded, 0
    if mask_position is not None:
        if not 0 < mask_position < len(ids) - 1:
            raise ExplainError("Choose a word of the sentence to mask, not [CLS] or [SEP].")
        encoded = dict(encoded, input_ids=encoded["input_ids"].clone())
        encoded["input_ids"][0, mask_position] = loaded.tokenizer.mask_token_id
        return encoded, mask_position
    masks = (ids == loaded.tokenizer.mask_token_id).nonzero().flatten().tolist()
    if not masks:
        raise ExplainError(f"Write {loaded.tokenizer.mask_token} where the model should guess a word.")
    return encoded, masks[0]


def _prediction(loaded: LoadedModel, kind: str, hidden: torch.Tensor, position: int, labels=None) -> Prediction:
    """The classifier's probabilities, or the top guesses at `position` (or the probabilities of `labels`)."""
    probabilities = _probabilities(loaded, kind, hidden[:, position] if kind == MASKED_WORD else hidden)[0]
    if kind == CLASSIFIER:
        names = tuple(str(loaded.config.id2label[i]) for i in range(len(probabilities)))
        return Prediction(names, probabilities.cpu().numpy())
    top = probabilities.topk(TOP_GUESSES)
    return Prediction(tuple(loaded.tokenizer.convert_ids_to_tokens(top.indices.tolist())), top.values.cpu().numpy())


def _probabilities(loaded: LoadedModel, kind: str, hidden: torch.Tensor) -> torch.Tensor:
    """Classifier: hidden [batch, token, H] -> [batch, class]; masked word: hidden [batch, H] -> [batch, vocab]."""
    return torch.softmax(_logits(loaded, kind, hidden[:, 0] if kind == CLASSIFIER else hidden), dim=-1)


def _logits(loaded: LoadedModel, kind: str, read: torch.Tensor) -> torch.Tensor:
    """The output head on the hidden state at the position read, [batch, H] -> [batch, class or vocab], float32."""
    if kind == CLASSIFIER:
        encoder = loaded.encoder  # the same readout as AlbertForSequenceClassification in eval mode
        pooled = encoder.pooler_activation(encoder.pooler(read))
        return loaded.model.classifier(loaded.model.dropout(pooled)).float()
    return loaded.model.predictions(read).float()


@torch.no_grad()
def switch_off(loaded: LoadedModel, text: str, text_pair: str | None, off: set[tuple[int, int]],
               kind: str | None = None, mask_position: int | None = None) -> AblationOutcome:
    """Run one sentence with the heads in `off` switched off, and once untouched.

    kind: the classifier's verdict or the masked-word guess (the classifier where there is one);
    mask_position: for a masked word, the token to replace by [MASK] (else the text's own first [MASK]).
    """
    kind = kind or (CLASSIFIER if has_classifier(loaded) else MASKED_WORD)
    if kind not in targets(loaded):
        raise ExplainError("This model has no head that predicts anything: there is no answer to watch change.")
    encoded, position = _inputs(loaded, text, text_pair, kind, mask_position)
    inputs = {key: value.to(loaded.device) for key, value in encoded.items()}
    with loaded.lock:
        before_output = loaded.encoder(**inputs, output_attentions=True)
        with heads_switched_off(loaded, keep_mask(loaded, off).to(loaded.device)):
            after_output = loaded.encoder(**inputs, output_attentions=True)
        before = _prediction(loaded, kind, before_output.last_hidden_state, position)
        after = _prediction(loaded, kind, after_output.last_hidden_state, position)
        after_all = _probabilities(loaded, kind, after_output.last_hidden_state[:, position] if kind == MASKED_WORD
                                   else after_output.last_hidden_state)[0]
    if kind == MASKED_WORD:
        after_of_before = after_all[loaded.tokenizer.convert_tokens_to_ids(list(before.labels))].cpu().numpy()
    else:
        after_of_before = after.probabilities
    stack = lambda output: torch.stack(output.attentions)[:, 0].float().cpu().numpy()  # [layer, batch, head, q, k] -> [layer, head, q, k]
    return AblationOutcome(
        tokens=tuple(loaded.tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist())), kind=kind,
        position=position, off=tuple(sorted(off)), before=before, after=after, after_of_before=after_of_before,
        attentions_before=stack(before_output), attentions_after=stack(after_output))


@dataclass(frozen=True, eq=False)
class AblationTask:
    """Rows to score: padded inputs, the position read in each row and the right answer there."""

    kind: str
    input_ids: np.ndarray  # [row, token]
    attention_mask: np.ndarray  # [row, token]
    token_type_ids: np.ndarray  # [row, token]
    positions: np.ndarray  # [row]: 0 for a verdict, the masked position for a word
    answers: np.ndarray  # [row]: the right class, or the masked word's id
    texts: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.answers)


def _encode(loaded: LoadedModel, texts, max_tokens: int) -> dict[str, np.ndarray]:
    encoded = loaded.tokenizer(list(texts), truncation=True, max_length=min(max_tokens, loaded.max_tokens),
                               padding=True, return_tensors="np")
    if "token_type_ids" not in encoded:
        encoded["token_type_ids"] = np.zeros_like(encoded["input_ids"])
    return encoded


def classifier_task(loaded: LoadedModel, texts, label_ids, max_tokens: int = 64) -> AblationTask:
    """Labelled rows for the classifier: the answer is each row's label id."""
    if not has_classifier(loaded):
        raise ExplainError("This model has no classifier: only the masked-word task can be scored.")
    encoded = _encode(loaded, texts, max_tokens)
    return AblationTask(CLASSIFIER, encoded["input_ids"], encoded["attention_mask"], encoded["token_type_ids"],
                        np.zeros(len(texts), dtype=np.int64), np.asarray(label_ids, dtype=np.int64), tuple(texts))


def masked_word_task(loaded: LoadedModel, sentences, seed: int = 0, max_tokens: int = 64) -> AblationTask:
    """Held-out sentences with one ordinary token each replaced by [MASK] (chosen by seed); the answer is that token."""
    if not loaded.has_mlm_head:
        raise ExplainError("This model has no masked-word (MLM) head.")
    encoded = _encode(loaded, sentences, max_tokens)
    ids = encoded["input_ids"].copy()
    ordinary = ~np.isin(ids, loaded.tokenizer.all_special_ids)  # [row, token]
    keep = ordinary.any(axis=1)
    rng = np.random.default_rng(seed)
    positions = np.array([rng.choice(np.flatnonzero(row)) for row in ordinary[keep]], dtype=np.int64)
    ids, rows = ids[keep], np.flatnonzero(keep)
    answers = ids[np.arange(len(rows)), positions]
    ids[np.arange(len(rows)), positions] = loaded.tokenizer.mask_token_id
    return AblationTask(MASKED_WORD, ids, encoded["attention_mask"][keep], encoded["token_type_ids"][keep],
                        positions, answers, tuple(sentences[i] for i in rows))


@dataclass(frozen=True, eq=False)
class Scores:
    """How well the model does on a task under each keep pattern."""

    accuracy: np.ndarray  # [pattern]: share of rows whose top answer is right
    probability: np.ndarray  # [pattern]: mean probability of the right answer


Progress = Callable[[float], None]


def score_patterns(loaded: LoadedModel, task: AblationTask, keeps: torch.Tensor, batch_rows: int = 16,
                   progress: Progress | None = None, cancelled: threading.Event | None = None) -> Scores:
    """Accuracy and mean right-answer probability under each keep pattern [pattern, depth, head].

    Rows are taken shortest first, so that a batch's rows are of about one length and each batch is cut to
    its longest row (padding costs as much as words). Per batch of rows: one untouched forward gives every
    depth's input; each pattern then runs only from its lowest switched-off depth up, with the rows of every
    pattern that starts there in one padded batch.
    """
    keeps = keeps.float()
    lowest_off = [int(np.flatnonzero((keep == 0).any(dim=-1).numpy())[0]) if (keep == 0).any() else None
                  for keep in keeps]
    right = torch.zeros(len(keeps), len(task))  # [pattern, row]: probability of the right answer
    correct = torch.zeros(len(keeps), len(task), dtype=torch.bool)  # [pattern, row]: top answer is the right one
    by_length = np.argsort(task.attention_mask.sum(axis=1), kind="stable")
    batches = [by_length[start:start + batch_rows] for start in range(0, len(task), batch_rows)]
    for done, rows in enumerate(batches):
        _check(cancelled)
        right[:, rows], correct[:, rows] = _score_batch(loaded, task, rows, keeps, lowest_off, cancelled)
        if progress:
            progress((done + 1) / len(batches))
    return Scores(correct.double().mean(dim=1).numpy(), right.double().mean(dim=1).numpy())


def _check(cancelled: threading.Event | None) -> None:
    if cancelled is not None and cancelled.is_set():
        raise AblationCancelled()


def _batch_inputs(task: AblationTask, rows: np.ndarray, device) -> tuple[torch.Tensor, ...]:
    """The rows' ids, mask and segments cut to the last column any of them uses, and their positions and answers."""
    mask = task.attention_mask[rows]  # [row, token]
    width = int(mask.any(axis=0).nonzero()[0].max()) + 1  # right padding: every column after this is padding
    cut = lambda array: torch.as_tensor(np.ascontiguousarray(array[rows, :width]), device=device)
    return (cut(task.input_ids), cut(task.attention_mask), cut(task.token_type_ids),
            torch.as_tensor(task.positions[rows], device=device), torch.as_tensor(task.answers[rows], device=device))


@torch.no_grad()
def _score_batch(loaded, task, rows: np.ndarray, keeps, lowest_off, cancelled) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-answer probability and correctness, [pattern, row] each, for one batch of rows under every pattern."""
    device = loaded.device
    ids, mask, segments, positions, answers = _batch_inputs(task, rows, device)
    right = torch.zeros(len(keeps), len(ids))
    correct = torch.zeros(len(keeps), len(ids), dtype=torch.bool)
    with loaded.lock:
        output = loaded.encoder(input_ids=ids, attention_mask=mask, token_type_ids=segments, output_hidden_states=True)
        read = output.last_hidden_state[torch.arange(len(ids), device=device), positions]  # [row, H]
        untouched = _judge(loaded, task.kind, read, answers)  # ([row], [row])
        right[:], correct[:] = untouched
        for depth in sorted({d for d in lowest_off if d is not None}):
            patterns = [i for i, d in enumerate(lowest_off) if d == depth]
            per_pass = max(1, MAX_SEQUENCES_PER_PASS // len(ids))
            for chunk in range(0, len(patterns), per_pass):
                _check(cancelled)
                chosen = patterns[chunk:chunk + per_pass]
                right[chosen], correct[chosen] = _run_patterns(
                    loaded, task.kind, output.hidden_states[depth], mask, positions, answers,
                    keeps[chosen].to(device), depth)
    return right, correct


def _run_patterns(loaded, kind, depth_input, mask, positions, answers, keeps, depth: int):
    """Rows × patterns in one pass from `depth` up; right-answer probability and correctness, [pattern, row] each."""
    patterns, rows = len(keeps), len(depth_input)
    hidden = depth_input.repeat(patterns, 1, 1)  # [pattern * row, token, H], pattern-major
    per_sequence = keeps.repeat_interleave(rows, dim=0)  # [pattern * row, depth, head]
    with heads_switched_off(loaded, per_sequence, first_depth=depth):
        read = run_layers_read_at(loaded, hidden, mask.repeat(patterns, 1), depth, positions.repeat(patterns))
    right, correct = _judge(loaded, kind, read, answers.repeat(patterns))
    return right.reshape(patterns, rows), correct.reshape(patterns, rows)  # [pattern * row] -> [pattern, row]


def _judge(loaded, kind, read, answers) -> tuple[torch.Tensor, torch.Tensor]:
    """Each sequence's probability of its right answer, from the hidden state read [sequence, H], and whether
    that is its top answer. exp(logit − logsumexp) is softmax at the one answer, without a vocabulary-wide softmax."""
    logits = _logits(loaded, kind, read)  # [sequence, answer]
    right = torch.exp(logits.gather(-1, answers[:, None])[:, 0] - torch.logsumexp(logits, dim=-1))
    return right.cpu(), (logits.argmax(dim=-1) == answers).cpu()


@dataclass(frozen=True, eq=False)
class HeadImportance:
    """The task's score untouched, and with each head switched off alone."""

    kind: str
    rows: int
    accuracy: float
    probability: float
    ablated_accuracy: np.ndarray  # [depth, head]
    ablated_probability: np.ndarray  # [depth, head]

    @property
    def accuracy_drop(self) -> np.ndarray:
        """How much accuracy falls when the head is off; [depth, head] (negative: it rises)."""
        return self.accuracy - self.ablated_accuracy

    @property
    def probability_drop(self) -> np.ndarray:
        """How much the mean probability of the right answer falls; [depth, head]."""
        return self.probability - self.ablated_probability

    def least_important_first(self) -> list[tuple[int, int]]:
        """Heads by probability drop, then accuracy drop, smallest first; ties in depth-then-head order (stable)."""
        depths, heads = self.accuracy_drop.shape
        cells = [(depth, head) for depth in range(depths) for head in range(heads)]
        return sorted(cells, key=lambda cell: (self.probability_drop[cell], self.accuracy_drop[cell]))


def single_head_patterns(loaded: LoadedModel) -> torch.Tensor:
    """One pattern per head with that head alone off; [depth * head, depth, head]."""
    depths, heads = depth_count(loaded.config), loaded.config.num_attention_heads
    return 1 - torch.eye(depths * heads).reshape(depths * heads, depths, heads)


def head_importance(loaded: LoadedModel, task: AblationTask, batch_rows: int = 16, progress: Progress | None = None,
                    cancelled: threading.Event | None = None) -> HeadImportance:
    """The importance map: the task scored untouched and with each head switched off alone."""
    depths, heads = depth_count(loaded.config), loaded.config.num_attention_heads
    keeps = torch.cat([torch.ones(1, depths, heads), single_head_patterns(loaded)])
    scores = score_patterns(loaded, task, keeps, batch_rows, progress, cancelled)
    return HeadImportance(task.kind, len(task), float(scores.accuracy[0]), float(scores.probability[0]),
                          scores.accuracy[1:].reshape(depths, heads), scores.probability[1:].reshape(depths, heads))


@dataclass(frozen=True, eq=False)
class PruningCurve:
    """Accuracy as heads are removed least important first (Michel et al. 2019)."""

    order: tuple[tuple[int, int], ...]  # the heads, in the order they are removed
    accuracy: np.ndarray  # [heads removed + 1]: entry k has the first k heads of `order` off
    probability: np.ndarray  # [heads removed + 1]

    @property
    def removed(self) -> np.ndarray:
        return np.arange(len(self.accuracy))


def pruning_curve(loaded: LoadedModel, task: AblationTask, importance: HeadImportance, batch_rows: int = 16,
                  progress: Progress | None = None, cancelled: threading.Event | None = None) -> PruningCurve:
    """Remove heads one more at a time, least important first, and score the task after each removal."""
    order = importance.least_important_first()
    keeps = [keep_mask(loaded)]
    for depth, head in order:
        keep = keeps[-1].clone()
        keep[depth, head] = 0
        keeps.append(keep)
    scores = score_patterns(loaded, task, torch.stack(keeps), batch_rows, progress, cancelled)
    return PruningCurve(tuple(order), scores.accuracy, scores.probability)


@dataclass(frozen=True, eq=False)
class HeadStudy:
    """Which heads a task needs: the importance map and the pruning curve it orders."""

    importance: HeadImportance
    pruning: PruningCurve


def map_share(depths: int) -> float:
    """The importance map's share of a study's work: each head off runs the depths from its own up (D(D+1)/2
    layers per head), while the pruning curve soon has a low head off and runs about all D layers per step."""
    return (depths + 1) / 2 / ((depths + 1) / 2 + depths)


def study_heads(loaded: LoadedModel, task: AblationTask, batch_rows: int = 16, progress: Progress | None = None,
                cancelled: threading.Event | None = None) -> HeadStudy:
    """The importance map, then the pruning curve, with one progress from 0 to 1 over both."""
    share = map_share(depth_count(loaded.config))
    part = lambda start, size: (lambda fraction: progress(start + size * fraction)) if progress else None
    importance = head_importance(loaded, task, batch_rows, part(0.0, share), cancelled)
    curve = pruning_curve(loaded, task, importance, batch_rows, part(share, 1 - share), cancelled)
    return HeadStudy(importance, curve)
