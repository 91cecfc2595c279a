"""Does a lesson step's narration say only what its screen shows? The attention patterns a narration names
(previous token, next token, itself, [CLS], [SEP]) are read from its text and checked against the numbers of that
step's own view: the toy preset's weights, or the model's attention on the step's sentence. A `quiz` step must be
a question the model can ask, and every product a narration works out (30,522·128 = 3,906,816) must be right.
"""
from __future__ import annotations

import dataclasses
import re

import numpy as np

from albert_viz.analysis import attention, attention_modes, walkthrough
from albert_viz.model.capture import Capture, capture
from albert_viz.model.loading import LoadedModel
from albert_viz.teaching import quiz
from albert_viz.teaching.lessons import LessonStep

# How a narration names each pattern; a name counts only after a word that says "attends" (see _CLAIM).
PATTERN_PHRASES = {
    "previous": r"previous[- ]token|the one before it|the token before",
    "next": r"next[- ]token|the next one|the one after it|the token after",
    "self": r"\bitself\b",
    "cls": r"\[CLS\]",
    "sep": r"\[SEP\]",
}
_CLAIM = r"\b(?:attend\w*|look\w*|point\w*|match\w*|habits?|pattern\w*|weight)\b[^.]{0,60}?(?:%s)"
_PATTERN_WORDS = {key: re.compile(_CLAIM % phrase + "|(?:%s)[- ]pattern" % phrase, re.IGNORECASE)
                  for key, phrase in PATTERN_PHRASES.items()}
_HEAD = re.compile(r"\bhead (\d+)\b", re.IGNORECASE)
CHECKED_VIEWS = ("toy", "attention", "heads", "overview", "quiz")  # quiz: an attention question's one head
# A head shows a pattern when the pattern is its largest share and holds at least this much of its weight.
MIN_SHARE = 0.4
_KEYS = ("previous", "next", "self", "cls", "sep")


def patterns_named(text: str) -> set[str]:
    """The attention patterns a piece of narration says something attends to."""
    return {key for key, words in _PATTERN_WORDS.items() if words.search(text)}


def _sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.!?])\s+", text) if part]


def _shares(statistics: attention.HeadStatistics) -> np.ndarray:
    return np.stack([getattr(statistics, key) for key in _KEYS])  # [pattern, layer, head]


def shown_by_heads(statistics: attention.HeadStatistics) -> np.ndarray:
    """[layer, head]: the pattern each head shows (a key of PATTERN_PHRASES), or '' when none stands out."""
    shares = _shares(statistics)
    best = shares.argmax(axis=0)
    return np.where(shares.max(axis=0) >= MIN_SHARE, np.array(_KEYS)[best], "")


def _toy_patterns(preset_key: str) -> set[str]:
    """Patterns the toy preset's weights show: each query's largest weight, read row by row."""
    preset = walkthrough.TOY_PRESETS[preset_key]()
    weights = walkthrough.toy_attention(preset.x, preset.w_q, preset.w_k, preset.w_v).weights  # [query, key]
    best = list(weights.argmax(axis=1))
    n = len(best)
    shown = set()
    if best[1:] == list(range(n - 1)):
        shown.add("previous")
    if best[:-1] == list(range(1, n)):
        shown.add("next")
    if best == list(range(n)):
        shown.add("self")
    if set(best) == {0}:
        shown.add("cls")
    if set(best) == {n - 1}:
        shown.add("sep")
    return shown


def _one_map(captured: Capture, matrix: np.ndarray) -> Capture:
    return dataclasses.replace(captured, attentions=matrix[None, None])  # [1, 1, query, key]


