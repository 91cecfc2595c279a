"""Attention maps: one head, all heads of a layer, the layers × heads overview. Numpy in, go.Figure out."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from albert_viz.analysis.attention import PATTERN_KEYS, PATTERNS, HeadStatistics, broad_rule
from albert_viz.figures.common import (
    DARK_TEXT, label_meta, subplot_axes, subplot_layout, token_label_note, unchecked_figure,
    weight_colours,
)
from albert_viz.figures.exports import inert_cell

# Attention weights lie in [0, 1]: a fixed scale lets a uniform row (1/n everywhere) look faint, as it is,
# and lets two maps be compared by colour. Auto-contrast stretches the scale to the largest weight shown.
FULL_SCALE = 1.0
# Up to this many tokens every cell is wide enough to print its weight.
MAX_TOKENS_WITH_VALUES = 12
# One map fits one laptop screen (900 px high, with the page header above it): the square of cells is at
# most MAP_PX tall and a cell at most CELL_PX; long sentences get smaller cells, not a taller figure.
MAP_PX = 540
CELL_PX = 28
TITLE_PX = 44
AXIS_TITLE_PX = 28
HOVER = "%{customdata[1]} → %{customdata[0]}: %{z:.3f}<extra></extra>"
# Past this many tokens a map names its tokens through its axes (one label per token) instead of a
# [query, key] grid of hover strings: at 512 tokens that grid was ~4 MB of text, the weights themselves 1.4 MB.
MAX_TOKENS_WITH_HOVER_GRID = 64
LONG_HOVER = "%{y} → %{x}: %{z:.3f}<extra></extra>"
# Token labels: near-black, 14 px while the cells allow (a "'" token at plotly's grey 12 px was almost invisible);
# past 8 px a long sentence labels every k-th token instead of shrinking them further.
MAX_LABEL_PX = 14.0
MIN_LABEL_PX = 8.0


def colour_max(matrices: Sequence[np.ndarray], auto_contrast: bool = False) -> float:
    """Top of the colour scale that maps shown together share: 1, or with auto-contrast their largest weight."""
    if not auto_contrast:
        return FULL_SCALE
    return float(max(max(float(np.max(matrix)) for matrix in matrices), 1e-9))


def _colour_bar_title(zmax: float) -> str:
    return ("attention<br>weight<br>(0 to 1)" if zmax >= FULL_SCALE
            else f"attention<br>weight<br>(auto-contrast,<br>0 to {zmax:.2f})")


def _label_layout(tokens: Sequence[str], cell_px: float,
                  coordinates: Sequence | None = None) -> tuple[dict, int, float]:
    """Tick values/text that fit the cell size: every token while they fit, else every k-th; font; label px.

    coordinates: the axis value of each token (default its index; a long map uses unique category names).
    """
    font = max(MIN_LABEL_PX, min(MAX_LABEL_PX, cell_px * 0.8))
    step = max(1, math.ceil(font * 1.2 / cell_px))  # a label needs ~1.2 font heights of room
    positions = list(range(0, len(tokens), step))
    values = [coordinates[i] for i in positions] if coordinates is not None else positions
    ticks = dict(tickmode="array", tickvals=values, ticktext=[tokens[i] for i in positions],
                 tickfont=dict(size=font, color=DARK_TEXT))
    longest = max((len(str(token)) for token in tokens), default=1)
    return ticks, step, font * (0.65 * min(longest, 16) + 1)


def _hover_labels(tokens: Sequence[str]) -> np.ndarray:
    labels = np.array(tokens, dtype=object)
    return np.stack(np.meshgrid(labels, labels), axis=-1)  # [query, key, (key token, query token)]


def attention_heatmap(matrix: np.ndarray, tokens: Sequence[str], title: str, *, zmax: float | None = FULL_SCALE,
                      show_values: bool | None = None, colour_title: str | None = None) -> go.Figure:
    """One [query, key] attention matrix; queries down the side, keys along the top.

    zmax: top of the colour scale (1 by default; None for this map's own maximum). show_values: print each
    weight in its cell (default: when there are at most MAX_TOKENS_WITH_VALUES tokens). colour_title: for
    maps that are not attention weights (norm-weighted sizes), what the colour measures.
    """
    n = len(tokens)
    top = float(max(matrix.max(), 1e-9)) if zmax is None else zmax
    with_values = n <= MAX_TOKENS_WITH_VALUES if show_values is None else show_values
    if n <= MAX_TOKENS_WITH_HOVER_GRID:
        coordinates, hover = None, dict(x=list(range(n)), y=list(range(n)), customdata=_hover_labels(tokens),
                                        hovertemplate=HOVER)
    else:  # each token a category named "token (i)": unique, and the hover reads it off the axes
        coordinates = [f"{token} ({i})" for i, token in enumerate(tokens)]
        hover = dict(x=coordinates, y=coordinates, hovertemplate=LONG_HOVER)
    # float32: plotly sends it as a base64 typed array (float64 would be twice the bytes; float16 goes as text)
    heatmap = dict(type="heatmap", z=np.asarray(matrix, dtype=np.float32), **weight_colours(top),
                   colorbar=dict(title=dict(text=colour_title or _colour_bar_title(top))), **hover)
    if with_values:
        heatmap["texttemplate"] = "%{z:.2f}"
    cell = min(CELL_PX, MAP_PX / max(n, 1))
    ticks, step, label_px = _label_layout(tokens, cell, coordinates)
    rotate = n > MAX_TOKENS_WITH_VALUES
    thinned = token_label_note(step)
    axis_type = "category" if coordinates is not None else "-"
    top_margin = int(TITLE_PX + AXIS_TITLE_PX + (label_px if rotate else 20))
    layout = dict(
        title=_title_above(title), height=int(max(360, cell * n + top_margin + 20)),
        margin=dict(l=10, r=10, t=top_margin, b=10), meta=label_meta(cell * step, step),
        xaxis=dict(title=dict(text=f"key (attended to){thinned}"), side="top", tickangle=-90 if rotate else 0,
                   automargin=True, type=axis_type, **ticks),
        yaxis=dict(title=dict(text="query (attending)"), autorange="reversed", automargin=True, type=axis_type,
                   **ticks),
    )
    return unchecked_figure([heatmap], layout)


def _title_above(text: str) -> dict:
    """The title pinned to the figure's top edge; the top margin below it is left to the key labels."""
    return dict(text=text, x=0, xanchor="left", xref="container", y=1, yanchor="top", yref="container",
                pad=dict(t=12, l=4))


# A click needs a selectable point under the cursor (plotly cannot select heatmap cells), so each small map
# carries one invisible marker per cell, with the cell's tokens and weight in its hover; past this many tokens
# a coarse grid of large markers takes the clicks instead (a marker is an SVG element: at 48 tokens, 27,648 of
# them made a click take ~6 s to answer), and the page shows the chosen head's exact map below.
MAX_CLICKABLE_TOKENS = 16
SELECTED_COLOUR = "#d62728"
# Past this many tokens a view of many maps (all heads of a layer) sends an overview: each cell the largest
# weight in a block of tokens, at most OVERVIEW_CELLS cells a side; one head's exact map is a click away.
OVERVIEW_CELLS = 64
# An overview map is clicked through this many × this many invisible squares (a map is ~180 px high).
CLICK_CELLS = 8
CLICK_MARKER_PX = 24


def block_max(matrices: np.ndarray, cells: int = OVERVIEW_CELLS) -> tuple[np.ndarray, int]:
    """The largest value in each block × block square of the last two axes, and the block size.

    [..., n, n] -> [..., m, m] with block = ceil(n / cells) and m = ceil(n / block); the last block of a row
    or column may be smaller. Max, not mean, so that one sharp weight (a previous-token head) still shows.
    """
    n = matrices.shape[-1]
    block = max(1, math.ceil(n / cells))
    m = math.ceil(n / block)
    pad = [(0, 0)] * (matrices.ndim - 2) + [(0, m * block - n)] * 2
    padded = np.pad(matrices.astype(np.float32), pad, constant_values=-np.inf)  # [..., m*block, m*block]
    blocks = padded.reshape(*matrices.shape[:-2], m, block, m, block)  # [..., row block, row, col block, col]
    return blocks.max(axis=(-3, -1)), block


def heads_grid(attentions: np.ndarray, tokens: Sequence[str], title: str, columns: int = 4, *,
               selected_head: int | None = None, zmax: float = FULL_SCALE, clickable: bool = False) -> go.Figure:
    """All heads of one layer, small multiples on one colour scale: attentions is [head, query, key].

    selected_head gets a red outline; clickable adds invisible markers (one per cell of a short text, a
    coarse grid of large ones on an overview) so that a click on a map is a plotly selection whose customdata
    is the head (see clicked_head). Past OVERVIEW_CELLS tokens each map is a block_max overview, and the title
    says so.
    """
    heads, n = attentions.shape[0], len(tokens)
    rows = -(-heads // columns)
    names = [f"<b>head {h} (selected)</b>" if h == selected_head else f"head {h}" for h in range(heads)]
    layout = subplot_layout(rows, columns, subplot_titles=names, horizontal_spacing=0.03, vertical_spacing=0.08)
    overview, block = block_max(attentions) if n > OVERVIEW_CELLS else (attentions, 1)
    starts = np.arange(overview.shape[-1], dtype=np.int16) * block  # the first token of each block, [cell]
    traces = []
    for head in range(heads):
        axes = subplot_axes(head // columns + 1, head % columns + 1, columns)
        if block == 1 and n <= MAX_CLICKABLE_TOKENS:
            markers = _click_markers(attentions[head], tokens, head) if clickable else None
            cells = dict(z=attentions[head]) if markers is not None else dict(  # the markers carry the hover
                z=attentions[head], customdata=_hover_labels(tokens), hovertemplate=f"head {head}<br>query {HOVER}")
        else:
            cells = dict(z=overview[head], x=starts, y=starts, hovertemplate=_block_hover(head, block))
            markers = _block_click_markers(n, head) if clickable else None
        heatmap = dict(type="heatmap", **cells, **weight_colours(zmax), showscale=head == 0,
                       colorbar=dict(title=dict(text=_colour_bar_title(zmax))), name=f"head {head}",
                       **axes)  # the name: the series of the grid's CSV
        if markers is not None:
            heatmap["hoverinfo"] = "skip"
        traces.append(heatmap)
        if markers is not None:
            traces.append({**markers, **axes})
    for index in range(1, rows * columns + 1):
        suffix = "" if index == 1 else str(index)
        layout[f"xaxis{suffix}"]["showticklabels"] = False
        layout[f"yaxis{suffix}"].update(showticklabels=False, autorange="reversed")
    layout["xaxis"]["title"] = dict(text="key →", standoff=2)
    layout["yaxis"]["title"] = dict(text="query ↓", standoff=2)
    if selected_head is not None:
        layout["shapes"] = [_outline(selected_head)]
    if block > 1:
        title += (f"<br><sup>Overview of {n} tokens: each cell is the largest weight in a block of {block} × {block} "
                  f"tokens.{' Click a head for its exact map.' if clickable else ''}</sup>")
    layout.update(title=_title_above(title), height=220 * rows + 100, margin=dict(l=10, r=10, t=80, b=10),
                  showlegend=False, clickmode="event+select", dragmode=False)
    return unchecked_figure(traces, layout)


def _block_hover(head: int, block: int) -> str:
    if block == 1:
        return f"head {head}<br>query %{{y}} → key %{{x}}: %{{z:.3f}}<extra></extra>"
    return (f"head {head}<br>queries %{{y}}…+{block - 1} → keys %{{x}}…+{block - 1}<br>largest weight "
            "%{z:.3f}<extra></extra>")


def _block_click_markers(n: int, head: int) -> dict:
    """CLICK_CELLS × CLICK_CELLS large transparent squares covering one map, each carrying the head number.

    Few on purpose: a marker is an SVG element, and one per overview cell (49,152 for 12 heads at 512 tokens)
    kept the browser busy for ~18 s after the grid appeared.
    """
    centres = (np.arange(CLICK_CELLS) + 0.5) * n / CLICK_CELLS - 0.5  # token coordinates, [cell]
    rows, cols = np.divmod(np.arange(CLICK_CELLS ** 2), CLICK_CELLS)  # flat marker index -> (row, column)
    invisible = dict(marker=dict(opacity=0))
    return dict(type="scatter", x=centres[cols].astype(np.float32), y=centres[rows].astype(np.float32),
                mode="markers", customdata=np.full(CLICK_CELLS ** 2, head, np.int8),
                marker=dict(size=CLICK_MARKER_PX, symbol="square", opacity=0),
                selected=invisible, unselected=invisible,
                hovertemplate=f"head {head}: click to select it and see its exact map<extra></extra>")


def _click_markers(matrix: np.ndarray, tokens: Sequence[str], head: int) -> dict:
    """One transparent marker per cell carrying the hover text and, for a click, the head number."""
    n = len(tokens)
    queries, keys = np.divmod(np.arange(n * n), n)  # flat cell index -> (query row, key column)
    labels = np.array(tokens, dtype=object)
    customdata = np.stack([np.full(n * n, head, dtype=object), labels[queries], labels[keys],
                           matrix.reshape(-1)], axis=-1)  # [cell, (head, query token, key token, weight)]
    invisible = dict(marker=dict(opacity=0))
    return dict(type="scatter", x=keys, y=queries, mode="markers", customdata=customdata,
                marker=dict(size=10, opacity=0), selected=invisible, unselected=invisible,
                hovertemplate="head %{customdata[0]} (click to select)<br>query %{customdata[1]} → "
                              "%{customdata[2]}: %{customdata[3]:.3f}<extra></extra>")


def _outline(head: int) -> dict:
    """A red frame around one small map (its axes' domain)."""
    suffix = "" if head == 0 else str(head + 1)
    return dict(type="rect", xref=f"x{suffix} domain", yref=f"y{suffix} domain", x0=-0.02, x1=1.02, y0=-0.02,
                y1=1.02, line=dict(color=SELECTED_COLOUR, width=3), layer="above")


def clicked_head(selection: dict) -> int | None:
    """The head a click on heads_grid(clickable=True) chose, from a Streamlit plotly selection state."""
    for point in selection.get("points", []):
        customdata = point.get("customdata")
        if isinstance(customdata, (int, float)):  # the overview's markers carry the head alone
            return int(customdata)
        if customdata:
            return int(customdata[0])
    return None


# What each pattern's cell shows; a broad head shows its leading pattern's symbol in brackets.
PATTERN_SYMBOLS = {"previous": "←", "next": "→", "self": "•", "cls": "C", "sep": "S"}


def overview_symbols(statistics: HeadStatistics) -> np.ndarray:
    """Every head's leading pattern as its symbol, in brackets where no pattern stands out; [layer, head]."""
    symbols = np.vectorize(PATTERN_SYMBOLS.get)(statistics.dominant())
    return np.where(statistics.stands_out(), symbols, np.char.add(np.char.add("(", symbols), ")"))


def head_overview(statistics: HeadStatistics, title: str) -> go.Figure:
    """Layers × heads: the symbol names each head's leading pattern, the colour is that pattern's share (0 to 1)."""
    share = statistics.dominant_share()  # [layer, head]
    leading = np.vectorize(PATTERNS.get)(statistics.dominant())
    verdict = np.where(statistics.stands_out(), "stands out", "broad: does not stand out")
    layers, heads = share.shape
    heatmap = dict(
        type="heatmap", z=share, x=list(range(heads)), y=list(range(layers)), **weight_colours(),
        text=overview_symbols(statistics), texttemplate="%{text}", textfont=dict(size=16),
        customdata=np.stack([leading, verdict], axis=-1),  # [layer, head, (pattern, verdict)]
        hovertemplate="layer %{y}, head %{x}<br>leading pattern: %{customdata[0]}, share %{z:.3f}"
                      "<br>%{customdata[1]}<extra></extra>",
        colorbar=dict(title=dict(text="leading<br>pattern's<br>share<br>(0 to 1)")),
    )
    axis_font = dict(size=14, color=DARK_TEXT)
    return unchecked_figure([heatmap], dict(
        title=dict(text=title), height=max(300, 34 * layers + 140), margin=dict(l=10, r=10, t=60, b=10),
        xaxis=dict(title=dict(text="head"), dtick=1, tickfont=axis_font),
        yaxis=dict(title=dict(text="layer"), dtick=1, autorange="reversed", tickfont=axis_font),
    ))


def overview_caption(statistics: HeadStatistics) -> str:
    """What the overview's symbols and colours mean, in numbers for this sentence."""
    return ("Each cell is one head. The symbol names the pattern that gets the most weight (← previous token, "
            "→ next token, • itself, C [CLS], S [SEP]); the colour is that pattern's share of the weight, mean over "
            "the query tokens, from 0 (white) to 1 (dark blue). A symbol in brackets, like (C), marks a broad "
            f"head, where no pattern stands out: {broad_rule(statistics.num_tokens)}.")


def overview_csv(statistics: HeadStatistics) -> str:
    """One row per head: its pattern (or "broad"), the leading pattern and its share, and every pattern's share."""
    import pandas as pd

    layers, heads = np.meshgrid(np.arange(statistics.previous.shape[0]), np.arange(statistics.previous.shape[1]),
                                indexing="ij")  # [layer, head] each
    frame = pd.DataFrame({"layer": layers.ravel(), "head": heads.ravel(), "pattern": statistics.labels().ravel(),
                          "leading pattern": statistics.dominant().ravel(),
                          "leading share": statistics.dominant_share().ravel()})
    for key, share in zip(PATTERN_KEYS, statistics.shares()):
        frame[f"share {PATTERNS[key]}"] = share.ravel()
    return frame.to_csv(index=False, float_format="%.6f")


def matrix_csv(matrix: np.ndarray, tokens: Sequence[str]) -> str:
    """An attention matrix as CSV: one row per query token, one column per key token, weights to 6 places."""
    import pandas as pd

    labels = [inert_cell(str(token)) for token in tokens]  # '=cmd' stays text in a spreadsheet
    frame = pd.DataFrame(matrix, index=pd.Index(labels, name="query \\ key"), columns=labels)
    return frame.to_csv(float_format="%.6f")
