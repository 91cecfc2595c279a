"""albert_viz: look inside a real ALBERT. Entry point: page setup, navigation, the shared sidebar."""
import streamlit as st

from albert_viz.ui.widgets import model_sidebar

st.set_page_config(page_title="albert_viz · inside ALBERT", page_icon="🔍", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/attention.py", title="Attention", icon="👀"),
    st.Page("pages/layer_norm.py", title="Layer norm", icon="📏"),
    st.Page("pages/anatomy.py", title="Anatomy", icon="🦴"),
    st.Page("pages/worked_examples.py", title="Worked examples", icon="✏️"),
    st.Page("pages/finetune.py", title="Fine-tuning", icon="🎓"),
]

navigation = st.navigation(PAGES)
model_sidebar()
navigation.run()
