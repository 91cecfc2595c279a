"""Exports for slides and handouts: the numbers behind a figure as CSV, and a view as one offline HTML file.

Pure: plotly figures and strings in, strings out; no streamlit, no network.
"""
from __future__ import annotations

import html
from typing import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

# A cell starting with one of these is a formula to a spreadsheet; a leading apostrophe keeps it as text.
SPREADSHEET_FORMULA_START = ("=", "+", "-", "@")


def inert_cell(value: object) -> object:
    """A label a spreadsheet shows as text, never runs: '=cmd' becomes \"'=cmd\"; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(SPREADSHEET_FORMULA_START):
        return "'" + value
    return value


def figure_csv(figure: go.Figure) -> str:
    """The numbers a figure draws, as CSV.

    One heatmap: a matrix, rows and columns named by the axis labels. Anything else: one row per point, with
    the trace ("series") it belongs to; heatmaps there give row, column, value; bars, lines, markers and
    histograms give x and y. Invisible helper traces (the click targets of the heads grid) are left out.
    """
    traces = [trace for trace in figure.data if _drawn(trace)]
    if len(traces) == 1 and traces[0].type == "heatmap":
        return _heatmap_matrix(figure, traces[0]).to_csv(float_format="%.6g")
    frames = [_trace_rows(figure, trace, index) for index, trace in enumerate(traces)]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["series", "x", "y"])
    return table.to_csv(index=False, float_format="%.6g")


def _drawn(trace) -> bool:
    marker = getattr(trace, "marker", None)
    invisible = marker is not None and getattr(marker, "opacity", None) == 0
    return trace.visible is not False and not invisible


def _axis_labels(figure: go.Figure, trace, letter: str, count: int) -> list:
    """Names of a heatmap's rows (y) or columns (x): its own labels, else the axis tick text if it names every
    position, else the positions themselves."""
    own = getattr(trace, letter)
    positions = list(own) if own is not None else list(range(count))
    axis_name = (getattr(trace, f"{letter}axis") or letter).replace(letter, f"{letter}axis", 1)
    axis = figure.layout[axis_name] if axis_name in figure.layout else None
    if axis is not None and axis.ticktext is not None and axis.tickvals is not None:
        named = dict(zip(axis.tickvals, axis.ticktext))
        if all(position in named for position in positions):
            positions = [named[position] for position in positions]
    return [_label(label) for label in positions]


def _heatmap_matrix(figure: go.Figure, trace) -> pd.DataFrame:
    values = np.asarray(trace.z, dtype=float)  # [row, column]
    rows = _axis_labels(figure, trace, "y", values.shape[0])
    columns = _axis_labels(figure, trace, "x", values.shape[1])
    return pd.DataFrame(values, index=pd.Index(rows, name="row \\ column"), columns=columns)


def _label(value: object) -> object:
    """A label as a reader of the CSV should see it: plotly text is HTML, so user text in a figure is escaped
    (&lt;b&gt;); the CSV is plain text, so it gets the characters back, guarded against spreadsheet formulas."""
    return inert_cell(html.unescape(value)) if isinstance(value, str) else value


def _series_name(trace, index: int) -> str:
    return str(_label(trace.name)) if trace.name else f"trace {index}"


def _trace_rows(figure: go.Figure, trace, index: int) -> pd.DataFrame:
    if trace.type == "heatmap":
        matrix = _heatmap_matrix(figure, trace)
        long = matrix.rename_axis(index="row", columns="column").stack().rename("value").reset_index()
        return long.assign(series=_series_name(trace, index))[["series", "row", "column", "value"]]
    xs, ys = _xy(trace)
    return pd.DataFrame({"series": _series_name(trace, index), "x": [_label(x) for x in xs],
                         "y": [_label(y) for y in ys]})


def _xy(trace) -> tuple[list, list]:
    """A trace's points, x and y padded to one length; plotly numbers the points when x is left out, and a
    histogram has only its raw values."""
    xs = list(trace.x) if trace.x is not None else None
    ys = list(trace.y) if trace.y is not None else []
    xs = list(range(len(ys))) if xs is None else xs
    length = max(len(xs), len(ys))
    return xs + [None] * (length - len(xs)), ys + [None] * (length - len(ys))


PAGE_STYLE = ("body{font-family:system-ui,sans-serif;margin:24px;color:#222}"
              "dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}"
              "dt{font-weight:600}dd{margin:0;white-space:pre-wrap}p.caption{color:#555}")


def standalone_html(figure: go.Figure, title: str, facts: Iterable[tuple[str, str]], caption: str,
                    config: dict | None = None) -> str:
    """One HTML file that draws the figure with no network: plotly.js is embedded, nothing loads from a CDN.

    facts: (label, value) pairs shown above the figure (sentence, model, layer, ...); every piece of text is
    HTML-escaped, so a sentence holding <script> shows as those characters and never runs.
    """
    plot = figure.to_html(include_plotlyjs=True, full_html=False, config=config or {"displaylogo": False})
    rows = "".join(f"<dt>{html.escape(str(label))}</dt><dd>{html.escape(str(value))}</dd>" for label, value in facts)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{PAGE_STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n<dl>{rows}</dl>\n{plot}\n"
            f"<p class=\"caption\">{html.escape(caption)}</p>\n</body>\n</html>\n")


# What each attention mode's numbers mean, for a reader of the saved file who never saw the app.
MODE_CAPTIONS = {
    "raw": "Raw attention weights: row i is query token i, which spreads a total weight of 1 over the key tokens j "
           "(a_ij = softmax_j(q_i · k_j / √d_k)).",
    "norm": "Norm-weighted attention ‖α·f(x)‖ (Kobayashi et al. 2020): each weight times the length of what the "
            "head moves from that key token; the numbers are lengths, so rows need not sum to 1.",
    "rollout": "Attention rollout (Abnar & Zuidema 2020): the heads averaged and multiplied through every layer up to "
               "this one, with the residual path counted: which input tokens each token at this depth is built from.",
}


def attention_view_html(figure: go.Figure, *, title: str, sentence: str, sentence_pair: str | None, model: str,
                        layer: int, head: int, mode: str, config: dict | None = None) -> str:
    """The attention page's current view as one offline HTML file: the map, what it shows and of which text."""
    from albert_viz.analysis.attention_modes import MODES  # here: that module imports torch, figure_csv needs none

    facts = [("Sentence", sentence)]
    if sentence_pair:
        facts.append(("Second sentence", sentence_pair))
    facts += [("Model", model), ("Layer", str(layer)), ("Head", "all (rollout)" if mode == "rollout" else str(head)),
              ("Mode", MODES.get(mode, mode))]
    caption = MODE_CAPTIONS.get(mode, "") + " Hover a cell for its exact value. Saved from albert_viz."
    return standalone_html(figure, title, facts, caption, config)
