"""What each layer knows, on the Explain & compare page: token states per layer, and probing on a labelled CSV."""
from __future__ import annotations

import streamlit as st

from albert_viz.analysis.attention_modes import special_tokens_note, special_tokens_only
from albert_viz.analysis.layers import (
    LayerProjection, ProbeRun, describe_probes, project_layers, validation_rows_held_out,
)
from albert_viz.figures import explain_charts
from albert_viz.finetune.data import LabelledDataset
from albert_viz.finetune.metrics import too_few_rows_note
from albert_viz.model.capture import Capture, state_name
from albert_viz.teaching import glossary
from albert_viz.model.loading import LoadedModel, ModelSpec
from albert_viz.ui import figures, finetune_panel
from albert_viz.ui.text import plain
from albert_viz.ui.widgets import current_model, current_spec

RUN = "probe_run"  # the session's ProbeRun
SIDEBAR_MODEL, BASE_AND_TUNED = "the sidebar's model", "base and fine-tuned"  # the choice of models to probe


@st.cache_data(show_spinner="Fitting one PCA across all layers…", max_entries=32)
def _projection(spec: ModelSpec, text: str, text_pair: str | None, _capture: Capture) -> LayerProjection:
    return project_layers(_capture)


def states(capture: Capture) -> None:
    """A layer slider over the shared PCA plane, and that layer's token-by-token cosine similarity."""
    loaded = current_model()
    if loaded is not None and special_tokens_only(loaded, capture):
        st.info(special_tokens_note("The sentence"))
        return
    projection = _projection(current_spec(), capture.text, capture.text_pair, capture)
    layer = st.select_slider("Layer", range(capture.num_layers + 1), capture.num_layers, format_func=state_name,
                             key="layers_layer", help=glossary.explain("layer numbering"))
    labelled = st.toggle("Label the points", value=True, key="layers_point_labels",
                         help="Off: the points alone, each token's name on hover (where many tokens sit close).")
    left, right = st.columns(2)
    figures.show(explain_charts.layer_scatter(projection, layer, labelled),
                 "layers_scatter", f"layers_projection_layer{layer}", where=left)
    figures.show(explain_charts.difference_heatmap(projection.cosine[layer], capture.tokens,
                                                   f"Cosine similarity of the tokens, {state_name(layer)}",
                                                   colour_title="cosine", bound=1.0,
                                                   axis_titles=("token", "token"), x_side="bottom"),
                 "layers_cosine", f"layers_cosine_layer{layer}", where=right)
    st.caption("One PCA is fitted on the states of every layer together, so the axes stay put as you move the "
               "slider: tokens drifting together means the layer is making them alike.")


def probing() -> None:
    """Pick a labelled CSV and the models, start or stop a probing run, and show its progress or result."""
    st.subheader("Probing: where does the label become readable?")
    st.caption("A logistic regression per layer reads the label from frozen states ([CLS], and the mean of the "
               "tokens); its accuracy on held-out rows says how readable the label is at that depth.")
    choice = finetune_panel.choose_data()
    loaded = current_model()
    if choice is None or loaded is None:
        return
    models, split = _models_to_probe(loaded, choice.dataset)
    run: ProbeRun | None = st.session_state.get(RUN)
    if st.button("Probe every layer", key="probe_start", type="primary", disabled=run is not None and not run.finished):
        st.session_state[RUN] = ProbeRun(models, choice.dataset, **split).start()
    _show_run()


def _models_to_probe(loaded: LoadedModel, dataset: LabelledDataset) -> tuple[dict[str, LoadedModel], dict[str, float]]:
    """The sidebar's model alone, or (once this session has a finished fine-tuning job) its base and its result."""
    finished = finetune_panel.finished_model()
    if finished is None:
        return {"model": loaded}, {}
    picked = st.radio("Models", [SIDEBAR_MODEL, BASE_AND_TUNED], key="probe_models", horizontal=True,
                      help="Your fine-tuning job has finished: probe the model it started from and the model it "
                           "made, on the same rows.")
    if picked == SIDEBAR_MODEL:
        return {"model": loaded}, {}
    job, tuned = finished
    config = job.result.config
    if validation_rows_held_out(dataset, config.validation_fraction, config.seed, job.result.validation_texts):
        rows = "the rows the fine-tuning job held out, so the fine-tuned model never trained on them"
    else:
        rows = ("held-out rows of this file; it is not the data the fine-tuning job trained on, so this shows how "
                "readable these labels are in each model's states")
    st.caption(plain(f"Base: {job.base.spec.label}. Both models are probed on one split, made the way the "
                     f"fine-tuning job made its own (validation fraction {config.validation_fraction:g}, seed "
                     f"{config.seed}); the probes are scored on {rows}."))
    return {"base model": job.base, "fine-tuned model": tuned}, dict(validation_fraction=config.validation_fraction,
                                                                       seed=config.seed)


@st.fragment(run_every=1.0)
def _show_run() -> None:
    run: ProbeRun | None = st.session_state.get(RUN)
    if run is None:
        return
    if not run.finished:
        reading = f"Reading every layer of the {run.reading}: {run.done:,} of {run.total:,} rows"
        st.progress(run.done / max(run.total, 1),
                    text=reading if run.done < run.total else "Fitting one logistic regression per layer…")
        if st.button("Stop", key="probe_stop"):
            run.cancelled.set()
        return
    if run.error:
        st.info(plain(run.error))
        return
    figures.show(explain_charts.probe_accuracy(run.result), "probe_chart", "layers_probe_accuracy")
    if note := too_few_rows_note(run.result.results[0].rows, "Each probe's accuracy"):
        st.warning(note)
    st.markdown(plain(describe_probes(run.result)))
