"""Why this prediction: token attributions (Captum) beside attention, and how far they agree.

Integrated Gradients (Sundararajan et al. 2017) and gradient × input over the word embeddings,
for a classifier's verdict (the predicted class's log-odds against the other classes) or the masked-word
head's guess, from a neutral baseline ([PAD], [MASK] or [UNK] in every word), next to attention rollout and
the last layer's attention from the explained position. The rank correlation between the two kinds is the
"attention is not explanation" lesson with the sentence's own numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from captum.attr import LayerGradientXActivation, LayerIntegratedGradients
from scipy.stats import spearmanr

from albert_viz.analysis.attention import rollout
from albert_viz.analysis.attention_modes import ExplainError
from albert_viz.model.capture import tokenize
from albert_viz.model.loading import LoadedModel

CLASSIFIER, MASKED_WORD = "classifier", "masked word"
MAX_TOKENS = 128  # Integrated Gradients runs n_steps copies of the sentence at once
ATTENTION_VIEWS = {"rollout": "attention rollout", "last_layer": "last layer's attention"}
GRADIENT_VIEWS = {"integrated_gradients": "Integrated Gradients", "gradient_x_input": "gradient × input"}
# The neutral inputs a baseline can be made of, by the tokenizer attribute that holds each one's id.
BASELINES = {"[PAD]": "pad_token_id", "[MASK]": "mask_token_id", "[UNK]": "unk_token_id"}
# |f(x) − f(baseline)| below this share of the credits' total size: they mostly cancel, and explain little.
SMALL_CHANGE = 0.2
# A sign disagreement counts only where both methods give the word at least this share of their largest credit.
NOTABLE_CREDIT = 0.05


def has_classifier(loaded: LoadedModel) -> bool:
    return hasattr(loaded.model, "classifier")


def targets(loaded: LoadedModel) -> list[str]:
    """What this model's heads can be asked to explain: its verdict, its masked-word guess, or both."""
    return [kind for kind, present in ((CLASSIFIER, has_classifier(loaded)), (MASKED_WORD, loaded.has_mlm_head))
            if present]


def rank_correlation(first: np.ndarray, second: np.ndarray) -> float | None:
    """Spearman's rank correlation; None when it is undefined (fewer than 3 values, or one side constant)."""
    if len(first) < 3 or np.ptp(first) == 0 or np.ptp(second) == 0:
        return None
    return float(spearmanr(first, second).statistic)


def no_correlation_reason(attention: np.ndarray, credit: np.ndarray) -> str:
    """Why rank_correlation has no value for these two rows, in words for the table."""
    if len(attention) < 3:
        return "1 word: nothing to rank" if len(attention) == 1 else f"{len(attention)} words: fewer than 3 to rank"
    if np.ptp(attention) == 0:
        return "all attention weights equal: no ranking"
    return "all credits equal: no ranking"


