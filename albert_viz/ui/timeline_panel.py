"""Watch it learn: a finished job's training timeline, one recorded step at a time, with Play and Pause.

A step slider moves everything together: the probe rows' predictions, one head's attention map and the [CLS]
rollout, the loss/accuracy curve with a line at the step, and the heads that have changed most so far.

Two fragments draw the same view: `_still` (redrawn only when the student touches it) and `_moving` (redrawn
every PLAY_EVERY_S seconds, one recorded step further each time). A fragment's identity is its function, so
run_every cannot be switched on and off on one fragment; Play and Pause rerun the page once to change which of
the two is drawn. While playing only the fragment reruns, never the page; it stops by itself at the last step.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import streamlit as st

from albert_viz.analysis.training_timeline import cls_rollout, head_changes
from albert_viz.figures import attention_maps, intervention_charts
from albert_viz.finetune.job import DONE
from albert_viz.finetune.store import DatabaseUnavailable
from albert_viz.finetune.timeline import TIMELINE_FILE, Timeline, load_timeline
from albert_viz.model.text_limits import excerpt
from albert_viz.ui import figures
from albert_viz.ui.resources import get_runner
from albert_viz.ui.text import plain

PLAY_EVERY_S = 1.0
RANKED_HEADS = 5


@st.cache_resource(show_spinner=False, max_entries=8)
def _load(job_id: str, path: str) -> Timeline | None:
    """One job's timeline, read once per server and shared by every session (its arrays made read-only)."""
    timeline = load_timeline(path)
    if timeline is not None:
        for array in (timeline.steps, timeline.labels, timeline.attentions, timeline.probabilities):
            array.flags.writeable = False
    return timeline


def job_timeline(job_id: str, model_dir: str | Path) -> Timeline | None:
    """The timeline saved beside a job's model, or None when it has none (checked on disk on every call)."""
    if not (Path(model_dir) / TIMELINE_FILE).is_file():
        return None
    return _load(job_id, str(model_dir))


def absent_note(snapshots: int) -> str:
    """Why a finished job has no slider, in one sentence."""
    if snapshots == 0:
        return "This job was set to record no training timeline, so there is no step-by-step view of it."
    return ("This job was trained before the app recorded training timelines, so there is no step-by-step view "
            "of it: train it again to watch it learn.")


def show_job(job_id: str, presenting: bool = False) -> None:
    """A finished job's timeline with its own loss and accuracy curve (read from the job's record)."""
    record = get_runner().record(job_id)
    if record is None or record.result is None:
        return
    snapshot = record.snapshot
    watch_it_learn(job_id, record.result.model_dir, record.result.config.timeline_snapshots, snapshot.losses,
                   snapshot.evaluations, key=f"tl_{job_id[:8]}", presenting=presenting)


LESSON_EMPTY = ("This step replays a fine-tuning job trained in this browser, and none with a timeline has finished "
                "yet: train one on the fine-tuning page (the default settings take a few minutes), then come back.")


def lesson_view(job_id: str | None) -> None:
    """The lesson's "watch it learn" step: this session's finished job, or a note and a link to train one."""
    try:
        record = get_runner().record(job_id) if job_id else None
    except DatabaseUnavailable as error:
        st.warning(plain(str(error)))
        record = None
    if record is None or record.state != DONE or record.result is None or \
            job_timeline(record.id, record.result.model_dir) is None:
        st.info(LESSON_EMPTY)
        st.page_link("pages/finetune.py", label="Open the fine-tuning page", icon=":material/open_in_new:")
        return
    show_job(record.id, presenting=True)


def watch_it_learn(job_id: str, model_dir: str | Path, snapshots: int, losses: Sequence[tuple[int, float]],
                   evaluations: Sequence[tuple[int, float, float]], key: str = "tl", presenting: bool = False) -> None:
    """The step slider and everything it moves, or a one-sentence note when the job recorded no timeline."""
    timeline = job_timeline(job_id, model_dir)
    if timeline is None:
        st.info(absent_note(snapshots))
        return
    view = _TimelineView(timeline, tuple(losses), tuple(evaluations), key, presenting)
    (_moving if st.session_state.get(f"{key}_playing") else _still)(view)


@dataclass(frozen=True, eq=False)
class _TimelineView:
    """What both fragments draw from: the timeline, the job's curves, the widgets' key prefix."""

    timeline: Timeline
    losses: tuple[tuple[int, float], ...]
    evaluations: tuple[tuple[int, float, float], ...]
    key: str
    presenting: bool

    @property
    def steps(self) -> list[int]:
        return [int(step) for step in self.timeline.steps]

    @property
    def slider_key(self) -> str:
        return f"{self.key}_step"

    @property
    def playing_key(self) -> str:
        return f"{self.key}_playing"


def _play(view: _TimelineView) -> None:
    """From the start again when the slider is already at the last step; otherwise on from where it is."""
    if st.session_state.get(view.slider_key) == view.steps[-1]:
        st.session_state[view.slider_key] = view.steps[0]
    st.session_state[view.playing_key] = True


def _pause(view: _TimelineView) -> None:
    st.session_state[view.playing_key] = False


@st.fragment
def _still(view: _TimelineView) -> None:
    if st.session_state.get(view.playing_key):  # Play was pressed in this fragment: let the page draw `_moving`
        st.rerun(scope="app")
    _draw(view)


