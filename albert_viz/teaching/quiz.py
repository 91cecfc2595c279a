"""Predict, then reveal: questions made from the current sentence and model, answered by the model's own numbers.

Nothing here is hard-coded: every question is built from a capture or a prediction, and its answer
is an argmax over what the model computed. The page asks, the student commits, then the page reveals.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from albert_viz.analysis import walkthrough
from albert_viz.analysis.walkthrough import MaskPrediction, SentenceOrder, WalkthroughError
from albert_viz.model.capture import Capture, CaptureError, capture
from albert_viz.model.loading import LoadedModel
from albert_viz.teaching.lessons import MASK, LessonStep

SPECIAL_TOKENS = ("[CLS]", "[SEP]", "[PAD]", "<pad>", "<s>", "</s>")
PRONOUNS = ("it", "he", "she", "they", "its", "him", "her", "them", "this", "that")


@dataclass(frozen=True, eq=False)
class Question:
    """One quiz card: what is asked, the choices, which one the model picks, and the numbers behind it."""

    kind: str  # 'attention' | 'mask' | 'order'
    prompt: str
    choices: tuple[str, ...]
    answer: int  # index into choices: the model's own answer
    scores: np.ndarray  # [choice]: the number each choice gets from the model (weight or probability)
    key: str  # identifies the question, so a new sentence or setting starts a new card

    def is_right(self, chosen: int) -> bool:
        return chosen == self.answer


def _stable_seed(*parts) -> int:
    """The same inputs always pick the same query token (a reload does not change the question)."""
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:8], 16)


def query_position(capture: Capture, round_number: int = 0) -> int:
    """A word worth asking about: a pronoun if the sentence has one, else an ordinary token picked by the round."""
    ordinary = [i for i, token in enumerate(capture.tokens) if token not in SPECIAL_TOKENS]
    if not ordinary:
        return 0
    pronouns = [i for i in ordinary if capture.tokens[i].lstrip("▁").lower() in PRONOUNS]
    if pronouns and round_number == 0:
        return pronouns[0]
    rng = np.random.default_rng(_stable_seed(capture.tokens, round_number))
    return int(rng.choice(ordinary))


def attention_question(capture: Capture, layer: int, head: int, round_number: int = 0,
                       query: int | None = None) -> Question:
    """'Which token will <query> attend to most in layer L, head H?' Choices are the sentence's positions.

    query: the position to ask about; None picks one (query_position)."""
    query = query_position(capture, round_number) if query is None else query
    weights = capture.attentions[layer, head, query]  # [key]
    choices = tuple(f"{position}: {token}" for position, token in enumerate(capture.tokens))
    return Question(
        kind="attention",
        prompt=f"In layer {layer}, head {head}: which token will “{capture.tokens[query]}” (position {query}) "
               "attend to most?",
        choices=choices, answer=int(np.argmax(weights)), scores=weights.copy(),
        key=f"attention|{capture.model_label}|{capture.tokens}|{layer}|{head}|{query}",
    )


def mask_question(prediction: MaskPrediction, choices: int = 4) -> Question:
    """'What will the model put in [MASK]?' The model's top guesses plus the hidden word, in a fixed shuffled order."""
    options = list(prediction.candidates[:choices])
    if prediction.original is not None and prediction.original not in options:
        options[-1] = prediction.original  # the true word is always a choice, even when the model ranks it low
    probability = {token: float(p) for token, p in zip(prediction.candidates, prediction.probabilities)}
    if prediction.original is not None:
        probability[prediction.original] = float(prediction.original_probability)
    rng = np.random.default_rng(_stable_seed(prediction.position, *options))
    order = rng.permutation(len(options))
    shuffled = tuple(options[i] for i in order)
    scores = np.array([probability[token] for token in shuffled])
    top = prediction.candidates[0]  # the model's argmax over the whole vocabulary
    return Question(
        kind="mask",
        prompt=f"Position {prediction.position} is hidden behind [MASK]. What will the model put there?",
        choices=shuffled, answer=shuffled.index(top), scores=scores,
        key=f"mask|{prediction.position}|{'|'.join(shuffled)}",
    )


def order_question(order: SentenceOrder) -> Question:
    """'Which order does the model think is the original?' from the SOP head's two probabilities."""
    choices = (f"A then B: “{order.first}” first", f"B then A: “{order.second}” first")
    scores = np.array([order.given_order[0], order.swapped_order[0]])  # P(in order) of each arrangement
    return Question(
        kind="order",
        prompt="The model sees the two segments both ways round. Which order will it call the original one?",
        choices=choices, answer=int(np.argmax(scores)), scores=scores,
        key=f"order|{order.first}|{order.second}",
    )


# ---------------------------------------------------------------------------------------------
# A lesson's `quiz` step: the same question for the projector and for every student of a live class
# ---------------------------------------------------------------------------------------------

UNITS = {"attention": "weight", "mask": "probability", "order": "P(in order)"}  # what a question's scores are


class QuestionError(ValueError):
    """A quiz step this model cannot ask (no MLM/SOP head, a word not in the sentence, …); the message is for
    the user."""


def _word_position(captured: Capture, word: str) -> int:
    """The first token that spells `word` (case and SentencePiece's ▁ aside); [CLS] or [SEP] only when named."""
    wanted = word.strip().lower()
    for position, token in enumerate(captured.tokens):
        if token.lstrip("▁").lower() == wanted and (token not in SPECIAL_TOKENS or token.lower() == wanted):
            return position
    raise QuestionError(f"“{word.strip()}” is not one of the tokens this model reads the sentence as "
                        f"({' '.join(captured.tokens)}); the question asks about another word.")


def _attention_for_step(step: LessonStep, loaded: LoadedModel) -> Question:
    captured = capture(loaded, step.get("sentence", ""), step.get("pair") or None)
    layer = min(step.get("layer", 0), captured.num_layers - 1)  # a lesson written for a deeper model still asks
    head = min(step.get("head", 0), captured.num_heads - 1)
    query = _word_position(captured, step.get("word")) if step.get("word") else None
    return attention_question(captured, layer, head, query=query)


def _mask_for_step(step: LessonStep, loaded: LoadedModel) -> Question:
    text = step.get("sentence", "").replace(MASK, loaded.tokenizer.mask_token)  # the lesson writes [MASK]
    predictions = walkthrough.masked_word_predictions(loaded, text, top_k=10).predictions
    return mask_question(predictions[0])


def _order_for_step(step: LessonStep, loaded: LoadedModel) -> Question:
    return order_question(walkthrough.sentence_order(loaded, step.get("sentence", ""), step.get("pair", "")))


_BUILDERS = {"attention": _attention_for_step, "mask": _mask_for_step, "order": _order_for_step}


def question_for_step(step: LessonStep, loaded: LoadedModel) -> Question:
    """The question a lesson's `quiz` step asks, built from this model (its answer is the model's own);
    QuestionError when this model cannot ask it."""
    if step.view != "quiz" or step.get("kind") not in _BUILDERS:
        raise ValueError(f"not a quiz step: view {step.view!r}, kind {step.get('kind')!r}")
    try:
        return _BUILDERS[step.get("kind")](step, loaded)
    except (CaptureError, WalkthroughError) as error:
        raise QuestionError(str(error)) from None
