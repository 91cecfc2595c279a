"""The Explain & compare page's widgets and drawing: what to explain, the attribution, the agreement table."""
from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from albert_viz.analysis import attribution

from albert_viz.analysis.attention_modes import ExplainError
from albert_viz.analysis.attribution import ATTENTION_VIEWS, BASELINES, GRADIENT_VIEWS, MASKED_WORD, Attribution
from albert_viz.figures import explain_charts
from albert_viz.model.capture import Capture, CaptureError
from albert_viz.model.loading import ModelSpec
from albert_viz.ui import figures
from albert_viz.ui.resources import get_model
from albert_viz.ui.text import plain
from albert_viz.ui.widgets import current_model, current_spec

STEPS = 32
KINDS = {attribution.CLASSIFIER: "the classifier's verdict", MASKED_WORD: "the masked-word guess"}
GUESSED_POSITIONS = 64  # the default word to mask is sought among the first this many (one batched forward pass)


@dataclass(frozen=True)
class Question:
    """What to explain: the classifier's verdict, or the MLM head's guess at one position."""

    kind: str
    mask_position: int | None = None
    baseline: str = "[PAD]"


def question(capture: Capture) -> Question:
    """Pick the head to explain (and the word to mask); a note when the model lacks a head; stops if it has none."""
    loaded = current_model()
    if loaded is None:
        st.stop()
    kinds = attribution.targets(loaded)
    if attribution.CLASSIFIER not in kinds:
        st.info(plain(attribution.no_head_note(loaded)))  # it names the model: a folder or hub id the user typed
    if not kinds:
        st.stop()
    kind = st.radio("Explain", kinds, format_func=KINDS.get, horizontal=True, key="explain_target")
    baseline = st.radio("Baseline: every word replaced by", list(BASELINES), horizontal=True, key="explain_baseline",
                        help="Integrated Gradients shares out f(x) − f(baseline): the score on your sentence minus "
                             "the score with every word replaced by this token ([CLS] and [SEP] kept).")
    if kind != MASKED_WORD:
        return Question(kind, baseline=baseline)
    # The labels are the options (not a format_func over positions), so a new sentence brings new options.
    choices = {f"{p}: {capture.tokens[p]}": p for p in _maskable(capture)}
    chosen = st.selectbox("Word to mask", list(choices), index=_default_mask(capture, list(choices.values())),
                          key="explain_mask", help="The model reads [MASK] there and guesses the word; "
                                                   "the colours say which other words made it guess so.")
    return Question(kind, choices.get(chosen), baseline)


def _default_mask(capture: Capture, positions: list[int]) -> int:
    """Index of the word to mask first: one the model restores (a word before punctuation, surest first).

    Explaining a right guess teaches how the context led to it; if the model restores none, the first word
    (the page then says the guess is wrong)."""
    if not positions or capture.tokens[positions[0]] == "[MASK]":
        return 0
    guesses = _guesses(current_spec(), capture.text, capture.text_pair, tuple(positions[:GUESSED_POSITIONS]))
    right = [i for i, p in enumerate(positions[:GUESSED_POSITIONS]) if guesses[p][0] == capture.tokens[p]]
    if not right:
        return 0
    return max(right, key=lambda i: (capture.tokens[positions[i]].isalpha(), guesses[positions[i]][1]))


@st.cache_data(show_spinner="Masking each word in turn…", max_entries=32)
def _guesses(spec: ModelSpec, text: str, text_pair: str | None, positions: tuple[int, ...]):
    return attribution.top_guesses(get_model(spec), text, text_pair, list(positions))


def _maskable(capture: Capture) -> list[int]:
    """Positions a user can mask: not [CLS]/[SEP], within what the attribution reads; a typed [MASK] first."""
    inside = range(1, min(capture.num_tokens, attribution.MAX_TOKENS) - 1)
    ordinary = [p for p in inside if capture.tokens[p] not in ("[CLS]", "[SEP]", "<pad>", "[PAD]")]
    return sorted(ordinary, key=lambda p: capture.tokens[p] != "[MASK]")  # stable: sentence order otherwise


@st.cache_data(show_spinner=f"Integrated Gradients: {STEPS} steps in one batch…", max_entries=32)
def _explained(spec: ModelSpec, text: str, text_pair: str | None, kind: str, mask_position: int | None,
               baseline: str) -> Attribution:
    return attribution.explain_prediction(get_model(spec), text, text_pair, kind, mask_position, STEPS, baseline)


def attribution_or_stop(capture: Capture, asked: Question) -> Attribution:
    """The cached attribution for the page's sentence, or a clear message and a stop."""
    try:
        return _explained(current_spec(), capture.text, capture.text_pair, asked.kind, asked.mask_position,
                          asked.baseline)
    except (ExplainError, CaptureError) as error:
        st.info(plain(str(error)))
        st.stop()


def render(result: Attribution) -> None:
    """Headline, coloured tokens, the four views side by side, and how far attention and gradients agree."""
    st.subheader("Why this prediction")
    st.text(f"{_prediction_line(result)}\n{_score_line(result)}")
    if result.guess_is_right is not None:
        _guess_verdict(result)
    if result.original_length > len(result.tokens):
        st.warning(f"The text has {result.original_length} tokens; attributions read the first {len(result.tokens)}.")
    st.caption("Integrated Gradients credit per token: blue pushed the score up, red pushed it down.")
    st.html(coloured_tokens(result.tokens, result.integrated_gradients))
    _completeness(result)
    if result.explains_little:
        st.warning(plain(explains_little_note(result)))
    figures.show(explain_charts.attribution_bars(result), "attribution_bars", "explain_attribution")
    if disagreement := sign_disagreement_note(result):
        st.info(plain(disagreement))
    _agreement(result)