def _model_patterns(step: LessonStep, loaded: LoadedModel) -> tuple[np.ndarray, int | None]:
    """[layer, head] patterns of the heads the step's view shows ('' for heads outside the view), and its layer."""
    captured = capture(loaded, step.get("sentence", ""), step.get("pair") or None)
    layer = min(step.get("layer", 0), captured.num_layers - 1)
    if step.view == "attention" and step.get("map", "head") != "head":
        return shown_by_heads(attention.head_statistics(_one_map(captured, _whole_map(step, loaded, captured)))), None
    shown = shown_by_heads(attention.head_statistics(captured))
    if step.view == "overview":
        return shown, None
    visible = np.full_like(shown, "")
    if step.view in ("attention", "quiz"):
        head = min(step.get("head", 0), captured.num_heads - 1)
        visible[layer, head] = shown[layer, head]
    else:  # heads: every head of one layer
        visible[layer] = shown[layer]
    return visible, layer


def _whole_map(step: LessonStep, loaded: LoadedModel, captured: Capture) -> np.ndarray:
    """[query, key]: the one map an attention step draws when it is not a single head's raw weights."""
    layer, kind = min(step.get("layer", 0), captured.num_layers - 1), step.get("map")
    if kind == "mean":
        return attention.head_mean(captured.attentions)[layer]
    if kind == "rollout":
        return attention.rollout(captured.attentions)[layer]
    head = min(step.get("head", 0), captured.num_heads - 1)
    lengths = attention_modes.norm_weighted_attention(loaded, captured).weights[layer, head]  # [query, key]
    return lengths / lengths.sum(axis=-1, keepdims=True)  # each key's share of what the query receives


# A product worked out in a narration: "30,522·128 = 3,906,816" or "30,000·128 + 128·768 = 3,938,304".
_NUMBER = r"(\d[\d,]*)"
_PRODUCT = re.compile(rf"{_NUMBER}\s*[·×]\s*{_NUMBER}(?:\s*\+\s*{_NUMBER}\s*[·×]\s*{_NUMBER})?\s*=\s*{_NUMBER}")


def wrong_arithmetic(text: str) -> list[str]:
    """Every product (or sum of two) a narration works out that does not come to what it says."""
    problems = []
    for match in _PRODUCT.finditer(text):
        a, b, c, d, said = (int(group.replace(",", "")) if group else 0 for group in match.groups())
        if a * b + c * d != said:
            problems.append(f"“{match.group(0)}” is wrong: it comes to {a * b + c * d:,}")
    return problems


def _unaskable(step: LessonStep, loaded: LoadedModel) -> list[str]:
    """Why this model cannot ask the step's question ([] when it can)."""
    try:
        quiz.question_for_step(step, loaded)
    except quiz.QuestionError as error:
        return [f"the question cannot be asked: {error}"]
    return []


def unsupported_claims(step: LessonStep, loaded: LoadedModel) -> list[str]:
    """Every pattern the step's narration names that its own screen does not show, every product it gets wrong,
    and why a question step cannot be asked, in words; [] when all hold."""
    problems = wrong_arithmetic(step.narration) + (_unaskable(step, loaded) if step.view == "quiz" else [])
    if step.view == "quiz" and step.get("kind") != "attention":
        return problems
    return problems + _pattern_claims(step, loaded)


def _pattern_claims(step: LessonStep, loaded: LoadedModel) -> list[str]:
    if step.view not in CHECKED_VIEWS or not patterns_named(step.narration):
        return []
    if step.view == "toy":
        missing = patterns_named(step.narration) - _toy_patterns(step.get("preset", "article"))
        return [f"the toy preset shows no {attention.PATTERNS[key]} pattern" for key in sorted(missing)]
    shown, layer = _model_patterns(step, loaded)
    problems = []
    for sentence in _sentences(step.narration):
        named = patterns_named(sentence)
        heads = [int(h) for h in _HEAD.findall(sentence)]
        for key in sorted(named):
            if heads and layer is not None:
                problems += [f"head {h} of layer {layer} does not mostly attend to {attention.PATTERNS[key]}"
                             for h in heads if h >= shown.shape[1] or shown[layer, h] != key]
            elif key not in set(shown.ravel()):
                problems.append(f"no head on this screen mostly attends to {attention.PATTERNS[key]}")
    return problems
