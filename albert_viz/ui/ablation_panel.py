"""Switch heads off: pick heads (a click on the layers × heads picker, a list, a whole layer, every head but one),
run the sentence again with them zeroed, and show what changed: the answer, and the attention downstream."""
from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from albert_viz.analysis import ablation
from albert_viz.analysis.attention_modes import ExplainError
from albert_viz.figures import attention_maps, intervention_charts
from albert_viz.model.capture import Capture, CaptureError
from albert_viz.ui import figures
from albert_viz.ui.text import plain
from albert_viz.ui.widgets import current_model

CHOOSE, WHOLE_LAYER, ALL_BUT_ONE = "Heads I pick", "All heads of one layer", "Every head but one"
NO_CLASSIFIER_NOTE = ("This model has no classifier, so there is no verdict to change: switching heads off is "
                      "asked about its masked-word (MLM) guess only.")


def _names(depths: int, heads: int) -> dict[str, tuple[int, int]]:
    return {ablation.head_name(d, h): (d, h) for d in range(depths) for h in range(heads)}


def _chosen_heads(depths: int, heads: int, key: str) -> set[tuple[int, int]]:
    how = st.radio("Switch off", [CHOOSE, WHOLE_LAYER, ALL_BUT_ONE], horizontal=True, key=f"{key}_how")
    names = _names(depths, heads)
    if how == WHOLE_LAYER:
        layer = st.selectbox("Layer", range(depths), key=f"{key}_layer")
        return {(layer, h) for h in range(heads)}
    if how == ALL_BUT_ONE:
        kept = st.selectbox("The one head left on", list(names), key=f"{key}_kept")
        return set(names.values()) - {names[kept]}
    return {names[name] for name in st.multiselect("Heads (or click them on the map)", list(names),
                                                  key=f"{key}_heads")}


def _toggle_clicked(key: str, depths: int, heads: int) -> None:
    """A click on the picker: that head joins or leaves the set shown, which becomes the list of heads I pick."""
    cell = intervention_charts.clicked_cell(st.session_state[f"{key}_picker"].selection)
    if cell is None:
        return
    off = set(st.session_state.get(f"{key}_off", ())) ^ {cell}
    st.session_state[f"{key}_how"] = CHOOSE  # from a whole layer, a click switches one of its heads back on
    st.session_state[f"{key}_heads"] = [name for name, head in _names(depths, heads).items() if head in off]


def _picker(off: set[tuple[int, int]], depths: int, heads: int, key: str) -> None:
    # The figure changes with each click (an × more or less), so the chart starts afresh with nothing selected
    # and a second click on the same head is a new selection that switches it back on.
    st.session_state[f"{key}_off"] = sorted(off)
    figures.show(intervention_charts.head_picker(depths, heads, off), f"{key}_picker", "switch_off_picker",
                 with_csv=False, on_select=functools.partial(_toggle_clicked, key, depths, heads),
                 selection_mode="points")


@st.fragment  # a click or a choice reruns this panel only: the views above stay as they are
def render(capture: Capture, key: str = "ablate", kind: str | None = None, mask_position: int | None = None) -> None:
    """The switch-off controls and, once heads are chosen, the prediction and the attention downstream.

    key: prefix of the widgets' keys, one per page; kind and mask_position: the question the page asks
    (default: the classifier's verdict where there is one, else the guess for the text's [MASK]).
    """
    st.subheader("Switch heads off")
    st.markdown(ablation.SHARING_NOTE)
    loaded = current_model()
    if loaded is None:
        return
    if not ablation.has_classifier(loaded) and loaded.has_mlm_head:
        st.caption(NO_CLASSIFIER_NOTE)
    controls, picker = st.columns([2, 3])
    with controls:
        off = _chosen_heads(capture.num_layers, capture.num_heads, key)
    with picker:
        _picker(off, capture.num_layers, capture.num_heads, key)
    if not off:
        st.caption("Choose heads to switch off; the model then runs again without them.")
        return
    try:
        outcome = ablation.switch_off(loaded, capture.text, capture.text_pair, off, kind, mask_position)
    except (ExplainError, CaptureError) as error:
        st.info(plain(str(error)))
        return
    _what_changed(outcome, key)


def _what_changed(outcome: ablation.AblationOutcome, key: str) -> None:
    if outcome.all_off:
        st.info(ablation.ALL_OFF_NOTE)
    st.text(_answer_line(outcome))
    answers, change = st.columns(2)
    with answers:
        st.table(_answers_table(outcome))
        figures.show(intervention_charts.before_after_bars(outcome), f"{key}_bars", "switch_off_prediction")
    with change:
        figures.show(intervention_charts.layers_by_heads(
            outcome.attention_change(), "How far each head's attention moved (× = off)",
            "mean |Δ|", signed=False, marked=outcome.off), f"{key}_change", "switch_off_attention_change")
    _downstream_maps(outcome, key)


def _top(prediction: ablation.Prediction) -> tuple[str, float]:
    best = int(prediction.probabilities.argmax())
    return prediction.labels[best], float(prediction.probabilities[best])


def _answer_line(outcome: ablation.AblationOutcome) -> str:
    """One sentence: the answer (and its probability) with all heads on and with the chosen ones off."""
    what = ("verdict" if outcome.kind == ablation.CLASSIFIER
            else f"guess for the [MASK] at position {outcome.position}")
    (before, p_before), (after, p_after) = _top(outcome.before), _top(outcome.after)
    verdict = "the answer changed." if outcome.changed else "the answer stayed the same."
    return (f"The model's {what}: “{before}” ({p_before:.3f}) with all heads on, “{after}” ({p_after:.3f}) with "
            f"{len(outcome.off)} head(s) off: {verdict}")


def _answers_table(outcome: ablation.AblationOutcome) -> pd.DataFrame:
    """Classifier: each class's probability before and after. Masked word: the top guesses before and after."""
    if outcome.kind == ablation.CLASSIFIER:
        return pd.DataFrame({"all heads on": outcome.before.probabilities, "heads off": outcome.after.probabilities},
                            index=list(outcome.before.labels)).round(4)
    guesses = lambda prediction: [f"{label} ({p:.3f})" for label, p in zip(prediction.labels,
                                                                             prediction.probabilities)]
    return pd.DataFrame({"all heads on": guesses(outcome.before), "heads off": guesses(outcome.after)},
                        index=pd.RangeIndex(1, len(outcome.before.labels) + 1, name="guess"))


def _downstream_maps(outcome: ablation.AblationOutcome, key: str) -> None:
    """The head whose attention moved most, before and after, on one colour scale."""
    moved = outcome.most_changed_head()
    if moved is None:
        st.caption("No attention map moved: the heads switched off are in the top layer, and a head's own map is "
                   "computed before its output is zeroed. Only the answer can change.")
        return
    depth, head = moved
    st.caption(f"Downstream: {ablation.head_name(depth, head)} is the head whose attention moved most. A head's "
               "own map is computed before its output is zeroed, so maps change only in the layers above.")
    maps = (outcome.attentions_before[depth, head], outcome.attentions_after[depth, head])
    top = attention_maps.colour_max(list(maps), False)
    for column, matrix, when in zip(st.columns(2), maps, ("all heads on", "chosen heads off")):
        figure = attention_maps.attention_heatmap(matrix, outcome.tokens, f"Layer {depth}, head {head}: {when}",
                                                  zmax=top)
        figures.show(figure, f"{key}_map_{when.split()[0]}", f"switch_off_layer{depth}_head{head}_{when.split()[0]}",
                     where=column)
