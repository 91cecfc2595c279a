"""What each layer knows, on the Explain & compare page: token states per layer, and probing on a labelled CSV."""
from __future__ import annotations

import streamlit as st

from albert_viz import plots_explain
from albert_viz.capture import Capture
from albert_viz.layers import LayerProjection, ProbeRun, project_layers
from albert_viz.models import ModelSpec
from albert_viz.ui import figures, finetune_panel
from albert_viz.ui.text import plain
from albert_viz.ui.widgets import current_model, current_spec

RUN = "probe_run"  # the session's ProbeRun


@st.cache_data(show_spinner="Fitting one PCA across all layers…", max_entries=32)
def _projection(spec: ModelSpec, text: str, text_pair: str | None, _capture: Capture) -> LayerProjection:
    return project_layers(_capture)


def states(capture: Capture) -> None:
    """A layer slider over the shared PCA plane, and that layer's token-by-token cosine similarity."""
    projection = _projection(current_spec(), capture.text, capture.text_pair, capture)
    layer = st.slider("Layer", 0, capture.num_layers, capture.num_layers, key="layers_layer",
                      help="0 is the embedding output; layer l is the state after l layers.")
    left, right = st.columns(2)
    figures.show(plots_explain.layer_scatter(projection, layer),
                 "layers_scatter", f"layers_projection_layer{layer}", where=left)
    figures.show(plots_explain.difference_heatmap(projection.cosine[layer], capture.tokens,
                                                  f"Cosine similarity of the tokens, layer {layer}",
                                                  colour_title="cosine", bound=1.0,
                                                  axis_titles=("token", "token")),
                 "layers_cosine", f"layers_cosine_layer{layer}", where=right)
    st.caption("One PCA is fitted on the states of every layer together, so the axes stay put as you move the "
               "slider: tokens drifting together means the layer is making them alike.")


def probing() -> None:
    """Pick a labelled CSV, start or stop a probing run, and show its progress or result."""
    st.subheader("Probing: where does the label become readable?")
    st.caption("A logistic regression per layer reads the label from frozen states ([CLS], and the mean of the "
               "tokens); its accuracy on held-out rows says how readable the label is at that depth.")
    choice = finetune_panel.choose_data()
    loaded = current_model()
    if choice is None or loaded is None:
        return
    run: ProbeRun | None = st.session_state.get(RUN)
    if st.button("Probe every layer", key="probe_start", type="primary", disabled=run is not None and not run.finished):
        st.session_state[RUN] = ProbeRun(loaded, choice.dataset).start()
    _show_run()


@st.fragment(run_every=1.0)
def _show_run() -> None:
    run: ProbeRun | None = st.session_state.get(RUN)
    if run is None:
        return
    if not run.finished:
        reading = f"Reading every layer: {run.done:,} of {run.total:,} rows"
        st.progress(run.done / max(run.total, 1),
                    text=reading if run.done < run.total else "Fitting one logistic regression per layer…")
        if st.button("Stop", key="probe_stop"):
            run.cancelled.set()
        return
    if run.error:
        st.info(plain(run.error))
        return
    figures.show(plots_explain.probe_accuracy(run.result), "probe_chart", "layers_probe_accuracy")
