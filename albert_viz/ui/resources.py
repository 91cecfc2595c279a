"""The one place that caches: models once per process (shared by every session), captures per input."""
from __future__ import annotations

import streamlit as st

from albert_viz.capture import Capture, capture
from albert_viz.finetune.runner import BaseRunner, make_runner
from albert_viz.models import LoadedModel, ModelSpec, load_model


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def get_model(spec: ModelSpec) -> LoadedModel:
    """Loaded once per spec for all sessions; never trained, and hooked only under its lock."""
    return load_model(spec)


@st.cache_data(show_spinner="Running the model…", max_entries=64)
def get_capture(spec: ModelSpec, text: str, text_pair: str | None = None) -> Capture:
    """One forward pass per (model, text); changing a selector re-plots from this cache."""
    return capture(get_model(spec), text, text_pair)


@st.cache_resource(show_spinner=False)
def get_runner() -> BaseRunner:
    """One fine-tuning runner per server (local processes, or Ray); jobs and their store outlive sessions."""
    return make_runner()
