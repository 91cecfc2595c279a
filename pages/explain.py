"""Explain & compare: which words made the model decide, and how attention differs between two inputs or models."""
import streamlit as st

from albert_viz.analysis.compare import side_by_side
from albert_viz.ui import ablation_panel, compare_panel, explain_panel, importance_panel, layers_panel, widgets

WHY, SIDE_BY_SIDE, LAYERS = "Why this prediction", "Side by side", "What each layer knows"
HEADS, FAITHFUL = "Which heads matter", "Are the explanations faithful?"

st.title("Explain & compare")
section = st.radio("Section", [WHY, SIDE_BY_SIDE, LAYERS, HEADS, FAITHFUL], horizontal=True, key="explain_section",
                   label_visibility="collapsed")

if section == WHY:
    st.caption("Attention shows where the model looks. Integrated Gradients and gradient × input ask a different "
               "question: which words, taken away, would change the answer? Here both are computed on your sentence.")
    text, text_pair = widgets.sentence_inputs(with_pair=True)
    capture = widgets.capture_or_stop(text, text_pair)
    asked = explain_panel.question(capture)
    explain_panel.render(explain_panel.attribution_or_stop(capture, asked))
    ablation_panel.render(capture, "explain_ablate", asked.kind, asked.mask_position)
elif section == SIDE_BY_SIDE:
    st.caption("The same layer and head for two inputs side by side; where the tokens line up one to one, "
               "the difference between them and the heads that changed most.")
    first, second = compare_panel.inputs()
    compare_panel.render(side_by_side(first, second))
elif section == HEADS:
    importance_panel.heads_that_matter()
elif section == FAITHFUL:
    text, text_pair = widgets.sentence_inputs(with_pair=True)
    importance_panel.faithful(widgets.capture_or_stop(text, text_pair))
else:
    text, text_pair = widgets.sentence_inputs(with_pair=True)
    layers_panel.states(widgets.capture_or_stop(text, text_pair))
    layers_panel.probing()
