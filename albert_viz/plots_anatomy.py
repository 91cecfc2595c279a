"""Plotly figures for the anatomy page: numpy and dataclasses in, go.Figure out. No model code, no streamlit."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from albert_viz.anatomy import COMPONENTS, Factorization, ParameterCount, Projection, SopPrediction, Sharing

COMPONENT_COLOURS = ("#1f77b4", "#aec7e8", "#c7c7c7", "#2ca02c", "#ff7f0e", "#9467bd")


def parameter_stack(counts: Sequence[ParameterCount], log: bool = False) -> go.Figure:
    """Parameters by component per model (millions), stacked, with the paper's Table 1 total as a marker."""
    names = [c.name for c in counts]
    figure = go.Figure()
    for index, (component, colour) in enumerate(zip(COMPONENTS, COMPONENT_COLOURS)):
        figure.add_trace(go.Bar(x=names, y=[c.by_component[index] / 1e6 for c in counts], name=component,
                                marker_color=colour, hovertemplate=f"{component}: %{{y:.3f}}M<extra></extra>"))
    paper = [c.paper_millions for c in counts]
    figure.add_trace(go.Scatter(x=names, y=paper, mode="markers", name="paper, Table 1", marker=dict(
        symbol="line-ew-open", size=28, color="black", line=dict(width=3, color="black")), hovertemplate="paper: %{y}M<extra></extra>"))
    figure.update_yaxes(title="parameters (millions)", type="log" if log else "linear")
    figure.update_layout(barmode="stack", title="Parameters by component (instantiated from each configuration)",
                         height=460, margin=dict(l=10, r=10, t=60, b=10))
    return figure


def component_shares(counts: Sequence[ParameterCount]) -> go.Figure:
    """Each component as a share of its model's total: where the parameters live."""
    names = [c.name for c in counts]
    figure = go.Figure()
    for index, (component, colour) in enumerate(zip(COMPONENTS, COMPONENT_COLOURS)):
        figure.add_trace(go.Bar(x=names, y=[100 * c.by_component[index] / c.total for c in counts], name=component,
                                marker_color=colour, hovertemplate=f"{component}: %{{y:.1f}}%<extra></extra>"))
    figure.update_yaxes(title="% of the model's parameters", range=[0, 100])
    figure.update_layout(barmode="stack", title="Where the parameters live", height=420,
                         margin=dict(l=10, r=10, t=60, b=10))
    return figure


def sharing_savings(counts: Sequence[ParameterCount]) -> go.Figure:
    """Each model's total next to what it would be with a separate set of weights at every depth."""
    names = [c.name for c in counts]
    figure = go.Figure([
        go.Bar(x=names, y=[c.total / 1e6 for c in counts], name="as built", hovertemplate="%{y:.1f}M<extra></extra>"),
        go.Bar(x=names, y=[c.unshared_total / 1e6 for c in counts], name="one weight set per layer",
               hovertemplate="%{y:.1f}M<extra></extra>"),
    ])
    figure.update_yaxes(title="parameters (millions)")
    figure.update_layout(barmode="group", title="What cross-layer sharing saves", height=400,
                         margin=dict(l=10, r=10, t=60, b=10))
    return figure


def factorization_bars(factors: Factorization) -> go.Figure:
    """V·H against V·E + E·H for one model."""
    labels = [f"V·H = {factors.vocab:,}·{factors.hidden}",
              f"V·E + E·H = {factors.vocab:,}·{factors.embedding} + {factors.embedding}·{factors.hidden}"]
    values = [factors.unfactorized, factors.factorized]
    figure = go.Figure(go.Bar(x=labels, y=[v / 1e6 for v in values], text=[f"{v:,}" for v in values],
                              marker_color=["#d62728", "#2ca02c"], hovertemplate="%{y:.3f}M<extra></extra>"))
    figure.update_yaxes(title="embedding weights (millions)")
    figure.update_layout(title=f"Factorized embeddings: {factors.saving:.1f}× fewer weights", height=380,
                         margin=dict(l=10, r=10, t=60, b=10))
    return figure


def projection_vectors(projection: Projection) -> go.Figure:
    """One token's E-wide embedding and the H-wide vector the E→H map makes of it."""
    figure = make_subplots(rows=2, cols=1, vertical_spacing=0.14, subplot_titles=[
        f"E = {projection.small.shape[0]}: after the embedding LayerNorm",
        f"H = {projection.lifted.shape[0]}: W·e + b (bars) and the model's hidden state 0 (dots)"])
    figure.add_trace(go.Bar(y=projection.small, name="e", marker_color="#1f77b4"), row=1, col=1)
    figure.add_trace(go.Bar(y=projection.lifted, name="W·e + b", marker_color="#ff7f0e"), row=2, col=1)
    figure.add_trace(go.Scatter(y=projection.model_lifted, mode="markers", marker=dict(size=3, color="black"),
                                name="model"), row=2, col=1)
    figure.update_xaxes(title="dimension", row=2, col=1)
    figure.update_layout(title=f"'{projection.token}' lifted from E to H", height=520,
                         margin=dict(l=10, r=10, t=70, b=10))
    return figure


def layer_change(sharing: Sharing) -> go.Figure:
    """Per layer: how much the hidden state changes and how different the attention is, with the same weights."""
    layers = list(range(len(sharing.hidden_change)))
    figure = make_subplots(rows=1, cols=2, subplot_titles=[
        "hidden-state change ‖h_{l+1} − h_l‖ / ‖h_l‖", "attention change from the previous layer"])
    figure.add_trace(go.Bar(x=layers, y=sharing.hidden_change, name="hidden change",
                            hovertemplate="layer %{x}: %{y:.3f}<extra></extra>"), row=1, col=1)
    attention = np.where(np.isnan(sharing.attention_change), None, sharing.attention_change)
    figure.add_trace(go.Bar(x=layers, y=attention, name="attention change", marker_color="#ff7f0e",
                            hovertemplate="layer %{x}: %{y:.3f}<extra></extra>"), row=1, col=2)
    figure.update_xaxes(title="layer", dtick=1)
    figure.update_yaxes(title="mean over tokens", col=1)
    figure.update_yaxes(title="0 = same weights on the same tokens, 1 = none shared", col=2)
    figure.update_layout(title="Same weights, different work at every depth", height=380, showlegend=False,
                         margin=dict(l=10, r=10, t=70, b=10))
    return figure


def sop_bars(prediction: SopPrediction) -> go.Figure:
    """The SOP head's p(in order) for the true order and the swapped order."""
    labels = ["A then B (true order)", "B then A (swapped)"]
    values = [prediction.in_order_given_ab, prediction.in_order_given_ba]
    figure = go.Figure(go.Bar(x=labels, y=values, text=[f"{v:.1%}" for v in values],
                              marker_color=["#2ca02c", "#d62728"], hovertemplate="%{y:.3f}<extra></extra>"))
    figure.add_hline(y=0.5, line_dash="dot", annotation_text="chance")
    figure.update_yaxes(title="p(in order) from the SOP head", range=[0, 1])
    figure.update_layout(title="Sentence-order prediction", height=360, margin=dict(l=10, r=10, t=60, b=10))
    return figure
