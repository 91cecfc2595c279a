"""What every figure shares: the colour policy, building a figure without plotly's validation, subplot grids,
download settings.

Numpy and dicts in, go.Figure out; no model code, no streamlit.
"""
from __future__ import annotations

import functools
import json
import math
import re

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# One colour policy, by what the numbers are; every heatmap takes its zmin/zmax/colorscale from one of the
# *_colours functions below and says its range on its colour bar.
# - weights (shares of 1: attention, a pattern's share): fixed 0..1, white = 0, dark blue = 1, so maps compare
#   and an even spread looks pale;
# - counts (rows of a confusion matrix): from 0, white = 0, so a cell of 36 is never drawn as if it were none;
# - differences (after − before, how far a head moved): diverging, white = 0, a symmetric range ±bound
#   (red below, blue above), so ±0.04 and ±1 look different once the range is fixed across views.
ATTENTION_SCALE = "Blues"
# Explicit colours: plotly.js reads the names "Blues" and "RdBu" the other way round from plotly.py.
WEIGHT_SCALE = plotly.colors.get_colorscale("Blues")  # rgb(247,251,255) at 0 -> rgb(8,48,107) at 1
DIFFERENCE_SCALE = plotly.colors.get_colorscale("RdBu")  # red at -bound, white at 0, blue at +bound
DARK_TEXT = "#111111"
# Axis and token labels on maps: near-black (plotly's default #444 made a "'" token almost invisible).
LABEL_FONT = dict(size=14, color=DARK_TEXT)


def weight_colours(zmax: float = 1.0) -> dict:
    """Heatmap colour settings for weights: 0 (white) to 1 (dark blue); auto-contrast may lower zmax, and says so."""
    return dict(zmin=0.0, zmax=float(zmax), colorscale=WEIGHT_SCALE)


def count_colours(counts) -> dict:
    """Heatmap colour settings for counts: from 0 (white) to the largest count."""
    return dict(zmin=0, zmax=max(int(np.max(counts)), 1), colorscale=WEIGHT_SCALE)


def difference_colours(bound: float, signed: bool = True) -> dict:
    """Heatmap colour settings for differences: white at 0, ±bound at the ends (never an empty range).

    signed=False is for a difference that cannot be negative (a distance): 0..bound on the upper half of the same
    diverging scale, so 0 is white and a distance of 0.04 is as pale as a difference of +0.04.
    """
    bound = max(float(bound), 1e-9)
    if signed:
        return dict(zmin=-bound, zmax=bound, zmid=0.0, colorscale=DIFFERENCE_SCALE)
    upper = [[round(2 * (position - 0.5), 6), colour] for position, colour in DIFFERENCE_SCALE if position >= 0.5]
    return dict(zmin=0.0, zmax=bound, colorscale=upper)


def difference_range(bound: float, signed: bool = True) -> str:
    """The range a difference map's colours span, for its colour bar: '±0.048' or '0 to 0.048'."""
    return f"±{bound:.3g}" if signed else f"0 to {bound:.3g}"


# Text on a figure in the projector layout is at least this large, to be read from the back of a room.
PROJECTOR_LABEL_PX = 16
# A tick label needs about this many font heights of room along its axis.
LABEL_ROOM = 1.2
_AXIS_NAME = re.compile(r"^[xy]axis\d*$")


def token_label_note(step: int) -> str:
    """What an axis title adds when only every step-th token has a label."""
    return f" (every {ordinal(step)} token labelled; hover for all)" if step > 1 else ""


