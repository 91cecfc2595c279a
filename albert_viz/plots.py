"""Plotly figure builders: numpy in, go.Figure out. No model code, no streamlit."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from albert_viz.attention import PATTERNS, HeadStatistics

ATTENTION_SCALE = "Blues"


def _token_axis(tokens: Sequence[str]) -> dict:
    """Positions as the axis values, tokens as the tick text: repeated tokens stay distinct rows."""
    return dict(tickmode="array", tickvals=list(range(len(tokens))), ticktext=list(tokens))


def attention_heatmap(matrix: np.ndarray, tokens: Sequence[str], title: str) -> go.Figure:
    """One [query, key] attention matrix; queries down the side, keys along the top."""
    n = len(tokens)
    labels = np.array(tokens, dtype=object)
    hover = np.stack(np.meshgrid(labels, labels), axis=-1)  # [query, key, (key token, query token)]
    figure = go.Figure(go.Heatmap(
        z=matrix, x=list(range(n)), y=list(range(n)), zmin=0.0, zmax=float(max(matrix.max(), 1e-9)),
        colorscale=ATTENTION_SCALE, customdata=hover,
        hovertemplate="%{customdata[1]} → %{customdata[0]}: %{z:.3f}<extra></extra>",
        colorbar=dict(title="weight"),
    ))
    figure.update_xaxes(title="key (attended to)", side="top", **_token_axis(tokens))
    figure.update_yaxes(title="query (attending)", autorange="reversed", **_token_axis(tokens))
    side = max(360, 28 * n + 160)
    figure.update_layout(title=title, height=side, margin=dict(l=10, r=10, t=90, b=10))
    return figure


def heads_grid(attentions: np.ndarray, tokens: Sequence[str], title: str, columns: int = 4) -> go.Figure:
    """All heads of one layer, small multiples: attentions is [head, query, key]."""
    heads = attentions.shape[0]
    rows = -(-heads // columns)
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=[f"head {h}" for h in range(heads)],
                           horizontal_spacing=0.03, vertical_spacing=0.06)
    labels = np.array(tokens, dtype=object)
    hover = np.stack(np.meshgrid(labels, labels), axis=-1)  # [query, key, (key token, query token)]
    for head in range(heads):
        figure.add_trace(go.Heatmap(
            z=attentions[head], zmin=0.0, zmax=1.0, colorscale=ATTENTION_SCALE, showscale=head == 0,
            customdata=hover, hovertemplate=f"head {head}<br>" + "%{customdata[1]} → %{customdata[0]}: %{z:.3f}<extra></extra>",
        ), row=head // columns + 1, col=head % columns + 1)
    figure.update_xaxes(showticklabels=False)
    figure.update_yaxes(showticklabels=False, autorange="reversed")
    figure.update_layout(title=title, height=230 * rows + 80, margin=dict(l=10, r=10, t=80, b=10))
    return figure


def head_overview(statistics: HeadStatistics, title: str) -> go.Figure:
    """Layers × heads: colour is the weight of each head's dominant pattern, text names the pattern."""
    labels = statistics.labels()
    strength = np.stack([statistics.previous, statistics.next, statistics.self, statistics.cls, statistics.sep]).max(axis=0)
    short = {"previous": "←", "next": "→", "self": "•", "cls": "C", "sep": "S", "broad": ""}
    text = np.vectorize(short.get)(labels)
    hover = np.vectorize(PATTERNS.get)(labels)
    layers, heads = strength.shape
    figure = go.Figure(go.Heatmap(
        z=strength, x=list(range(heads)), y=list(range(layers)), zmin=0.0, zmax=1.0, colorscale="Viridis",
        text=text, texttemplate="%{text}", customdata=hover,
        hovertemplate="layer %{y}, head %{x}<br>mostly: %{customdata}<br>weight %{z:.2f}<extra></extra>",
        colorbar=dict(title="pattern<br>weight"),
    ))
    figure.update_xaxes(title="head", dtick=1)
    figure.update_yaxes(title="layer", dtick=1, autorange="reversed")
    figure.update_layout(title=title, height=max(300, 34 * layers + 140), margin=dict(l=10, r=10, t=60, b=10))
    return figure
