"""The attention page's switch between raw, norm-weighted and rollout attention, with what each one measures."""
from __future__ import annotations

import streamlit as st

from albert_viz.model.capture import Capture
from albert_viz.analysis.attention_modes import (
    MODES, AttentionView, ExplainError, NormWeightedAttention, attention_view, norm_weighted_attention,
)
from albert_viz.model.loading import ModelSpec
from albert_viz.ui import projector
from albert_viz.ui.resources import get_model
from albert_viz.ui.text import plain
from albert_viz.ui.widgets import current_spec

EXPLANATION = (
    "**Raw weights** α: how much of each key token's vector this head takes (every row sums to 1).  \n"
    "**Norm-weighted** ‖α·f(x)‖ (Kobayashi et al. 2020): α times the length of what the head actually moves "
    "from that token, f(x) = (x W_V + b_V) W_O for this head; the numbers are lengths, so rows need not sum to 1. A head can give [SEP] most of its weight "
    "while [SEP]'s vector is tiny, so raw weights overstate it.  \n"
    "**Rollout** (Abnar & Zuidema 2020): the heads averaged and multiplied through every layer up to this one, "
    "with the residual path counted: which input tokens a token at this depth is built from.  \n"
    "They disagree because they answer different questions: where a head looks, what it carries, "
    "and what survives through depth. None of them alone says why the model decided."
)


# few entries: st.cache_data counts entries, not bytes, and one entry is [layer, head, token, token] (75 MB for
# the bundled model at 512 tokens)
@st.cache_data(show_spinner="Weighing attention by what it moves…", max_entries=4)
def _norm_weighted(spec: ModelSpec, text: str, text_pair: str | None, _capture: Capture) -> NormWeightedAttention:
    """Once per (model, text), from the page's capture (not hashed: the key says what it is); no forward pass."""
    return norm_weighted_attention(get_model(spec), _capture)


def norm_weighted(capture: Capture) -> NormWeightedAttention:
    """The norm-weighted attention of a capture of the session's model, cached as on the attention page."""
    return _norm_weighted(current_spec(), capture.text, capture.text_pair, capture)


def chosen_view(capture: Capture, layer: int, head: int) -> AttentionView | None:
    """The mode radio, the mute toggle and the text; the matrix to draw, or None after a message."""
    left, right = st.columns([3, 1], vertical_alignment="bottom")  # the switch level with the choices
    with left:
        mode = st.radio("Show", list(MODES), format_func=MODES.get, horizontal=True, key="attention_mode",
                        bind="query-params", help=EXPLANATION if projector.is_on() else None)
    with right:
        mute = st.toggle("Mute [CLS]/[SEP]", key="attention_mute",
                         help="Drop the [CLS] and [SEP] columns and re-normalise each row over the other tokens.")
    if not projector.is_on():  # on a projector the explanation sits behind the ? of "Show", to keep the map up
        with st.expander("What does each view measure?"):
            st.markdown(EXPLANATION)
    norms = _norm_weighted(current_spec(), capture.text, capture.text_pair, capture) if mode == "norm" else None
    try:
        return attention_view(capture, mode, layer, head, mute, norms)
    except ExplainError as error:
        st.info(plain(str(error)))
        return None
