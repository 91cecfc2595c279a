"""Worked examples: self-attention on the board, the same arithmetic in the real model, the pretraining tasks."""
import streamlit as st

from albert_viz.teaching import article
from albert_viz.ui import quiz, walkthrough_panel as panel, widgets

st.title("Worked examples")
st.caption(f"“I love programming”, step by step, the example from {article.SHORT_NAME} (its §4.6), done right: "
           "first with numbers small enough for a whiteboard, then inside the loaded ALBERT, where the hand "
           "computation is checked against the model's own numbers.")

panel.classroom_presets()
mode = panel.mode_selector()

if mode == "toy":
    panel.toy_mode()
elif mode == "real":
    text, text_pair = widgets.sentence_inputs(with_pair=True)
    capture = widgets.capture_or_stop(text, text_pair, exact=True)
    layer, head = widgets.layer_head_selectors(capture, key="_worked")
    panel.real_mode(widgets.current_model(), capture, layer, head)
else:
    loaded = widgets.current_model()
    if loaded is None:
        st.stop()
    text, _ = widgets.sentence_inputs(with_pair=False)
    if st.toggle("Quiz me first: answer, then see the model's numbers", key="wk_quiz"):
        quiz.pretraining_quiz(loaded, text)
    else:
        panel.masked_word(loaded, text)
        panel.sentence_order(loaded)
