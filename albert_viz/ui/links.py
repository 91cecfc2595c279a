"""Shared links: the page, the model, the sentences, layer, head, view and tab live in the URL.

Layer/head sliders, the attention tab and the attention mode are bound to the URL by Streamlit itself
(`bind="query-params"`), so they stay current even when only a fragment reruns. The sentences and the
model are read from the URL once, when a session starts, and written back on every full run.
"""
from __future__ import annotations

import streamlit as st

from albert_viz.model.loading import ModelLoadError, ModelSpec
from albert_viz.model.text_limits import NAME_CHARS, SENTENCE_CHARS
from albert_viz.ui import state
from albert_viz.ui.resources import get_model

TEXT, PAIR, MODEL = "text", "pair", "model"  # URL parameter names
RESTORED = "_links_restored"
SOURCES_IN_LINKS = ("bundled", "random", "hub", "local")

# A button that copies the page's address. It runs in the app's own origin (st.iframe srcdoc), reads the
# address bar of the page around it, and falls back to selecting the text when the clipboard is refused.
COPY_LINK_HTML = """
<style>body { margin: 0; }</style>
<div style="font-family: sans-serif; font-size: 14px;">
<button id="copy" style="padding: 6px 12px; border-radius: 8px; border: 1px solid #bbb; background: white;
  cursor: pointer; font-size: 14px;">Copy a link to this view</button>
<div id="done" role="status" style="margin-top: 4px; min-height: 2.7em; line-height: 1.35; font-size: 13px;
  color: #2e7d32;"></div>
<input id="link" readonly style="position: absolute; left: -9999px;">
</div>
<script>
document.getElementById("copy").addEventListener("click", async () => {
  const link = window.parent.location.href;
  const field = document.getElementById("link");
  field.value = link;
  try { await navigator.clipboard.writeText(link); }
  catch (error) { field.select(); document.execCommand("copy"); }
  document.getElementById("done").textContent = "Copied: anyone opening it sees this view.";
});
</script>
"""


def spec_from_link(value: str, device: str = "auto") -> ModelSpec:
    """'bundled', 'random', 'hub:owner/name' or 'local:/folder' -> a ModelSpec; ModelLoadError for anything else."""
    source, _, location = value.partition(":")
    if source not in SOURCES_IN_LINKS or (source in ("hub", "local")) != bool(location):
        raise ModelLoadError(f"“{value[:80]}” is not a model this app knows how to name in a link.")
    return ModelSpec(source=source, location=location[:NAME_CHARS], device=device)


def link_of(spec: ModelSpec) -> str:
    return f"{spec.source}:{spec.location}" if spec.location else spec.source


def restore_from_url() -> None:
    """Once per session: take the sentences and the model from the URL the session was opened with."""
    if st.session_state.get(RESTORED):
        return
    st.session_state[RESTORED] = True
    params = st.query_params
    if TEXT in params:
        st.session_state[state.SENTENCE] = params[TEXT][:SENTENCE_CHARS]
    if PAIR in params:
        st.session_state[state.SENTENCE_PAIR] = params[PAIR][:SENTENCE_CHARS]
    if MODEL in params and params[MODEL] != "bundled":
        _load_linked_model(params[MODEL])


def _load_linked_model(value: str) -> None:
    """Use the linked model if this server can load it; else say so and keep the bundled one."""
    try:
        spec = spec_from_link(value)
        get_model(spec)
    except ModelLoadError as error:
        st.session_state["model_error"] = (f"The link asks for the model “{value[:80]}”, which this server "
                                           f"cannot load: {error}")  # the sidebar shows it inert
        return
    st.session_state[state.MODEL_SPEC] = spec


def url_fields(sentence: str, pair: str, spec: ModelSpec) -> dict[str, str]:
    """What the URL carries for these settings; '' means the parameter is left out (the default)."""
    return {TEXT: sentence if sentence != state.DEFAULT_SENTENCE else "", PAIR: pair,
            MODEL: link_of(spec) if spec.source != "bundled" else ""}


def publish_to_url() -> None:
    """Write the session's sentences and model into the URL (the bound widgets write their own)."""
    fields = url_fields(st.session_state.get(state.SENTENCE, state.DEFAULT_SENTENCE),
                        st.session_state.get(state.SENTENCE_PAIR, ""),
                        st.session_state.get(state.MODEL_SPEC, ModelSpec()))
    for name, value in fields.items():
        _set_or_drop(name, value)


def _set_or_drop(name: str, value: str) -> None:
    if value:
        if st.query_params.get(name) != value:
            st.query_params[name] = value
    elif name in st.query_params:
        del st.query_params[name]


# The button and, under it, room for two lines of its "Copied: ..." note, which a narrow sidebar wraps.
COPY_LINK_PX = 76


def copy_link_button() -> None:
    """A button that copies the address of exactly what is on screen."""
    st.iframe(COPY_LINK_HTML, height=COPY_LINK_PX)
