"""Explain & compare: which words made the model decide, by gradients, beside where its attention looked."""
import streamlit as st

from albert_viz.ui import explain_panel, widgets

st.title("Explain & compare")
st.caption("Attention shows where the model looks. Integrated Gradients and gradient × input ask a different "
           "question: which words, taken away, would change the answer? Here both are computed on your sentence.")

text, text_pair = widgets.sentence_inputs(with_pair=True)
capture = widgets.capture_or_stop(text, text_pair)
asked = explain_panel.question(capture)
explain_panel.render(explain_panel.attribution_or_stop(capture, asked))
