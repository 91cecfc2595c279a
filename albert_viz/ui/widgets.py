"""Widgets every page shares: the model picker in the sidebar, the sentence inputs, error handling."""
from __future__ import annotations

import streamlit as st

from albert_viz.figures.attention_maps import OVERVIEW_CELLS
from albert_viz.figures.bertviz_offline import MAX_NUMBERS
from albert_viz.model.capture import Capture, CaptureError
from albert_viz.model.text_limits import NAME_CHARS, PASTE_CHARS, SENTENCE_CHARS, over_limit
from albert_viz.teaching import glossary
from albert_viz.model.loading import (
    FINETUNED_HUB_MODELS, OFFICIAL_HUB_MODELS, LoadedModel, ModelLoadError, ModelSpec, available_devices,
)
from albert_viz.ui import projector, state
from albert_viz.ui.resources import get_capture, get_model
from albert_viz.ui.text import plain

SOURCES = {
    "bundled": "Bundled ALBERT-tiny (offline)",
    "hub": "Hugging Face hub",
    "local": "Local folder",
    "random": "Random tiny ALBERT (untrained)",
}
OTHER_HUB_ID = "other…"


def current_spec() -> ModelSpec:
    return st.session_state.setdefault(state.MODEL_SPEC, ModelSpec())


def model_sidebar() -> None:
    """Pick a model source and device; a failed load says why and keeps the model we had."""
    with st.sidebar:
        st.subheader("Model")
        spec = current_spec()
        source = st.radio("Source", list(SOURCES), format_func=SOURCES.get, index=list(SOURCES).index(spec.source),
                          key="model_source")
        location = _location_input(source, spec)
        devices = available_devices()
        device = st.selectbox("Device", devices, index=devices.index(spec.device) if spec.device in devices else 0,
                              help="auto picks a CUDA GPU, then Apple MPS, then the CPU.")
        if st.button("Load model", type="primary", width="stretch"):
            _try_switch(ModelSpec(source=source, location=location, device=device))
        _describe_loaded_model()


def _location_input(source: str, spec: ModelSpec) -> str:
    if source == "hub":
        choices = list(OFFICIAL_HUB_MODELS) + list(FINETUNED_HUB_MODELS) + [OTHER_HUB_ID]
        chosen = st.selectbox("Hub model", choices, help="Needs internet the first time; cached afterwards.")
        if chosen == OTHER_HUB_ID:
            return limited_text_input(st, "Hub model id", NAME_CHARS, placeholder="owner/model-name")
        return chosen
    if source == "local":
        return limited_text_input(st, "Folder", NAME_CHARS, value=spec.location if spec.source == "local" else "",
                                  placeholder="/path/to/albert-checkpoint",
                                  help="A folder with config.json, model.safetensors and tokenizer files.")
    return ""


def _try_switch(spec: ModelSpec) -> None:
    try:
        get_model(spec)
    except ModelLoadError as error:
        st.session_state["model_error"] = str(error)
        return
    st.session_state.pop("model_error", None)
    st.session_state[state.MODEL_SPEC] = spec


def _describe_loaded_model() -> None:
    if error := st.session_state.get("model_error"):
        st.error(plain(f"Could not load that model. {error} Still using {current_spec().label}."))
    loaded = current_model()
    if loaded is None:
        return
    config = loaded.config
    depth = config.num_hidden_layers * config.inner_group_num
    st.text(f"{loaded.spec.label} on {loaded.device}")  # a hub id or folder the user typed: shown inert
    st.caption(glossary.model_summary(depth, config.num_attention_heads, config.embedding_size,
                                      config.hidden_size, config.num_hidden_groups, config.inner_group_num),
               help=glossary.caption("E", "H", "shared group"))
    for note in loaded.notes:
        st.warning(plain(note))


def current_model() -> LoadedModel | None:
    """The session's model; on failure an error on the page and None."""
    try:
        return get_model(current_spec())
    except ModelLoadError as error:
        st.error(plain(f"Could not load {current_spec().label}: {error}"))
        return None


def _remember(widget_key: str, store_key: str) -> None:
    st.session_state[store_key] = st.session_state[widget_key]


def limited_text_input(container, label: str, limit: int, **kwargs) -> str:
    """st.text_input that says when its text is over `limit` and returns at most `limit` characters.

    The box itself takes PASTE_CHARS: with max_chars at the limit, the browser would drop a longer paste
    without a word and keep the old text.
    """
    text = container.text_input(label, max_chars=PASTE_CHARS, **kwargs)
    if message := over_limit(text, limit, f"The box “{label}”"):
        container.warning(plain(message))
    return text[:limit]


def _persistent_text_input(label: str, store_key: str, default: str, limit: int = SENTENCE_CHARS) -> str:
    """A text input whose value survives moving between pages (widget state alone does not)."""
    widget_key = f"_widget_{store_key}"
    st.session_state[widget_key] = st.session_state.setdefault(store_key, default)
    return limited_text_input(st, label, limit, key=widget_key, on_change=_remember, args=(widget_key, store_key))


def sentence_inputs(with_pair: bool = True) -> tuple[str, str | None]:
    """The sentence (and optional second sentence) every page analyses."""
    columns = st.columns(2) if with_pair else [st.container()]
    with columns[0]:
        text = _persistent_text_input("Sentence", state.SENTENCE, state.DEFAULT_SENTENCE)
    pair = None
    if with_pair:
        with columns[1]:
            pair = _persistent_text_input("Second sentence (optional)", state.SENTENCE_PAIR, "")
    return text, (pair or None)


def capture_or_stop(text: str, text_pair: str | None = None, exact: bool = False) -> Capture:
    """The cached capture for the current model, or a clear message and a stop.

    exact: the page checks the model's arithmetic to the last float32 digit, so a long text's capture must not
    come from the float16 cache (see resources.get_capture).
    """
    if current_model() is None:
        st.stop()
    try:
        result = get_capture(current_spec(), text, text_pair, exact=exact)
    except CaptureError as error:
        st.info(plain(str(error)))
        st.stop()
    if note := result.truncation_note():
        st.warning(plain(note))
    return result


def layer_head_selectors(capture: Capture, key: str = "") -> tuple[int, int]:
    """Layer and head sliders sized to the captured model; both start at 0.

    No value= given: a click on the all-heads grid sets the head through session state, and a slider created with
    a default and also set that way logs a warning on the server console at every click.
    """
    left, right = st.columns(2)
    with left:
        # bound to the URL: a shared link opens the same layer and head, even after a fragment-only rerun
        layer = st.slider("Layer", 0, capture.num_layers - 1, key=f"layer{key}",
                          bind="query-params") if capture.num_layers > 1 else 0
    with right:
        head = st.slider("Head", 0, capture.num_heads - 1, key=f"head{key}",
                         bind="query-params") if capture.num_heads > 1 else 0
    return layer, head


def limits_caption(capture: Capture) -> None:
    """One caption with what this page will read and draw for long texts, and why (left out on a projector)."""
    if projector.is_on():  # reference for the reader, not the room: a text that is cut still gets its warning
        return
    st.caption(f"{capture.cap().describe()} Past {OVERVIEW_CELLS} tokens the all-heads maps are overviews "
               "(the largest weight in each block of tokens), sent small so the page stays quick; the one-head map "
               f"is exact at any length. bertviz draws at most {MAX_NUMBERS / 1e6:.1f} million weights: it writes "
               "each one into the page as text.")
