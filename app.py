"""albert_viz: look inside a real ALBERT. Entry point: page setup, navigation, the shared sidebar."""
import streamlit as st

from albert_viz.assets import ICON  # a path only: nothing heavy loads before the first screen

st.set_page_config(page_title="albert_viz · inside ALBERT", page_icon=str(ICON), layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/attention.py", title="Attention", icon=":material/visibility:"),
    st.Page("pages/layer_norm.py", title="Layer norm", icon=":material/straighten:"),
    st.Page("pages/anatomy.py", title="Anatomy", icon=":material/account_tree:"),
    st.Page("pages/worked_examples.py", title="Worked examples", icon=":material/edit_note:"),
    st.Page("pages/finetune.py", title="Fine-tuning", icon=":material/school:"),
    st.Page("pages/explain.py", title="Explain & compare", icon=":material/psychology:"),
    st.Page("pages/present.py", title="Lessons", icon=":material/co_present:"),
]

# A fresh server's first run goes through Streamlit's old pages/-folder mode, which lists the raw file names
# (app, anatomy, attention, ...) until app.py calls st.navigation. .streamlit/config.toml hides that
# automatic list (client.showSidebarNavigation = false), so the app draws its own links, before anything slow.
navigation = st.navigation(PAGES, position="hidden")
with st.sidebar:
    for page in PAGES:
        st.page_link(page)
    st.divider()
with st.spinner("Starting up: loading PyTorch and the model (only the first visit after a restart is slow)…"):
    from albert_viz.model import runtime
    from albert_viz.ui import figures, links, projector
    from albert_viz.ui.widgets import model_sidebar

    runtime.start_up()  # once per process: torch thread budget, stale temporary folders swept
links.restore_from_url()  # a shared link opens the sentence and model it names
projector.default_on_for_lessons()
model_sidebar()
with st.sidebar:
    projector.toggle()
    links.copy_link_button()
    figures.format_choice()
projector.apply()
try:
    navigation.run()
finally:  # also after a page's st.stop(): the address always names what is on screen
    links.publish_to_url()