def ordinal(n: int) -> str:
    """2nd, 3rd, 11th, 21st: English ordinals for an axis title."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def label_meta(room_px: float, step: int) -> dict:
    """layout.meta for a figure whose tick labels are tokens: px between two labels, and every step-th labelled."""
    return {"label_room_px": float(room_px), "label_step": int(step)}


def for_projector(figure: go.Figure, label_px: float = PROJECTOR_LABEL_PX) -> go.Figure:
    """A copy of the figure with every label at least label_px: base font, tick labels, subplot titles.

    Token labels (a figure with label_meta) are thinned to every k-th so that each still has LABEL_ROOM font
    heights of room, and the axis title says which are labelled.
    """
    spec = figure.to_dict()
    layout = spec["layout"]
    layout["font"] = _at_least(layout.get("font"), label_px)
    meta = layout.get("meta") or {}
    keep_every = max(1, math.ceil(LABEL_ROOM * label_px / meta["label_room_px"])) if "label_room_px" in meta else 1
    for name, axis in layout.items():
        if _AXIS_NAME.match(name) and isinstance(axis, dict):
            _enlarge_axis(axis, label_px, keep_every, meta.get("label_step", 1))
    for annotation in layout.get("annotations", []):  # subplot titles
        annotation["font"] = _at_least(annotation.get("font"), label_px)
    return go.Figure(data=spec["data"], layout=layout, _validate=False)


def _enlarge_axis(axis: dict, label_px: float, keep_every: int, step: int) -> None:
    axis["tickfont"] = _at_least(axis.get("tickfont"), label_px)
    title = axis.get("title")
    if isinstance(title, dict):
        title["font"] = _at_least(title.get("font"), label_px)
    if keep_every == 1 or axis.get("tickmode") != "array":
        return
    axis["tickvals"] = list(axis["tickvals"])[::keep_every]
    axis["ticktext"] = list(axis["ticktext"])[::keep_every]
    if isinstance(title, dict) and title.get("text"):
        text = title["text"].replace(token_label_note(step), "")
        title["text"] = text + token_label_note(step * keep_every)


def _at_least(font: dict | None, size: float) -> dict:
    font = font or {}
    return {**font, "size": max(font.get("size", 0), size)}


def unchecked_figure(data: list[dict], layout: dict) -> go.Figure:
    """A go.Figure from plain dicts without plotly's per-property validation.

    Validation is most of what building a figure costs (a 10-token heatmap: ~35 ms built property by property
    through update_layout, ~3 ms this way), and every slider move of every student rebuilds one. One thing
    validation does matters to the picture: it turns a colour-scale name into plotly.py's own colours, and
    plotly.js reads some names differently (its "Blues" runs dark to light, plotly.py's light to dark), so
    names are resolved here. tests/unit/test_plots.py checks each such figure sends exactly what a validated
    one would.
    """
    return go.Figure(data=[_explicit_colour_scales(trace) for trace in data], layout=layout, _validate=False)


def _explicit_colour_scales(trace: dict) -> dict:
    """The trace with each named colour scale (its own or its marker's) replaced by plotly.py's colours."""
    trace = dict(trace)
    if isinstance(trace.get("colorscale"), str):
        trace["colorscale"] = plotly.colors.get_colorscale(trace["colorscale"])
    marker = trace.get("marker")
    if isinstance(marker, dict) and isinstance(marker.get("colorscale"), str):
        trace["marker"] = {**marker, "colorscale": plotly.colors.get_colorscale(marker["colorscale"])}
    return trace


@functools.lru_cache(maxsize=32)
def _subplot_grid(rows: int, cols: int, options: tuple) -> str:
    return json.dumps(make_subplots(rows=rows, cols=cols, **dict(options)).to_dict()["layout"])


def subplot_layout(rows: int, cols: int, **options) -> dict:
    """make_subplots' layout (axis domains, subplot titles) as a fresh dict, computed once per grid shape.

    Cell (row, col), counted from 1, plots on axes subplot_axes(row, col, cols).
    """
    frozen = tuple((key, tuple(value) if isinstance(value, list) else value) for key, value in sorted(options.items()))
    return json.loads(_subplot_grid(rows, cols, frozen))


def subplot_axes(row: int, col: int, cols: int) -> dict:
    """A trace's xaxis/yaxis references for cell (row, col) of a subplot_layout grid."""
    index = (row - 1) * cols + col
    suffix = "" if index == 1 else str(index)
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


IMAGE_FORMATS = ("png", "svg")


def download_config(file_name: str, image_format: str = "png", scale: int = 2) -> dict:
    """st.plotly_chart config: the modebar camera saves the figure as image_format ('png' or 'svg'), drawn in the
    browser with no network, named after the view; scale 2 gives a PNG sharp enough for a projector."""
    if image_format not in IMAGE_FORMATS:
        raise ValueError(f"image_format must be one of {IMAGE_FORMATS}, not {image_format!r}")
    safe = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "_" for c in file_name).strip("_") or "figure"
    return {"toImageButtonOptions": {"format": image_format, "filename": safe[:120], "scale": scale},
            "displaylogo": False}
