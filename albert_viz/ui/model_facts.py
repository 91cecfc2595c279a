"""Cached facts about a model that need no forward pass (γ/β, parameter counts) and the SOP head's answer."""
from __future__ import annotations

import streamlit as st

from albert_viz.analysis import anatomy, tokens
from albert_viz.analysis.layernorm import LayerNormParams, layer_norm_params
from albert_viz.model.capture import Capture, CaptureError
from albert_viz.model.loading import ModelSpec
from albert_viz.ui.resources import get_capture, get_model
from albert_viz.ui.text import plain
from albert_viz.ui.widgets import current_spec


@st.cache_data(show_spinner=False, max_entries=8)
def get_layernorm_params(spec: ModelSpec) -> dict[str, LayerNormParams]:
    """γ, β and ε of every LayerNorm of the spec's model (its weights never change)."""
    return layer_norm_params(get_model(spec).encoder)


@st.cache_data(show_spinner="Counting parameters…", max_entries=8)
def get_parameter_table(spec: ModelSpec) -> tuple[anatomy.ParameterCount, ...]:
    """The official configurations' counts, plus the loaded model's own when it is not the bundled one."""
    if spec.source == "bundled":
        return anatomy.parameter_table()
    name, loaded = f"loaded: {spec.label}", get_model(spec)
    return anatomy.parameter_table({name: loaded.config}, {name: tokens.vocabulary_of(loaded.tokenizer)})


@st.cache_data(show_spinner="Asking the SOP head…", max_entries=32)
def get_sop_prediction(spec: ModelSpec, first: str, second: str) -> anatomy.SopPrediction:
    """The SOP head's probabilities for one pair in both orders."""
    return anatomy.sop_prediction(get_model(spec), first, second)


def capture_or_message(text: str, text_pair: str | None = None) -> Capture | None:
    """The cached capture, or None with a clear message, so the rest of the page still renders."""
    try:
        result = get_capture(current_spec(), text, text_pair, exact=True)  # anatomy checks E -> H to the digit
    except CaptureError as error:
        st.info(plain(str(error)))
        return None
    if note := result.truncation_note():
        st.warning(plain(note))
    return result
