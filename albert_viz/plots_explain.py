"""Plotly figures for the Explain & compare page: numpy in, go.Figure out. No model code, no streamlit."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from albert_viz.attribution import ATTENTION_VIEWS, GRADIENT_VIEWS, Attribution

VIEW_TITLES = {**GRADIENT_VIEWS, **ATTENTION_VIEWS}
CREDIT_SCALE = "RdBu"  # red pushes the score down, blue pushes it up; white is no credit


def attribution_bars(result: Attribution) -> go.Figure:
    """One panel per view, tokens down the side: gradient credit (signed) beside attention (from the explained position)."""
    views = result.views()
    figure = make_subplots(rows=1, cols=len(views), shared_yaxes=True, horizontal_spacing=0.02,
                           subplot_titles=[VIEW_TITLES[name] for name in views])
    positions = list(range(len(result.tokens)))
    for column, (name, values) in enumerate(views.items(), start=1):
        colours = np.where(values >= 0, "#2166ac", "#b2182b") if name in GRADIENT_VIEWS else "#6a51a3"
        figure.add_trace(go.Bar(
            x=values, y=positions, orientation="h", marker_color=colours, name=VIEW_TITLES[name],
            customdata=np.array(result.tokens, dtype=object),
            hovertemplate="%{customdata}: %{x:.4f}<extra>" + VIEW_TITLES[name] + "</extra>",
        ), row=1, col=column)
    figure.update_yaxes(autorange="reversed", tickmode="array", tickvals=positions, ticktext=list(result.tokens))
    figure.update_layout(showlegend=False, height=max(320, 26 * len(result.tokens) + 120),
                         margin=dict(l=10, r=10, t=60, b=10))
    return figure


def difference_heatmap(difference: np.ndarray, labels: Sequence[str], title: str) -> go.Figure:
    """A [query, key] difference (second minus first), white at zero, blue where the second attends more."""
    n = len(labels)
    bound = float(max(np.abs(difference).max(), 1e-9))
    figure = go.Figure(go.Heatmap(
        z=difference, x=list(range(n)), y=list(range(n)), zmin=-bound, zmax=bound, zmid=0.0, colorscale=CREDIT_SCALE,
        hovertemplate="query %{y} → key %{x}: %{z:+.3f}<extra></extra>", colorbar=dict(title="second −<br>first"),
    ))
    axis = dict(tickmode="array", tickvals=list(range(n)), ticktext=list(labels))
    figure.update_xaxes(title="key (attended to)", side="top", **axis)
    figure.update_yaxes(title="query (attending)", autorange="reversed", **axis)
    figure.update_layout(title=title, height=max(360, 28 * n + 160), margin=dict(l=10, r=10, t=90, b=10))
    return figure


def head_change_map(change: np.ndarray, title: str) -> go.Figure:
    """Layers × heads: how far each head's rows moved between the two inputs (0 = same, 1 = no overlap)."""
    layers, heads = change.shape
    figure = go.Figure(go.Heatmap(
        z=change, x=list(range(heads)), y=list(range(layers)), zmin=0.0, colorscale="Reds",
        hovertemplate="layer %{y}, head %{x}: %{z:.3f}<extra></extra>", colorbar=dict(title="change"),
    ))
    figure.update_xaxes(title="head", dtick=1)
    figure.update_yaxes(title="layer", dtick=1, autorange="reversed")
    figure.update_layout(title=title, height=max(300, 34 * layers + 140), margin=dict(l=10, r=10, t=60, b=10))
    return figure