@dataclass(frozen=True, eq=False)
class Attribution:
    """Per token: what the gradients credit and where attention looks, for one explained output."""

    tokens: tuple[str, ...]
    kind: str  # CLASSIFIER or MASKED_WORD
    position: int  # the output position explained: 0 ([CLS]) for a verdict, the [MASK] for a word
    target: str  # the class or the word whose score is explained
    masked: str | None  # the token the [MASK] replaced (itself "[MASK]" if the user typed it); None for a verdict
    score: float  # f(x): the class's log-odds against the other classes, or the word's logit at the mask
    baseline_score: float  # f(baseline): the same with every ordinary token replaced by baseline_token
    baseline_token: str  # "[PAD]", "[MASK]" or "[UNK]": what stands in for every word in the baseline
    probability: float  # the model's probability for the explained class or word, on the sentence itself
    integrated_gradients: np.ndarray  # [token], summed over embedding dimensions
    gradient_x_input: np.ndarray  # [token]
    rollout: np.ndarray  # [token]: last layer's rollout row of the explained position
    last_layer: np.ndarray  # [token]: last layer's attention from the explained position, mean over heads
    explained: np.ndarray  # [token] bool: ordinary tokens (special ones equal their baseline: credit 0)
    n_steps: int
    original_length: int  # tokens before truncation

    @property
    def completeness_gap(self) -> float:
        """Σ IG − (f(x) − f(baseline)): zero for exact Integrated Gradients."""
        return float(self.integrated_gradients.sum() - (self.score - self.baseline_score))

    @property
    def relative_gap(self) -> float:
        """The completeness gap as a fraction of |f(x) − f(baseline)|."""
        return abs(self.completeness_gap) / max(abs(self.score - self.baseline_score), 1e-12)

    @property
    def change(self) -> float:
        """f(x) − f(baseline): what the credits share out."""
        return self.score - self.baseline_score

    @property
    def credit_size(self) -> float:
        """Σ |IG credit| over the words: how much the credits move the score, before they cancel."""
        return float(np.abs(self.integrated_gradients[self.explained]).sum())

    @property
    def explains_little(self) -> bool:
        """The baseline scores almost as high (or higher): the credits mostly cancel out."""
        return self.change <= 0 or abs(self.change) < SMALL_CHANGE * self.credit_size

    @property
    def guess_is_right(self) -> bool | None:
        """For a masked word: did the top guess restore the word? None for a verdict, or a typed [MASK]."""
        if self.kind != MASKED_WORD or self.masked in (None, "[MASK]"):
            return None
        return self.target == self.masked

    def sign_disagreements(self) -> list[int]:
        """Positions where Integrated Gradients and gradient × input credit a word with opposite signs."""
        def notable(values):
            return np.abs(values) >= NOTABLE_CREDIT * max(float(np.abs(values[self.explained]).max()), 1e-12)
        ig, gxi = self.integrated_gradients, self.gradient_x_input
        opposite = self.explained & notable(ig) & notable(gxi) & (np.sign(ig) != np.sign(gxi))
        return np.flatnonzero(opposite).tolist()

    def views(self) -> dict[str, np.ndarray]:
        return {"integrated_gradients": self.integrated_gradients, "gradient_x_input": self.gradient_x_input,
                "rollout": self.rollout, "last_layer": self.last_layer}

    def correlations(self) -> dict[tuple[str, str], float | str]:
        """Rank correlation of each attention view with each gradient view's |credit|, over ordinary tokens.

        Where there is none, the reason in words instead of a number."""
        views, results = self.views(), {}
        for a in ATTENTION_VIEWS:
            for g in GRADIENT_VIEWS:
                attention, credit = views[a][self.explained], np.abs(views[g][self.explained])
                value = rank_correlation(attention, credit)
                results[(a, g)] = no_correlation_reason(attention, credit) if value is None else value
        return results


def _inputs(loaded: LoadedModel, text: str, text_pair: str | None, kind: str, mask_position: int | None):
    """Token ids (mask in place), segment ids, ordinary tokens, explained position, untruncated length, masked token."""
    encoded, full_length = tokenize(loaded, text, text_pair, MAX_TOKENS)
    ids = encoded["input_ids"].to(loaded.device)  # [1, token]
    special = torch.tensor(loaded.tokenizer.all_special_ids, device=ids.device)
    if torch.isin(ids[0], special).all():  # before masking: "choose a word to mask" would not say why there is none
        raise ExplainError("The sentence is made of special tokens only: there is nothing to credit.")
    masked = None
    if kind == MASKED_WORD:
        mask_id = loaded.tokenizer.mask_token_id
        if mask_position is None:
            masks = (ids[0] == mask_id).nonzero().flatten().tolist()
            if not masks:
                raise ExplainError(f"Choose a word to mask, or write {loaded.tokenizer.mask_token} in the sentence.")
            mask_position = masks[0]
        if not 0 < mask_position < ids.shape[1] - 1:
            raise ExplainError("Choose a word of the sentence to mask, not [CLS] or [SEP].")
        masked = loaded.tokenizer.convert_ids_to_tokens(int(ids[0, mask_position]))
        ids = ids.clone()
        ids[0, mask_position] = mask_id
    ordinary = ~torch.isin(ids[0], special)  # [token]
    if not ordinary.any():  # the masked word was the only one
        raise ExplainError("The masked word is the sentence's only word: no other word is left to credit. "
                           "Add a few words around it.")
    segments = encoded["token_type_ids"].to(loaded.device)
    return ids, segments, ordinary, (0 if kind == CLASSIFIER else mask_position), full_length, masked


