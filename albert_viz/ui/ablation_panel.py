"""Switch heads off: pick heads, run the sentence again with them zeroed, and show what changed."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from albert_viz.analysis import ablation
from albert_viz.analysis.attention_modes import ExplainError
from albert_viz.figures import intervention_charts
from albert_viz.model.capture import Capture, CaptureError
from albert_viz.ui import figures
from albert_viz.ui.text import plain
from albert_viz.ui.widgets import current_model

CHOOSE, WHOLE_LAYER, ALL_BUT_ONE = "Heads I pick", "All heads of one layer", "Every head but one"


def _chosen_heads(depths: int, heads: int, key: str) -> set[tuple[int, int]]:
    how = st.radio("Switch off", [CHOOSE, WHOLE_LAYER, ALL_BUT_ONE], horizontal=True, key=f"{key}_how")
    if how == WHOLE_LAYER:
        layer = st.selectbox("Layer", range(depths), key=f"{key}_layer")
        return {(layer, h) for h in range(heads)}
    if how == ALL_BUT_ONE:
        names = [ablation.head_name(d, h) for d in range(depths) for h in range(heads)]
        kept = names.index(st.selectbox("The one head left on", names, key=f"{key}_kept"))
        return {(d, h) for d in range(depths) for h in range(heads)} - {divmod(kept, heads)}
    names = {ablation.head_name(d, h): (d, h) for d in range(depths) for h in range(heads)}
    return {names[name] for name in st.multiselect("Heads", list(names), key=f"{key}_heads")}


def render(capture: Capture, key: str = "ablate") -> None:
    """The switch-off controls and, once heads are chosen, the prediction and the attention downstream."""
    st.subheader("Switch heads off")
    st.caption(ablation.SHARING_NOTE)
    loaded = current_model()
    if loaded is None:
        return
    off = _chosen_heads(capture.num_layers, capture.num_heads, key)
    if not off:
        st.caption("Choose heads to switch off; the model then runs again without them.")
        return
    try:
        outcome = ablation.switch_off(loaded, capture.text, capture.text_pair, off)
    except (ExplainError, CaptureError) as error:
        st.info(plain(str(error)))
        return
    if outcome.all_off:
        st.info(ablation.ALL_OFF_NOTE)
    what = "verdict" if outcome.kind == ablation.CLASSIFIER else f"guess for the [MASK] at position {outcome.position}"
    top = lambda prediction: prediction.labels[int(prediction.probabilities.argmax())]
    st.text(f"The model's {what}: “{top(outcome.before)}” with all heads on, “{top(outcome.after)}” with "
            f"{len(off)} head(s) off{' (changed)' if outcome.changed else ' (unchanged)'}.")
    st.table(pd.DataFrame({"all heads on": outcome.before.probabilities, "heads off": outcome.after_of_before},
                          index=list(outcome.before.labels)).round(4))
    figures.show(intervention_charts.before_after_bars(outcome), f"{key}_bars", "switch_off_prediction")
    figures.show(intervention_charts.layers_by_heads(outcome.attention_change(), "How far each head's attention "
                                                     "moved (mean |change|); × marks the heads switched off",
                                                     "mean |Δ|", signed=False, marked=sorted(off)),
                 f"{key}_change", "switch_off_attention_change")
