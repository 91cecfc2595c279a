"""Embeds bertviz's head and model views (offline HTML) with a guard against huge payloads."""
from __future__ import annotations

import streamlit as st

from albert_viz.figures.bertviz_offline import MAX_NUMBERS, TooLargeForBertviz, check_size, head_view_html, \
    layers_that_fit, model_view_html, payload_numbers
from albert_viz.model.capture import Capture
from albert_viz.ui.text import plain


# The capture names the attentions (model, text, tokens), so the array itself is not hashed on every rerun
# (at 512 tokens that is 75 MB to hash before a cache hit).
@st.cache_data(show_spinner=False, max_entries=8)
def _head_view(model: str, text: tuple, tokens: tuple[str, ...], layers: tuple[int, ...], layer: int, head: int,
               _attentions) -> str:
    return head_view_html(_attentions, list(tokens), list(layers), layer=layer, heads=[head])


@st.cache_data(show_spinner=False, max_entries=8)
def _model_view(model: str, text: tuple, tokens: tuple[str, ...], layers: tuple[int, ...], _attentions) -> str:
    return model_view_html(_attentions, list(tokens), list(layers))


def render(capture: Capture, layer: int = 0, head: int = 0) -> None:
    """The two bertviz views, starting on the page's layer and head; a clear message when too big."""
    view = st.radio("View", ["head", "model"], horizontal=True, key="bertviz_view",
                    format_func={"head": "Head view (lines between tokens)", "model": "Model view (every head)"}.get)
    fitting = layers_that_fit(capture.attentions, around=layer)
    if len(fitting) < capture.num_layers and payload_numbers(capture.attentions, fitting) <= MAX_NUMBERS:
        st.caption(f"Layers {fitting[0]}–{fitting[-1]} of {capture.num_layers}: bertviz writes every weight into "
                   "the page as text, and all layers would make the page too large for this sentence length.")
    identity = (capture.model_label, (capture.text, capture.text_pair), capture.tokens)
    try:
        if view == "head":
            st.caption(f"Starts on layer {layer}, head {head} (the sliders above); bertviz's own menu and colour "
                       "squares switch layers and heads.")
            check_size(capture.attentions, fitting)
            html = _head_view(*identity, tuple(fitting), layer, head, capture.attentions)
        else:
            layers = st.multiselect("Layers", list(range(capture.num_layers)), default=fitting, key="bertviz_layers")
            if not layers:
                st.info("Choose at least one layer.")
                return
            check_size(capture.attentions, layers)
            html = _model_view(*identity, tuple(sorted(layers)), capture.attentions)
    except TooLargeForBertviz as error:
        st.warning(plain(str(error)))
        return
    height = 120 + 24 * capture.num_tokens if view == "head" else 200 + 180 * len(layers)
    st.iframe(html, height=min(height, 4000))
