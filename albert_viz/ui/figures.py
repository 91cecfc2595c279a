"""Every figure in the app goes through show(): the camera button saves it as PNG or SVG, and its numbers as CSV.

plotly's camera button (the modebar's "Download plot") draws the image in the browser, no network involved,
but it makes one format per chart config. So the sidebar holds one "Figure downloads" choice for the session,
and every chart's config follows it.
"""
from __future__ import annotations

import functools
from typing import Callable

import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from albert_viz.figures import common, exports
from albert_viz.ui import projector
from albert_viz.ui.text import safe_file_name

FORMAT_KEY = "figure_format"
FORMATS = {"png": "PNG", "svg": "SVG"}
FORMAT_HELP = ("What the camera icon above each figure saves: PNG (a picture at twice screen size, for slides "
               "and projectors) or SVG (drawn with lines, sharp at any size, editable). "
               "Hover a figure to see the icon.")


def format_choice() -> None:
    """The one PNG / SVG choice every figure follows, kept for the whole session, across pages."""
    st.segmented_control("Figure downloads", list(FORMATS), format_func=FORMATS.get, default="png", required=True,
                         key=FORMAT_KEY, help=FORMAT_HELP, persist_state="session")


def chosen_format() -> str:
    return st.session_state.get(FORMAT_KEY) or "png"


def show(figure: go.Figure, key: str, file_name: str, csv: str | Callable[[], str] | None = None, *,
         where=st, with_csv: bool = True, **chart_options) -> DeltaGenerator:
    """st.plotly_chart in `where` (st, a column, ...) with the camera set to the chosen format and file name.

    csv: the numbers behind the figure, a string or a function that makes it when the button is pressed; by
    default the numbers the figure itself draws (exports.figure_csv), made only on a click.
    chart_options: passed to st.plotly_chart (on_select, selection_mode, ...).
    Returns the row under the figure that holds its download buttons, for more of them (html_button).
    """
    name = safe_file_name(file_name, default="figure")
    drawn = common.for_projector(figure) if projector.is_on() else figure  # labels readable from the back
    where.plotly_chart(drawn, key=key, config=common.download_config(name, chosen_format()), **chart_options)
    if not with_csv:  # no empty row under a figure that offers nothing more (presenter mode)
        return where
    buttons = where.container(horizontal=True, gap="medium")
    data = functools.partial(exports.figure_csv, figure) if csv is None else csv
    buttons.download_button("Download the numbers (CSV)", data, file_name=f"{name}.csv", mime="text/csv",
                            key=f"{key}_csv", on_click="ignore", type="tertiary", icon=":material/download:")
    return buttons


def html_button(make_html: Callable[[], str], key: str, file_name: str, where=st) -> None:
    """A button that saves one self-contained HTML file (made by make_html only when pressed)."""
    where.download_button("Save this view as one HTML file (opens offline)", make_html,
                          file_name=f"{safe_file_name(file_name, default='view')}.html", mime="text/html", key=key,
                          on_click="ignore", type="tertiary", icon=":material/download:")
