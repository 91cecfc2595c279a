"""Fine-tuning: upload labelled sentences, watch ALBERT learn them, see what it gets wrong and what changed inside."""
import streamlit as st

from albert_viz.ui import finetune_panel, widgets

st.title("Fine-tuning")
st.caption("Teach the model a new task from a few hundred labelled sentences. Training runs on a private copy: "
           "the model the other pages show is never changed.")

loaded = widgets.current_model()
if loaded is None:
    st.stop()

choice, config = finetune_panel.choose_data(), None
if choice is not None:
    config = finetune_panel.settings(loaded)
    finetune_panel.describe_data(choice, loaded, config.max_length)
    finetune_panel.start_button(loaded, choice, config)
finetune_panel.progress()
finetune_panel.results(choice, config)  # folded away when they are of other data or settings
finetune_panel.teacher_view()
