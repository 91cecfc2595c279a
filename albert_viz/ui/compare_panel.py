"""Side by side on the Explain & compare page: two sentences or two models, the difference, the heads that moved."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from albert_viz.analysis.attention_modes import special_tokens_note, special_tokens_only
from albert_viz.analysis.compare import MINIMAL_PAIRS, SideBySide
from albert_viz.figures import attention_maps, explain_charts
from albert_viz.model.capture import Capture, CaptureError
from albert_viz.model.loading import ModelLoadError, ModelSpec
from albert_viz.ui import figures
from albert_viz.ui.resources import get_capture, get_model
from albert_viz.ui.text import plain
from albert_viz.ui.widgets import SOURCES, current_model, current_spec

TWO_SENTENCES, TWO_MODELS = "two sentences, one model", "one sentence, two models"
OWN_PAIR = "your own pair"
FIRST, SECOND = "compare_first", "compare_second"


def _use_preset() -> None:
    """Copy the chosen minimal pair into the two sentence boxes."""
    if (pair := MINIMAL_PAIRS.get(st.session_state["compare_preset"])) is not None:
        st.session_state[FIRST], st.session_state[SECOND] = pair


def inputs() -> tuple[Capture, Capture]:
    """The two captures to compare, or a clear message and a stop."""
    if current_model() is None:
        st.stop()
    mode = st.radio("Compare", [TWO_SENTENCES, TWO_MODELS], horizontal=True, key="compare_mode")
    if mode == TWO_SENTENCES:
        return _two_sentences()
    return _two_models()


def _two_sentences() -> tuple[Capture, Capture]:
    first_pair = next(iter(MINIMAL_PAIRS.values()))
    st.session_state.setdefault(FIRST, first_pair[0])
    st.session_state.setdefault(SECOND, first_pair[1])
    st.selectbox("Minimal pair", list(MINIMAL_PAIRS) + [OWN_PAIR], key="compare_preset", on_change=_use_preset,
                 help="Two sentences that differ in one word: the difference map shows what that word changes.")
    left, right = st.columns(2)
    first = left.text_input("First sentence", key=FIRST, max_chars=2000)
    second = right.text_input("Second sentence", key=SECOND, max_chars=2000)
    spec = current_spec()
    return _capture_or_stop(spec, first, "The first sentence"), _capture_or_stop(spec, second, "The second sentence")


def _two_models() -> tuple[Capture, Capture]:
    text = st.text_input("Sentence", key="compare_sentence", value="I love programming", max_chars=2000)
    left, right = st.columns(2)
    left.text(f"First model: {current_spec().label} (the sidebar's)")
    with right:
        choices = [source for source in SOURCES if source != "hub"] + ["hub"]
        source = st.selectbox("Second model", choices, format_func=SOURCES.get, key="compare_source",
                              index=choices.index("random"))
        location = ""
        if source in ("local", "hub"):
            location = st.text_input("Folder" if source == "local" else "Hub model id", key="compare_location",
                                     placeholder="/path/to/checkpoint" if source == "local" else "owner/model-name")
    spec = ModelSpec(source, location, current_spec().device)
    try:
        get_model(spec)
    except ModelLoadError as error:
        st.error(plain(f"Could not load the second model. {error}"))
        st.stop()
    return (_capture_or_stop(current_spec(), text, "The sentence"),
            _capture_or_stop(spec, text, "The sentence, through the second model"))


def _capture_or_stop(spec: ModelSpec, text: str, what: str) -> Capture:
    """The cached capture of one input; a clear message and a stop when it holds no word, a note when it was cut."""
    if not text.strip():
        st.info(f"{what} is empty: type a sentence.")
        st.stop()
    try:
        captured = get_capture(spec, text)
    except CaptureError as error:
        st.info(plain(f"{what}: {error}"))
        st.stop()
    if special_tokens_only(get_model(spec), captured):
        st.info(special_tokens_note(what))
        st.stop()
    if note := captured.truncation_note():
        st.warning(plain(f"{what}: {note}"))
    return captured


def render(compared: SideBySide, names: tuple[str, str] = ("First", "Second"), key: str = "compare") -> None:
    """The two maps for one layer and head, then the difference and the heads ranked by change, or why not.

    The Explain page compares two inputs; the fine-tuning page compares (before, after) with other names and keys."""
    first, second = compared.first, compared.second
    layers, heads = min(first.num_layers, second.num_layers), min(first.num_heads, second.num_heads)
    left, right = st.columns(2)
    layer = left.slider("Layer", 0, layers - 1, 0, key=f"{key}_layer") if layers > 1 else 0
    head = right.slider("Head", 0, heads - 1, 0, key=f"{key}_head") if heads > 1 else 0
    for column, captured, name in zip(st.columns(2), (first, second), names):
        with column:
            figures.show(attention_maps.attention_heatmap(captured.attentions[layer, head], captured.tokens,
                                                          f"{name}: layer {layer}, head {head}"),
                         f"{key}_{name}", f"{key}_{name}_layer{layer}_head{head}")
    if compared.change is None:
        st.info(compared.note)
        return
    scope = st.segmented_control("Colour range of the difference maps", list(explain_charts.RANGE_SCOPES),
                                 format_func=explain_charts.RANGE_SCOPES.get, default="all", required=True,
                                 key=f"{key}_colour_range",
                                 help="White is no change. Fixed across views, a small difference stays pale at "
                                      "every layer and head; each map's own range brings a faint one out.")
    change = compared.change
    figures.show(explain_charts.difference_heatmap(
        change.difference[layer, head], compared.labels(),
        f"{names[1]} minus {names[0].lower()}: layer {layer}, head {head}",
        colour_title=f"{names[1].lower()} −<br>{names[0].lower()}",
        bound=explain_charts.difference_bound(change.difference, (layer, head), scope)),
        f"{key}_difference", f"{key}_difference_layer{layer}_head{head}")
    figures.show(explain_charts.head_change_map(change.change, "Which heads changed most",
                                                bound=explain_charts.difference_bound(change.change, (), scope)),
                 f"{key}_heads", f"{key}_head_change")
    top = pd.DataFrame(compared.change.top_heads(5), columns=["layer", "head", "change"])
    st.table(top.style.format({"change": "{:.3f}"}))
    st.caption("Change is the total-variation distance between a head's two attention rows (0 = the same "
               "pattern, 1 = no overlap), averaged over the query tokens.")
