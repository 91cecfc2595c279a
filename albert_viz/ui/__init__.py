"""The one library package that imports streamlit: cached resources, session keys, shared widgets and panels.

May import: every other room of the library. Nothing in the library imports it.
"""
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def _route_through_app_py() -> None:
    """Make a fresh server run app.py, not a page file on its own.

    A Streamlit server that finds a pages/ folder beside its entry script starts in the old
    "pages directory" mode, where opening /attention first runs pages/attention.py alone (no
    sidebar, no page config) until some script calls st.navigation. Every page imports this
    package, so the first such run switches the mode off and reruns through app.py.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if st.runtime.exists():
            st.rerun()


_route_through_app_py()
