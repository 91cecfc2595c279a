"""Embeds bertviz's head and model views (offline HTML) with a guard against huge payloads."""
from __future__ import annotations

import streamlit as st

from albert_viz.bertviz_offline import TooLargeForBertviz, head_view_html, layers_that_fit, model_view_html
from albert_viz.capture import Capture


@st.cache_data(show_spinner=False, max_entries=8)
def _head_view(attentions, tokens: tuple[str, ...], layers: tuple[int, ...], layer: int, head: int) -> str:
    return head_view_html(attentions, list(tokens), list(layers), layer=layer, heads=[head])


@st.cache_data(show_spinner=False, max_entries=8)
def _model_view(attentions, tokens: tuple[str, ...], layers: tuple[int, ...]) -> str:
    return model_view_html(attentions, list(tokens), list(layers))


def render(capture: Capture, layer: int = 0, head: int = 0) -> None:
    """The two bertviz views, starting on the page's layer and head; a clear message when too big."""
    view = st.radio("View", ["head", "model"], horizontal=True, key="bertviz_view",
                    format_func={"head": "Head view (lines between tokens)", "model": "Model view (every head)"}.get)
    fitting = layers_that_fit(capture.attentions, around=layer)
    if len(fitting) < capture.num_layers:
        st.caption(f"Layers {fitting[0]}–{fitting[-1]} of {capture.num_layers}: all of them would make the page "
                   "too large for this sentence length.")
    try:
        if view == "head":
            st.caption(f"Starts on layer {layer}, head {head} (the sliders above); bertviz's own menu and colour "
                       "squares switch layers and heads.")
            html = _head_view(capture.attentions, capture.tokens, tuple(fitting), layer, head)
        else:
            layers = st.multiselect("Layers", list(range(capture.num_layers)), default=fitting, key="bertviz_layers")
            if not layers:
                st.info("Choose at least one layer.")
                return
            html = _model_view(capture.attentions, capture.tokens, tuple(sorted(layers)))
    except TooLargeForBertviz as error:
        st.warning(str(error))
        return
    height = 120 + 24 * capture.num_tokens if view == "head" else 200 + 180 * len(layers)
    st.iframe(html, height=min(height, 4000))
