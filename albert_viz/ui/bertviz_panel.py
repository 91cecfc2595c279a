"""Embeds bertviz's head and model views (offline HTML) with a guard against huge payloads."""
from __future__ import annotations

import streamlit as st

from albert_viz.bertviz_offline import TooLargeForBertviz, head_view_html, model_view_html
from albert_viz.capture import Capture


@st.cache_data(show_spinner=False, max_entries=8)
def _html(view: str, attentions, tokens: tuple[str, ...], layers: tuple[int, ...]) -> str:
    build = head_view_html if view == "head" else model_view_html
    return build(attentions, list(tokens), list(layers))


def render(capture: Capture) -> None:
    """The two bertviz views for the chosen layers; a clear message when the page would be too big."""
    view = st.radio("View", ["head", "model"], horizontal=True, key="bertviz_view",
                    format_func={"head": "Head view (lines between tokens)", "model": "Model view (every head)"}.get)
    layers = st.multiselect("Layers", list(range(capture.num_layers)), default=list(range(min(capture.num_layers, 4))),
                            key="bertviz_layers")
    if not layers:
        st.info("Choose at least one layer.")
        return
    try:
        html = _html(view, capture.attentions, capture.tokens, tuple(sorted(layers)))
    except TooLargeForBertviz as error:
        st.warning(str(error))
        return
    height = 120 + 24 * capture.num_tokens if view == "head" else 200 + 180 * len(layers)
    st.iframe(html, height=min(height, 4000))
