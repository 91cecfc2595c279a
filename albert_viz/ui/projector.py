"""Projector layout: the sidebar folded away, the controls packed tight, the figure on the first screen.

Switched by the sidebar toggle "Projector layout" and kept in the URL (`?projector=true`), so a bookmarked
or shared screen opens the same way. A lesson in presenter mode turns it on unless the teacher turns it off.
Every figure drawn in this layout gets labels of at least LABEL_PX (figures.common.for_projector).
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import streamlit as st

KEY = "projector"  # the session key and the URL parameter
LESSON_PARAM = "lesson"  # presenter.py's URL parameter: a lesson is open
_DEFAULTED = "_projector_defaulted"
HELP = ("For a projector or a shared screen: the sidebar folds away (the › at the top left opens it), the controls "
        "sit close together so the figure starts on the first screen, and figure labels are large.")

# Less white space everywhere, so that at 1280x720 the figure starts well inside the first screen. The header bar
# stays: it holds the › that opens the folded sidebar. A constant: no user text goes through here.
COMPACT_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.25rem; padding-bottom: 2rem; }
[data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: 0.55rem; }
[data-testid="stMain"] h1 { font-size: 2rem; padding: 0; }
</style>
"""


def default_on_for_lessons() -> None:
    """Once per session: a link that opens a lesson step without saying otherwise opens in the projector layout."""
    if st.session_state.get(_DEFAULTED):
        return
    st.session_state[_DEFAULTED] = True
    if LESSON_PARAM in st.query_params and KEY not in st.query_params:
        st.session_state[KEY] = True


def toggle() -> None:
    """The sidebar switch; Streamlit keeps it in the URL (the parameter is dropped while it is off)."""
    st.toggle("Projector layout", key=KEY, bind="query-params", help=HELP)


def turn_on() -> None:
    """For a callback (the Present button of a lesson), before the toggle is drawn."""
    st.session_state[KEY] = True


def is_on() -> bool:
    return bool(st.session_state.get(KEY))


def apply() -> None:
    """In the projector layout: fold the sidebar away and tighten the page (call once per run, after toggle())."""
    if not is_on():
        return
    st.set_page_config(initial_sidebar_state="collapsed")
    st.markdown(COMPACT_CSS, unsafe_allow_html=True)


def control_row(*widths: float) -> list:
    """Columns side by side in the projector layout (one compact row), plain stacked containers otherwise."""
    if is_on():
        return list(st.columns(list(widths), vertical_alignment="center"))
    return [st.container() for _ in widths]


@contextlib.contextmanager
def details(label: str) -> Iterator[None]:
    """Reference text: shown as it is normally, inside a closed expander in the projector layout."""
    if not is_on():
        yield
        return
    with st.expander(label):
        yield