def _prediction_line(result: Attribution) -> str:
    sure = "" if np.isnan(result.probability) else f" (probability {result.probability:.2f})"
    if result.kind == attribution.CLASSIFIER:
        return f"Predicted class: “{result.target}”{sure}."
    return (f"Masked “{result.masked}” at position {result.position}; "
            f"the model's guess: “{result.target}”{sure}.")


def _score_line(result: Attribution) -> str:
    """What f is, in words, and its value on the sentence and on the baseline."""
    if result.kind == attribution.CLASSIFIER:
        what = (f"Its score: how far the model prefers “{result.target}” to the other classes, the log-odds "
                "log p / (1 − p)")
    else:
        what = f"Its score: the logit of “{result.target}” at the mask"
    every = "every word" if result.kind == attribution.CLASSIFIER else "every other word"
    return (f"{what}: f(x) = {result.score:.4f}; with {every} replaced by {result.baseline_token}: "
            f"f(baseline) = {result.baseline_score:.4f}.")


def _guess_verdict(result: Attribution) -> None:
    if result.guess_is_right:
        st.success(plain(f"The guess is right: the masked word was “{result.masked}”. The colours show which "
                         "words led the model back to it."))
    else:
        st.warning(plain(f"The guess is wrong: the masked word was “{result.masked}”, the model guessed "
                         f"“{result.target}”. The colours explain a wrong guess: which words led the model to "
                         f"“{result.target}”. Choose another word to mask to see a right one explained."))


def explains_little_note(result: Attribution) -> str:
    """The warning when f(x) − f(baseline) is small beside the credits (or below zero)."""
    higher = ("already scores it higher than your sentence" if result.change <= 0 else "is almost as confident")
    return (f"The baseline ({result.baseline_token} for every word) {higher}: f(x) − f(baseline) = "
            f"{result.change:+.4f}, while the credits add up to {result.credit_size:.4f} in size before they "
            "cancel. These credits explain little of the prediction; try another baseline.")


def sign_disagreement_note(result: Attribution) -> str | None:
    """Which words the two gradient methods credit with opposite signs, and why that can happen."""
    positions = result.sign_disagreements()
    if not positions:
        return None
    words = ", ".join(f"“{result.tokens[p]}” ({result.integrated_gradients[p]:+.2f} vs "
                      f"{result.gradient_x_input[p]:+.2f})" for p in positions)
    return (f"Integrated Gradients and gradient × input disagree in sign on {words}. They can: gradient × input "
            "is the local slope at your sentence times the word's embedding, while Integrated Gradients adds up "
            "the slope along the whole path from the baseline to your sentence. A word can pull the score down "
            "near the sentence and still push it up over the path.")


def coloured_tokens(tokens: tuple[str, ...], credit: np.ndarray) -> str:
    """Each token as an escaped span, its background blue or red by the sign and size of its credit."""
    scale = float(np.abs(credit).max()) or 1.0
    spans = []
    for token, value in zip(tokens, credit):
        strength = abs(float(value)) / scale
        rgb = "33,102,172" if value >= 0 else "178,24,43"
        spans.append(f'<span title="{value:.4f}" style="background: rgba({rgb},{strength:.2f}); padding: 2px 4px; '
                     f'margin: 2px; border-radius: 4px; display: inline-block">{html.escape(token)}</span>')
    return f'<div style="line-height: 2.2; font-family: monospace">{"".join(spans)}</div>'


def _completeness(result: Attribution) -> None:
    gap = result.completeness_gap
    text = (f"Completeness: the credits add up to {result.integrated_gradients.sum():.4f}; "
            f"f(x) − f(baseline) = {result.score - result.baseline_score:.4f}; "
            f"gap {gap:+.2e} ({100 * result.relative_gap:.2f}% with {result.n_steps} steps).")
    (st.caption if result.relative_gap < 0.05 else st.warning)(
        text + ("" if result.relative_gap < 0.05 else " The path integral is coarse here: read the colours loosely."))


def _agreement(result: Attribution) -> None:
    st.subheader("Do attention and gradients agree?")
    correlations = result.correlations()
    shown = lambda value: value if isinstance(value, str) else f"{value:+.2f}"  # a reason where there is no value
    st.table(pd.DataFrame(
        [[shown(correlations[(a, g)]) for g in GRADIENT_VIEWS] for a in ATTENTION_VIEWS],
        index=[f"{ATTENTION_VIEWS[a]} from position {result.position}" for a in ATTENTION_VIEWS],
        columns=[f"|{GRADIENT_VIEWS[g]}|" for g in GRADIENT_VIEWS]))
    if int(result.explained.sum()) < 3:
        st.info("A rank correlation needs at least 3 words to rank (besides [CLS], [SEP] and [MASK]): "
                "type a longer sentence.")
    st.caption("Spearman rank correlation over the sentence's words ([CLS], [SEP] and [MASK] left out: they are "
               "the same in the baseline, so they get no credit). 1 means the same ranking, 0 none in common. "
               "Abnar & Zuidema (2020) found raw attention agrees with blank-out importance at about 0.29 and "
               "rollout at 0.71 on average: where a model looks is not the same as what moved its answer.")