def _score_function(loaded: LoadedModel, kind: str, position: int, target_index: int):
    """f(input_ids, token_type_ids) -> [batch] score of the explained class or word."""
    def classifier_margin(input_ids, token_type_ids):
        logits = loaded.model(input_ids=input_ids, token_type_ids=token_type_ids).logits  # [batch, class]
        return class_margin(logits, target_index)

    def word_logit(input_ids, token_type_ids):
        hidden = loaded.encoder(input_ids=input_ids, token_type_ids=token_type_ids).last_hidden_state
        return loaded.model.predictions(hidden[:, position])[:, target_index]  # only the mask's row of the vocabulary head

    return classifier_margin if kind == CLASSIFIER else word_logit


def class_margin(logits: torch.Tensor, target_index: int) -> torch.Tensor:
    """[batch, class] -> [batch]: the class's log-odds against all the others, log p / (1 − p).

    One raw logit can rise while every other class rises more; the margin moves only when the verdict does.
    A single-output model (a regression head) has no other class: its one logit is the score.
    """
    if logits.shape[-1] == 1:
        return logits[:, 0]
    others = torch.cat([logits[:, :target_index], logits[:, target_index + 1:]], dim=-1)  # [batch, class - 1]
    return logits[:, target_index] - torch.logsumexp(others, dim=-1)


def baseline_ids(loaded: LoadedModel, ids: torch.Tensor, ordinary: torch.Tensor, token: str) -> torch.Tensor:
    """[1, token]: the sentence's frame (special tokens kept) with `token` wherever a word was."""
    if token not in BASELINES:
        raise ExplainError(f"Unknown baseline {token!r}: choose one of {', '.join(BASELINES)}.")
    token_id = getattr(loaded.tokenizer, BASELINES[token], None)
    if token_id is None:
        raise ExplainError(f"This model's tokenizer has no {token} token: choose another baseline.")
    return torch.where(ordinary, token_id, ids[0]).unsqueeze(0)


def top_guesses(loaded: LoadedModel, text: str, text_pair: str | None,
                positions: list[int]) -> dict[int, tuple[str, float]]:
    """For each position masked on its own: the masked-word head's top guess and its probability (one batch)."""
    if not positions:
        return {}
    encoded, _ = tokenize(loaded, text, text_pair, MAX_TOKENS)
    ids = encoded["input_ids"].to(loaded.device).repeat(len(positions), 1)  # [position, token]
    rows = torch.arange(len(positions), device=ids.device)
    columns = torch.tensor(positions, device=ids.device)
    ids[rows, columns] = loaded.tokenizer.mask_token_id  # row r masks positions[r]
    segments = encoded["token_type_ids"].to(loaded.device).expand_as(ids)
    with loaded.lock, torch.no_grad():
        hidden = loaded.encoder(input_ids=ids, token_type_ids=segments).last_hidden_state  # [position, token, H]
        probabilities = loaded.model.predictions(hidden[rows, columns]).float().softmax(dim=-1)  # [position, vocab]
    best, indices = probabilities.max(dim=-1)
    guesses = loaded.tokenizer.convert_ids_to_tokens(indices.tolist())
    return {p: (guess, float(b)) for p, guess, b in zip(positions, guesses, best.tolist())}


