"""albert_viz: look inside a real ALBERT. Entry point: page setup, navigation, the shared sidebar."""
import streamlit as st

from albert_viz.assets import ICON  # a path only: nothing heavy loads before the first screen
from albert_viz.teaching import tour  # pure data

st.set_page_config(page_title="albert_viz · inside ALBERT", page_icon=str(ICON), layout="wide")

# One list of pages (albert_viz.teaching.tour), so the menu, Home and the lessons cannot disagree.
PAGES = [st.Page(entry.path, title=entry.title, icon=entry.icon, default=entry is tour.HOME) for entry in tour.PAGES]

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
    from albert_viz.ui import figures, links, live_class_panel, projector
    from albert_viz.ui.widgets import model_sidebar

    runtime.start_up()  # once per process: torch thread budget, stale temporary folders swept
links.restore_from_url()  # a shared link opens the sentence and model it names
projector.default_on_for_lessons()
model_sidebar()
with st.sidebar:
    live_class_panel.exploring_sidebar()  # a student of a live class, exploring: the way back to the class
    projector.toggle()
    links.copy_link_button()
    figures.format_choice()
projector.apply()
try:
    navigation.run()
finally:  # also after a page's st.stop(): the address always names what is on screen
    links.publish_to_url()
