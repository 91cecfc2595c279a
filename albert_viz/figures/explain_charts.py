"""Plotly figures for the Explain & compare page: numpy in, go.Figure out. No model code, no streamlit."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from albert_viz.analysis.attribution import ATTENTION_VIEWS, GRADIENT_VIEWS, Attribution
from albert_viz.analysis.layers import LayerProjection, ProbeComparison
from albert_viz.figures.common import LABEL_FONT, difference_colours, difference_range
from albert_viz.model.capture import state_name
from albert_viz.finetune.metrics import SMALL_SAMPLE

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


# How a difference map's colour range is chosen. The range a map spans is always written on its colour bar.
RANGE_SCOPES = {
    "all": "the same at every layer and head",
    "view": "this map's own largest value",
    "full": "the whole possible range (±1)",
}


def difference_bound(differences: np.ndarray, view: tuple = (), scope: str = "all") -> float:
    """The top of a difference map's symmetric colour range: the largest |value| over every view (scope "all"),
    in differences[view] alone ("view"), or 1, the most an attention weight or a distance between rows can move."""
    if scope not in RANGE_SCOPES:
        raise ValueError(f"scope must be one of {sorted(RANGE_SCOPES)}, not {scope!r}")
    if scope == "full":
        return 1.0
    shown = differences[view] if scope == "view" else differences
    return float(max(np.abs(shown).max(), 1e-9))


def difference_heatmap(difference: np.ndarray, labels: Sequence[str], title: str,
                       colour_title: str = "second −<br>first", bound: float | None = None,
                       axis_titles: tuple[str, str] = ("query (attending)", "key (attended to)"),
                       x_side: str = "top") -> go.Figure:
    """A signed token × token matrix (a difference, a cosine similarity), white at zero, blue above, red below.

    bound: the colour range is ±bound (default this map's largest |value|), written on the colour bar.
    x_side="bottom" suits a narrow column: tokens slanted on top would run into the title."""
    n = len(labels)
    bound = bound or difference_bound(difference, scope="view")
    figure = go.Figure(go.Heatmap(
        z=difference, x=list(range(n)), y=list(range(n)), **difference_colours(bound),
        hovertemplate="%{y} → %{x}: %{z:+.3f}<extra></extra>",
        colorbar=dict(title=f"{colour_title}<br>({difference_range(bound)})"),
    ))
    axis = dict(tickmode="array", tickvals=list(range(n)), ticktext=list(labels), tickfont=LABEL_FONT)
    figure.update_xaxes(title=axis_titles[1], side=x_side, **axis)
    figure.update_yaxes(title=axis_titles[0], autorange="reversed", **axis)
    figure.update_layout(title=title, height=max(360, 28 * n + 160), margin=dict(l=10, r=10, t=90, b=10))
    return figure


def head_change_map(change: np.ndarray, title: str, bound: float | None = None) -> go.Figure:
    """Layers × heads: how far each head's rows moved between the two inputs (0 = same, 1 = no overlap).

    A distance cannot be negative: the colours are the upper half of the difference scale, 0 (white) to bound
    (default the largest change), and the colour bar says the range."""
    layers, heads = change.shape
    bound = bound or difference_bound(change)
    figure = go.Figure(go.Heatmap(
        z=change, x=list(range(heads)), y=list(range(layers)), **difference_colours(bound, signed=False),
        hovertemplate="layer %{y}, head %{x}: %{z:.3f}<extra></extra>",
        colorbar=dict(title=f"change<br>({difference_range(bound, signed=False)})"),
    ))
    figure.update_xaxes(title="head", dtick=1, tickfont=LABEL_FONT)
    figure.update_yaxes(title="layer", dtick=1, autorange="reversed", tickfont=LABEL_FONT)
    figure.update_layout(title=f"{title} (colours 0 to {bound:.3g})", height=max(300, 34 * layers + 140),
                         margin=dict(l=10, r=10, t=60, b=10))
    return figure


# Neighbouring tokens' labels go to different sides of their points, so tokens that sit close do not print
# their names on top of one another.
LABEL_POSITIONS = ("top center", "bottom center", "middle right", "middle left")


def layer_scatter(projection: LayerProjection, layer: int, labelled: bool = True) -> go.Figure:
    """One layer's tokens in the PCA plane shared by all layers; the axis ranges are the same at every layer.

    labelled: print each token beside its point (each next token on another side); off, the names are on hover."""
    everything = projection.points.reshape(-1, 2)  # [(layer + 1) * token, 2]
    low, high = everything.min(axis=0), everything.max(axis=0)
    pad = 0.08 * np.maximum(high - low, 1e-9)
    points = projection.points[layer]  # [token, 2]
    tokens = list(projection.tokens)
    text = dict(mode="markers+text", text=tokens, textfont=LABEL_FONT,
                textposition=[LABEL_POSITIONS[i % len(LABEL_POSITIONS)] for i in range(len(tokens))])
    figure = go.Figure(go.Scatter(
        x=points[:, 0], y=points[:, 1], **(text if labelled else dict(mode="markers")),
        customdata=np.array([f"{i} {token}" for i, token in enumerate(tokens)], dtype=object),
        marker=dict(size=10, color=list(range(len(tokens))), colorscale="Viridis"),
        hovertemplate="%{customdata}<extra></extra>", cliponaxis=False,
    ))
    ratio = projection.explained_variance_ratio
    figure.update_xaxes(title=f"PC 1 ({100 * ratio[0]:.0f}% of the variance, all layers)",
                        range=[low[0] - pad[0], high[0] + pad[0]])
    figure.update_yaxes(title=f"PC 2 ({100 * ratio[1]:.0f}%)", range=[low[1] - pad[1], high[1] + pad[1]])
    figure.update_layout(title=f"Token states: {state_name(layer)}", height=480, margin=dict(l=10, r=10, t=60, b=10))
    return figure


MODEL_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")  # one colour per model; dash tells the pooling


def probe_accuracy(comparison: ProbeComparison) -> go.Figure:
    """Validation accuracy by layer for the [CLS] and mean-pooled probes of each model, with the majority-class line."""
    several = len(comparison.names) > 1
    figure = go.Figure()
    for index, (name, result) in enumerate(zip(comparison.names, comparison.results)):
        layers = list(range(len(result.cls_accuracy)))
        for kind, (pooling, values, dash) in enumerate((("[CLS] state", result.cls_accuracy, "solid"),
                                                        ("mean of the tokens", result.mean_accuracy, "dash"))):
            colour = MODEL_COLOURS[(index if several else kind) % len(MODEL_COLOURS)]
            width = max(4 - 2 * index, 2) if several else 2  # later models thinner on top: where they agree, both show
            low, high = result.interval(values)
            figure.add_trace(go.Scatter(
                x=layers, y=values, mode="lines+markers", name=f"{pooling} · {name}" if several else pooling,
                line=dict(color=colour, dash=dash, width=width), customdata=np.stack([low, high], axis=-1),
                hovertemplate=f"layer %{{x}}: %{{y:.0%}} of {result.rows} rows (95% interval "
                              "%{customdata[0]:.0%}–%{customdata[1]:.0%})<extra></extra>",
                # few rows: the Wilson interval as error bars, so a 100% on 7 rows does not look certain
                error_y=dict(type="data", symmetric=False, array=high - values, arrayminus=values - low,
                             visible=result.rows < SMALL_SAMPLE, color=colour)))
    figure.add_hline(y=comparison.results[0].majority_accuracy, line_dash="dot",
                     annotation_text="always the commonest label")
    rows = comparison.results[0].rows
    depths = range(len(comparison.results[0].cls_accuracy))  # embeddings, then after each layer
    figure.update_xaxes(title="token states", tickvals=list(depths), ticktext=[state_name(d) for d in depths])
    figure.update_yaxes(title=f"validation accuracy ({rows:,} rows)", range=[0, 1.02])
    interval = "; bars: 95% Wilson interval" if rows < SMALL_SAMPLE else ""
    figure.update_layout(title=f"Where does the label become readable? (scored on {rows:,} validation rows"
                               f"{interval})", height=420, margin=dict(l=10, r=10, t=60, b=10))
    return figure
