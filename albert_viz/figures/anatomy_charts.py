"""Plotly figures for the anatomy page: numpy and dataclasses in, go.Figure out. No model code, no streamlit."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from albert_viz.analysis.anatomy import COMPONENTS, Factorization, ParameterCount, Projection, SopPrediction, Sharing
from albert_viz.figures.common import subplot_axes, subplot_layout, unchecked_figure

COMPONENT_COLOURS = ("#1f77b4", "#aec7e8", "#c7c7c7", "#2ca02c", "#ff7f0e", "#9467bd")


def _layout(title: str, height: int, top: int = 60, **more) -> dict:
    return dict(title=dict(text=title), height=height, margin=dict(l=10, r=10, t=top, b=10), **more)


def parameter_stack(counts: Sequence[ParameterCount], log: bool = False) -> go.Figure:
    """Parameters by component per model (millions), stacked, with the paper's Table 1 total as a marker."""
    names = [c.name for c in counts]
    traces = [dict(type="bar", x=names, y=[c.by_component[index] / 1e6 for c in counts], name=component,
                   marker=dict(color=colour), hovertemplate=f"{component}: %{{y:.3f}}M<extra></extra>")
              for index, (component, colour) in enumerate(zip(COMPONENTS, COMPONENT_COLOURS))]
    traces.append(dict(type="scatter", x=names, y=[c.paper_millions for c in counts], mode="markers",
                       name="paper, Table 1", hovertemplate="paper: %{y}M<extra></extra>",
                       marker=dict(symbol="line-ew-open", size=28, color="black", line=dict(width=3, color="black"))))
    return unchecked_figure(traces, _layout(
        "Parameters by component (instantiated from each configuration)", 460, barmode="stack",
        yaxis=dict(title=dict(text="parameters (millions)"), type="log" if log else "linear")))


def component_shares(counts: Sequence[ParameterCount]) -> go.Figure:
    """Each component as a share of its model's total: where the parameters live."""
    names = [c.name for c in counts]
    traces = [dict(type="bar", x=names, y=[100 * c.by_component[index] / c.total for c in counts], name=component,
                   marker=dict(color=colour), hovertemplate=f"{component}: %{{y:.1f}}%<extra></extra>")
              for index, (component, colour) in enumerate(zip(COMPONENTS, COMPONENT_COLOURS))]
    return unchecked_figure(traces, _layout("Where the parameters live", 420, barmode="stack",
                                            yaxis=dict(title=dict(text="% of the model's parameters"), range=[0, 100])))


def sharing_savings(counts: Sequence[ParameterCount]) -> go.Figure:
    """Each model's total next to what it would be with a separate set of weights at every depth."""
    names = [c.name for c in counts]
    traces = [dict(type="bar", x=names, y=[c.total / 1e6 for c in counts], name="as built",
                   hovertemplate="%{y:.1f}M<extra></extra>"),
              dict(type="bar", x=names, y=[c.unshared_total / 1e6 for c in counts], name="one weight set per layer",
                   hovertemplate="%{y:.1f}M<extra></extra>")]
    return unchecked_figure(traces, _layout("What cross-layer sharing saves", 400, barmode="group",
                                            yaxis=dict(title=dict(text="parameters (millions)"))))


def factorization_bars(factors: Factorization) -> go.Figure:
    """V·H against V·E + E·H for one model."""
    labels = [f"V·H = {factors.vocab:,}·{factors.hidden}",
              f"V·E + E·H = {factors.vocab:,}·{factors.embedding} + {factors.embedding}·{factors.hidden}"]
    values = [factors.unfactorized, factors.factorized]
    bars = dict(type="bar", x=labels, y=[v / 1e6 for v in values], text=[f"{v:,}" for v in values],
                marker=dict(color=["#d62728", "#2ca02c"]), hovertemplate="%{y:.3f}M<extra></extra>")
    return unchecked_figure([bars], _layout(f"Factorized embeddings: {factors.saving:.1f}× fewer weights", 380,
                                            yaxis=dict(title=dict(text="embedding weights (millions)"))))


def projection_vectors(projection: Projection) -> go.Figure:
    """One token's E-wide embedding and the H-wide vector the E→H map makes of it."""
    traces = [dict(type="bar", y=projection.small, name="e", marker=dict(color="#1f77b4"), **subplot_axes(1, 1, 1)),
              dict(type="bar", y=projection.lifted, name="W·e + b", marker=dict(color="#ff7f0e"), **subplot_axes(2, 1, 1)),
              dict(type="scatter", y=projection.model_lifted, mode="markers", marker=dict(size=3, color="black"),
                   name="model", **subplot_axes(2, 1, 1))]
    layout = subplot_layout(2, 1, vertical_spacing=0.14, subplot_titles=[
        f"E = {projection.small.shape[0]}: after the embedding LayerNorm",
        f"H = {projection.lifted.shape[0]}: W·e + b (bars) and the model's own, the embeddings entering layer 0 (dots)"])
    layout["xaxis2"]["title"] = dict(text="dimension")
    layout.update(_layout(f"'{projection.token}' lifted from E to H", 520, top=70))
    return unchecked_figure(traces, layout)


SHARING_ATTENTION_AXIS = "0 = same rows, 1 = no overlap"


def layer_change(sharing: Sharing) -> go.Figure:
    """Per layer: how much the hidden state changes and how different the attention is, with the same weights."""
    layers = list(range(len(sharing.hidden_change)))
    attention = np.where(np.isnan(sharing.attention_change), None, sharing.attention_change)
    traces = [dict(type="bar", x=layers, y=sharing.hidden_change, name="hidden change",
                   hovertemplate="layer %{x}: %{y:.3f}<extra></extra>", **subplot_axes(1, 1, 2)),
              dict(type="bar", x=layers, y=attention, name="attention change", marker=dict(color="#ff7f0e"),
                   hovertemplate="layer %{x}: %{y:.3f}<extra></extra>", **subplot_axes(1, 2, 2))]
    # The right panel measures attention weights (where each query looks), not the shared parameters, which are
    # the very same tensor at every depth: its title and axis say so, in words short enough to fit the 380 px.
    layout = subplot_layout(1, 2, subplot_titles=["hidden-state change ‖h_{l+1} − h_l‖ / ‖h_l‖",
                                                  "attention weights: change from the layer before"])
    for axis in ("xaxis", "xaxis2"):
        layout[axis].update(title=dict(text="layer"), dtick=1)
    layout["yaxis"]["title"] = dict(text="mean over tokens")
    layout["yaxis2"].update(title=dict(text=SHARING_ATTENTION_AXIS), range=[0, 1])
    layout.update(_layout("Same weights, different work at every depth", 380, top=70, showlegend=False))
    return unchecked_figure(traces, layout)


def sop_bars(prediction: SopPrediction) -> go.Figure:
    """The SOP head's p(in order) for the true order and the swapped order."""
    labels = ["A then B (true order)", "B then A (swapped)"]
    values = [prediction.in_order_given_ab, prediction.in_order_given_ba]
    bars = dict(type="bar", x=labels, y=values, text=[f"{v:.1%}" for v in values],
                marker=dict(color=["#2ca02c", "#d62728"]), hovertemplate="%{y:.3f}<extra></extra>")
    figure = unchecked_figure([bars], _layout("Sentence-order prediction", 360,
                                              yaxis=dict(title=dict(text="p(in order) from the SOP head"), range=[0, 1])))
    figure.add_hline(y=0.5, line_dash="dot", annotation_text="chance")
    return figure
