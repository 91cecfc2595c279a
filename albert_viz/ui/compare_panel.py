"""Side by side on the Explain & compare page: two sentences or two models, the difference, the heads that moved."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from albert_viz.analysis.attention_modes import special_tokens_note, special_tokens_only
from albert_viz.analysis.compare import MINIMAL_PAIRS, SideBySide, same_relative_layer
from albert_viz.finetune.job import DONE
from albert_viz.finetune.store import JobRecord
from albert_viz.figures import attention_maps, explain_charts
from albert_viz.model.capture import Capture, CaptureError
from albert_viz.model.loading import ModelLoadError, ModelSpec
from albert_viz.model.text_limits import excerpt
from albert_viz.ui import figures
from albert_viz.ui.resources import get_capture, get_model, get_runner
from albert_viz.ui.text import plain
from albert_viz.ui.widgets import SOURCES, current_model, current_spec

TWO_SENTENCES, TWO_MODELS = "two sentences, one model", "one sentence, two models"
OWN_PAIR = "your own pair"
JOB_SOURCE = "job"  # the second model is a finished fine-tuning job of this server (the class's own)
SECOND_SOURCES = {JOB_SOURCE: "A finished fine-tuning job", **{k: v for k, v in SOURCES.items() if k != "hub"},
                  "hub": SOURCES["hub"]}
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
        choices = list(SECOND_SOURCES)
        source = st.selectbox("Second model", choices, format_func=SECOND_SOURCES.get, key="compare_source",
                              index=choices.index("random"))
        location = ""
        if source == JOB_SOURCE:
            location = _finished_job_folder()
            source = "local"
        elif source in ("local", "hub"):
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


def finished_jobs() -> list[JobRecord]:
    """This server's finished fine-tuning jobs whose model is still on disk, newest first."""
    return [record for record in get_runner().jobs() if record.state == DONE and record.result is not None
            and (record.result.model_dir / "config.json").exists()]


def _job_label(record: JobRecord) -> str:
    result = record.result
    data = f" · {excerpt(result.data_name, 30)}" if result.data_name else ""
    return (f"{record.id[:8]} · {record.owner or 'no name'}{data} · {result.report.accuracy:.0%} on "
            f"{result.report.size} validation rows")


def _finished_job_folder() -> str:
    """The folder of the finished job picked from a list (a stop with a word when there is none yet)."""
    jobs = {record.id: record for record in finished_jobs()}
    if not jobs:
        st.info("No fine-tuning job has finished on this server yet: train one on the Fine-tuning page.")
        st.stop()
    chosen = st.selectbox("Job", list(jobs), format_func=lambda job_id: _job_label(jobs[job_id]), key="compare_job",
                          help="The class's fine-tuned models, newest first; the label names who started it and "
                               "on which data.")
    return str(jobs[chosen].result.model_dir)


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
    same_shape = first.attentions.shape[:2] == second.attentions.shape[:2]
    chosen = _shared_selectors(first, key) if same_shape else _own_selectors(first, second, names, key)
    for column, captured, name, (layer, head) in zip(st.columns(2), (first, second), names, chosen):
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
    layer, head = chosen[0]
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


def _slider(where, label: str, count: int, key: str, value: int = 0) -> int:
    return where.slider(label, 0, count - 1, min(value, count - 1), key=key) if count > 1 else 0


def _shared_selectors(first: Capture, key: str) -> list[tuple[int, int]]:
    """Models of one shape: one layer and one head for both maps (the difference needs the same head)."""
    left, right = st.columns(2)
    layer = _slider(left, "Layer", first.num_layers, f"{key}_layer")
    head = _slider(right, "Head", first.num_heads, f"{key}_head")
    return [(layer, head), (layer, head)]


def _own_selectors(first: Capture, second: Capture, names: tuple[str, str], key: str) -> list[tuple[int, int]]:
    """Models of different shapes: each its own layer and head over its whole range, or the same relative depth."""
    relative = st.toggle("Same relative depth", key=f"{key}_relative",
                         help="The second model's layer follows the first's: first to first, last to last "
                              f"({first.num_layers} layers against {second.num_layers}).")
    chosen = []
    for column, captured, name, side in zip(st.columns(2), (first, second), names, ("first", "second")):
        if side == "second" and relative:
            layer = same_relative_layer(chosen[0][0], first.num_layers, second.num_layers)
            column.caption(f"{name}: layer {layer} of 0–{second.num_layers - 1}, the same relative depth.")
        else:
            layer = _slider(column, f"{name} model's layer", captured.num_layers, f"{key}_layer_{side}")
        head = _slider(column, f"{name} model's head", captured.num_heads, f"{key}_head_{side}")
        chosen.append((layer, head))
    return chosen