def _prediction(loaded: LoadedModel, kind: str, ids, segments, position: int):
    """The predicted class or word (index, name, probability) and the attentions of the same forward pass."""
    with torch.no_grad():
        output = loaded.encoder(input_ids=ids, token_type_ids=segments, output_attentions=True)
        if kind == CLASSIFIER:
            logits = loaded.model(input_ids=ids, token_type_ids=segments).logits[0]
        else:
            logits = loaded.model.predictions(output.last_hidden_state[:, position])[0]
        index = int(logits.argmax())
        probability = float(logits.float().softmax(dim=-1)[index]) if logits.shape[-1] > 1 else float("nan")
        name = (str(loaded.config.id2label[index]) if kind == CLASSIFIER
                else loaded.tokenizer.convert_ids_to_tokens(index))
    attentions = torch.stack(output.attentions)[:, 0].float().cpu().numpy()  # [layer, batch, head, q, k] -> [layer, head, q, k]
    return index, name, probability, attentions


def explain_prediction(loaded: LoadedModel, text: str, text_pair: str | None = None, kind: str = CLASSIFIER,
                       mask_position: int | None = None, n_steps: int = 32,
                       baseline_token: str = "[PAD]") -> Attribution:
    """Attribute the predicted class (or the masked word's top guess) to the input tokens, beside attention."""
    if kind not in targets(loaded):
        raise ExplainError(no_head_note(loaded, kind))
    ids, segments, ordinary, position, full_length, masked = _inputs(loaded, text, text_pair, kind, mask_position)
    baseline = baseline_ids(loaded, ids, ordinary, baseline_token)  # the same frame, no words
    embeddings = loaded.encoder.embeddings.word_embeddings
    with loaded.lock:  # Captum hooks the embedding layer of the shared model; nothing changes a parameter
        index, name, probability, attentions = _prediction(loaded, kind, ids, segments, position)
        score = _score_function(loaded, kind, position, index)
        integrated = LayerIntegratedGradients(score, embeddings).attribute(
            ids, baselines=baseline, additional_forward_args=(segments,), n_steps=n_steps,
            internal_batch_size=n_steps)  # one batched forward-backward for all interpolation steps
        gradient_x_input = LayerGradientXActivation(score, embeddings).attribute(ids, additional_forward_args=(segments,))
        with torch.no_grad():
            scores = score(torch.cat([ids, baseline]), segments.expand(2, -1))  # [f(x), f(baseline)]
    to_numpy = lambda tensor: tensor.detach().sum(dim=-1)[0].double().cpu().numpy()  # [1, token, E] -> [token]
    return Attribution(
        tokens=tuple(loaded.tokenizer.convert_ids_to_tokens(ids[0].tolist())), kind=kind, position=position,
        target=name, masked=masked, score=float(scores[0]), baseline_score=float(scores[1]),
        baseline_token=baseline_token, probability=probability,
        integrated_gradients=to_numpy(integrated), gradient_x_input=to_numpy(gradient_x_input),
        rollout=rollout(attentions)[-1, position], last_layer=attentions[-1].mean(axis=0)[position],
        explained=ordinary.cpu().numpy(), n_steps=n_steps, original_length=full_length)


def no_head_note(loaded: LoadedModel, kind: str | None = None) -> str:
    """What a model without the needed head can explain, in words for the page."""
    if not targets(loaded):
        return (f"{loaded.spec.label} has neither a classification head nor a masked-word (MLM) head, so there is "
                "no prediction to explain. Load the bundled model, a fine-tuned classifier, or an official "
                "albert/albert-*-v2 checkpoint.")
    if kind == MASKED_WORD:
        return f"{loaded.spec.label} has no masked-word (MLM) head; it can explain its classifier's verdict only."
    return (f"{loaded.spec.label} has no classification head, so there is no verdict to explain: it can explain "
            "its masked-word (MLM) guesses only. Fine-tune it on the Fine-tuning page (or load a "
            "sequence-classification checkpoint) to explain a verdict.")