@st.fragment(run_every=PLAY_EVERY_S)
def _moving(view: _TimelineView) -> None:
    if not st.session_state.get(view.playing_key):  # paused (or the slider moved): back to the still fragment
        st.rerun(scope="app")
    frame = min(_frame(view) + 1, len(view.steps) - 1)
    st.session_state[view.slider_key] = view.steps[frame]
    if frame == len(view.steps) - 1:  # the last recorded step: stop here, and stop ticking
        st.session_state[view.playing_key] = False
        st.rerun(scope="app")
    _draw(view)


def _frame(view: _TimelineView) -> int:
    step = st.session_state.get(view.slider_key, view.steps[0])
    return view.steps.index(step) if step in view.steps else 0


def _draw(view: _TimelineView) -> None:
    timeline, key = view.timeline, view.key
    playing = bool(st.session_state.get(view.playing_key))
    if view.slider_key not in st.session_state:
        st.session_state[view.slider_key] = view.steps[0]
    button, slider = st.columns([1, 6], vertical_alignment="bottom")
    if playing:
        button.button("Pause", key=f"{key}_pause", on_click=_pause, args=(view,), icon=":material/pause:",
                      width="stretch")
    else:
        button.button("Play", key=f"{key}_play", on_click=_play, args=(view,), icon=":material/play_arrow:",
                      type="primary", width="stretch")
    slider.select_slider("Training step (recorded steps of this job)", view.steps, key=view.slider_key,
                         on_change=_pause, args=(view,))
    frame = _frame(view)
    # On the projector the figures come first (the first screen) and the row and head pickers after them.
    maps, pickers = st.container(), st.container()
    if not view.presenting:
        maps, pickers = pickers, maps
    with pickers:
        probe, layer, head = _choices(view)
    step = view.steps[frame]
    left, right = maps.columns(2)
    tokens = timeline.tokens[probe]
    figures.show(attention_maps.attention_heatmap(timeline.attention(frame, probe)[layer, head], tokens,
                                                  f"Step {step} · layer {layer}, head {head}"),
                 f"{key}_map", f"timeline_step{step}_layer{layer}_head{head}", where=left,
                 with_csv=not view.presenting)
    figures.show(intervention_charts.training_curve(view.losses, view.evaluations, step), f"{key}_curve",
                 "timeline_training_curve", where=right, with_csv=not view.presenting)
    left, right = maps.columns(2)
    left.dataframe(_predictions(timeline, frame), hide_index=True, key=f"{key}_predictions",
                   column_config={"probability": st.column_config.ProgressColumn(min_value=0, max_value=1,
                                                                                 format="%.2f")})
    figures.show(intervention_charts.cls_rollout_bars(tokens, cls_rollout(timeline, frame, probe),
                                                      f"Step {step} · where [CLS] draws from (rollout)"),
                 f"{key}_rollout", f"timeline_step{step}_cls_rollout", where=right, with_csv=not view.presenting)
    with maps:
        _ranked_heads(view, frame)


def _choices(view: _TimelineView) -> tuple[int, int, int]:
    """Which probe row and which head the map shows; the head starts as the one that changed most by the end."""
    timeline, key = view.timeline, view.key
    layers, heads = timeline.attentions.shape[2:4]
    if f"{key}_layer" not in st.session_state:
        top_layer, top_head, _ = head_changes(timeline, len(view.steps) - 1).ranked(1)[0]
        st.session_state[f"{key}_layer"], st.session_state[f"{key}_head"] = top_layer, top_head
    probe_column, layer_column, head_column = st.columns([4, 1, 1])
    probe = probe_column.selectbox("Validation row shown in the maps", range(len(timeline.texts)),
                                   format_func=lambda row: excerpt(timeline.texts[row], 70), key=f"{key}_probe")
    layer = layer_column.selectbox("Layer", range(layers), key=f"{key}_layer")
    head = head_column.selectbox("Head", range(heads), key=f"{key}_head")
    return probe, layer, head


def _predictions(timeline: Timeline, frame: int) -> pd.DataFrame:
    """Each probe row at this step: the model's label and the probability it gives it, the right label, its text."""
    probabilities = timeline.probabilities[frame]  # [probe, class]
    predicted = probabilities.argmax(axis=-1)
    names = timeline.label_names
    # the answers first, the text last: a long review would push them out of a half-width table
    return pd.DataFrame({"model says": [names[label] for label in predicted],
                         "probability": probabilities.max(axis=-1).astype(float),
                         "right label": [names[label] for label in timeline.labels],
                         "right?": np.where(predicted == timeline.labels, "yes", "no"),
                         "validation row": list(timeline.texts)})


def _ranked_heads(view: _TimelineView, frame: int) -> None:
    changes = head_changes(view.timeline, frame)
    if frame == 0:
        st.caption("Step 0 is before any training: no head has changed yet. Press Play or move the slider.")
        return
    ranked = pd.DataFrame([{"layer": layer, "head": head, "change": change}
                           for layer, head, change in changes.ranked(RANKED_HEADS)])
    st.caption(f"The heads that changed most by step {changes.step}: how far their attention weights on these rows "
               "have moved since step 0 (the mean absolute change of a weight; 0 = not at all).")
    st.dataframe(ranked, hide_index=True, key=f"{view.key}_ranked",
                 column_config={"change": st.column_config.NumberColumn(format="%.3f")})
