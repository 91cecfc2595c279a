"""The Explain & compare page's widgets and drawing: what to explain, the attribution, the agreement table."""
from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from albert_viz.analysis import attribution

from albert_viz.analysis.attention_modes import ExplainError
from albert_viz.analysis.attribution import ATTENTION_VIEWS, GRADIENT_VIEWS, MASKED_WORD, Attribution
from albert_viz.figures import explain_charts
from albert_viz.model.capture import Capture, CaptureError
from albert_viz.model.loading import ModelSpec
from albert_viz.ui import figures
from albert_viz.ui.resources import get_model
from albert_viz.ui.text import plain
from albert_viz.ui.widgets import current_model, current_spec

STEPS = 32
KINDS = {attribution.CLASSIFIER: "the classifier's verdict", MASKED_WORD: "the masked-word guess"}


@dataclass(frozen=True)
class Question:
    """What to explain: the classifier's verdict, or the MLM head's guess at one position."""

    kind: str
    mask_position: int | None = None


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
    if kind != MASKED_WORD:
        return Question(kind)
    # The labels are the options (not a format_func over positions), so a new sentence brings new options.
    choices = {f"{p}: {capture.tokens[p]}": p for p in _maskable(capture)}
    chosen = st.selectbox("Word to mask", list(choices), key="explain_mask",
                          help="The model reads [MASK] there and guesses the word; "
                               "the colours say which other words made it guess so.")
    return Question(kind, choices.get(chosen))


def _maskable(capture: Capture) -> list[int]:
    """Positions a user can mask: not [CLS]/[SEP], within what the attribution reads; a typed [MASK] first."""
    inside = range(1, min(capture.num_tokens, attribution.MAX_TOKENS) - 1)
    ordinary = [p for p in inside if capture.tokens[p] not in ("[CLS]", "[SEP]", "<pad>", "[PAD]")]
    return sorted(ordinary, key=lambda p: capture.tokens[p] != "[MASK]")  # stable: sentence order otherwise


@st.cache_data(show_spinner=f"Integrated Gradients: {STEPS} steps in one batch…", max_entries=32)
def _explained(spec: ModelSpec, text: str, text_pair: str | None, kind: str, mask_position: int | None) -> Attribution:
    return attribution.explain_prediction(get_model(spec), text, text_pair, kind, mask_position, STEPS)


def attribution_or_stop(capture: Capture, asked: Question) -> Attribution:
    """The cached attribution for the page's sentence, or a clear message and a stop."""
    try:
        return _explained(current_spec(), capture.text, capture.text_pair, asked.kind, asked.mask_position)
    except (ExplainError, CaptureError) as error:
        st.info(plain(str(error)))
        st.stop()


def render(result: Attribution) -> None:
    """Headline, coloured tokens, the four views side by side, and how far attention and gradients agree."""
    st.subheader("Why this prediction")
    st.text(f"{_prediction_line(result)}\nIts score (a logit): f(x) = {result.score:.4f}; with every word "
            f"replaced by [PAD]: f(baseline) = {result.baseline_score:.4f}.")
    if result.original_length > len(result.tokens):
        st.warning(f"The text has {result.original_length} tokens; attributions read the first {len(result.tokens)}.")
    st.caption("Integrated Gradients credit per token: blue pushed the score up, red pushed it down.")
    st.html(coloured_tokens(result.tokens, result.integrated_gradients))
    _completeness(result)
    figures.show(explain_charts.attribution_bars(result), "attribution_bars", "explain_attribution")
    _agreement(result)


def _prediction_line(result: Attribution) -> str:
    if result.kind == attribution.CLASSIFIER:
        return f"Predicted class: “{result.target}”."
    return f"Masked “{result.masked}” at position {result.position}; the model's guess: “{result.target}”."


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
    shown = lambda value: "undefined" if value is None else f"{value:+.2f}"
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
