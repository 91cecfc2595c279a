"""Plotly figures for the layer-norm page: numpy in, go.Figure out. No model code, no streamlit."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from albert_viz.analysis.layernorm import LayerNormParams, LayerNormStats, OutlierDimensions, WorkedLayerNorm
from albert_viz.figures.common import subplot_axes, subplot_layout, unchecked_figure
from albert_viz.model.capture import state_name

QUANTITIES = {
    "input_mean": "input mean",
    "input_std": "input standard deviation",
    "output_mean": "output mean",
    "output_std": "output standard deviation",
}


def _token_names(tokens: Sequence[str]) -> list[str]:
    """'3 love': position first, so repeated tokens stay distinct."""
    return [f"{i} {token}" for i, token in enumerate(tokens)]


def _token_colour(position: int) -> str:
    """One fixed colour per token position, so a token looks the same in every subplot."""
    palette = plotly.colors.qualitative.Dark24
    return palette[position % len(palette)]


def stats_lines(stats: LayerNormStats, tokens: Sequence[str], indices: Sequence[int], title: str,
                positions: Sequence[int] | None = None) -> go.Figure:
    """Input/output mean and std across the chosen applications, one line per chosen token (legend toggles one)."""
    positions = range(len(tokens)) if positions is None else positions
    labels = list(np.array(stats.labels(), dtype=object)[list(indices)])
    names = _token_names(tokens)
    traces = []
    for q, key in enumerate(QUANTITIES):
        values = getattr(stats, key)[list(indices)]  # [application, token]
        for t in positions:
            traces.append(dict(
                type="scatter", x=labels, y=values[:, t], mode="lines+markers", name=names[t], legendgroup=names[t],
                showlegend=q == 0, line=dict(color=_token_colour(t)),
                hovertemplate=f"{names[t]}<br>%{{x}}: %{{y:.4g}}<extra></extra>", **subplot_axes(q // 2 + 1, q % 2 + 1, 2),
            ))
    layout = subplot_layout(2, 2, subplot_titles=list(QUANTITIES.values()), shared_xaxes=True, vertical_spacing=0.12,
                            horizontal_spacing=0.08)
    for axis in ("xaxis", "xaxis2", "xaxis3", "xaxis4"):
        layout[axis]["tickangle"] = -45
    layout.update(title=dict(text=title), height=620, margin=dict(l=10, r=10, t=80, b=10),
                  legend=dict(title=dict(text="token")))
    return unchecked_figure(traces, layout)


def stats_heatmap(values: np.ndarray, labels: Sequence[str], tokens: Sequence[str], title: str) -> go.Figure:
    """Token × application heatmap of one statistic: values is [application, token]."""
    heatmap = dict(type="heatmap", z=values.T, x=list(labels), y=list(range(len(tokens))), colorscale="Viridis",
                   hovertemplate="%{x}<br>token %{y}: %{z:.4g}<extra></extra>")
    return unchecked_figure([heatmap], dict(
        title=dict(text=title), height=max(320, 24 * len(tokens) + 220), margin=dict(l=10, r=10, t=60, b=10),
        xaxis=dict(tickangle=-45),
        yaxis=dict(title=dict(text="token"), autorange="reversed", tickmode="array",
                   tickvals=list(range(len(tokens))), ticktext=list(tokens)),
    ))


def residual_norm_lines(norms: np.ndarray, tokens: Sequence[str], positions: Sequence[int] | None = None) -> go.Figure:
    """‖h‖ of the chosen tokens at every depth: norms is [layer + 1, token]; depth 0 is the projected embedding."""
    names = _token_names(tokens)
    depths = [state_name(d) for d in range(norms.shape[0])]  # embeddings, after layer 0, …
    traces = [dict(type="scatter", x=list(range(norms.shape[0])), y=norms[:, t], mode="lines+markers", name=names[t],
                   line=dict(color=_token_colour(t)), customdata=depths,
                   hovertemplate=f"{names[t]}<br>%{{customdata}}: ‖h‖ = %{{y:.4g}}<extra></extra>")
              for t in (range(len(tokens)) if positions is None else positions)]
    return unchecked_figure(traces, dict(
        title=dict(text="Length of each token's vector between layers"), height=420,
        margin=dict(l=10, r=10, t=60, b=10),
        xaxis=dict(title=dict(text="token states (the embeddings lifted to H, then after each layer)"),
                   tickvals=list(range(norms.shape[0])), ticktext=[state_name(d) for d in range(norms.shape[0])]),
        yaxis=dict(title=dict(text="‖h‖ (L2 norm)")),
    ))


def gamma_beta_histograms(params: LayerNormParams, name: str) -> go.Figure:
    """Distributions of γ and β of one LayerNorm module; name is its readable name for the title."""
    traces = [dict(type="histogram", x=params.gamma, nbinsx=60, name="γ", marker=dict(color="#1f77b4"),
                   **subplot_axes(1, 1, 2)),
              dict(type="histogram", x=params.beta, nbinsx=60, name="β", marker=dict(color="#ff7f0e"),
                   **subplot_axes(1, 2, 2))]
    layout = subplot_layout(1, 2, subplot_titles=["γ (scale)", "β (shift)"])
    layout["yaxis"]["title"] = dict(text="dimensions")
    layout.update(title=dict(text=f"{name}: {params.gamma.shape[0]} dimensions"), showlegend=False, height=340,
                  margin=dict(l=10, r=10, t=70, b=10))
    return unchecked_figure(traces, layout)


def top_gamma_bars(params: LayerNormParams, name: str, k: int = 12) -> go.Figure:
    """The k dimensions with the largest |γ|, with their β; name is the module's readable name for the title."""
    dims = params.top_gamma(k)
    names = [f"dim {d}" for d in dims]
    traces = [dict(type="bar", x=names, y=params.gamma[dims], name="γ"),
              dict(type="bar", x=names, y=params.beta[dims], name="β")]
    return unchecked_figure(traces, dict(title=dict(text=f"Largest |γ|: {name}"), barmode="group", height=340,
                                         margin=dict(l=10, r=10, t=60, b=10)))


OUTLIER_HEADROOM = 1.25  # the y range of the dimension profile, as a multiple of its tallest bar


def outlier_profile(inputs: np.ndarray, outputs: np.ndarray, dims: Sequence[int], title: str) -> go.Figure:
    """Mean |activation| over tokens in every dimension, before and after one LayerNorm; outliers marked."""
    before, after = np.abs(inputs).mean(axis=0), np.abs(outputs).mean(axis=0)  # [dim] each
    traces = []
    layout = subplot_layout(2, 1, shared_xaxes=True, vertical_spacing=0.14,
                            subplot_titles=["before LayerNorm: mean |input|", "after LayerNorm: mean |output|"])
    for row, values in ((1, before), (2, after)):
        axes = subplot_axes(row, 1, 1)
        traces.append(dict(type="bar", y=values, marker=dict(color="#9ecae1"), showlegend=False,
                           hovertemplate="dim %{x}: %{y:.4g}<extra></extra>", **axes))
        traces.append(dict(type="scatter", x=list(dims), y=values[list(dims)], mode="markers+text",
                           marker=dict(color="#d62728"), text=[str(d) for d in dims], textposition="top center",
                           textfont=dict(size=13, color="#111111"), cliponaxis=False, showlegend=False,
                           hovertemplate="outlier dim %{x}: %{y:.4g}<extra></extra>", **axes))
        # headroom above the tallest bar for its label: the labels of the largest dimensions were cut off
        layout[f"yaxis{'' if row == 1 else row}"]["range"] = [0, OUTLIER_HEADROOM * float(max(values.max(), 1e-9))]
    layout["xaxis2"]["title"] = dict(text="hidden dimension")
    layout.update(title=dict(text=title), height=520, margin=dict(l=10, r=10, t=70, b=10))
    return unchecked_figure(traces, layout)


def outlier_ratio_heatmap(outliers: OutlierDimensions) -> go.Figure:
    """For each outlier dimension and application, how many times a typical dimension's size it is (input)."""
    ratio = outliers.input_ratio().T  # [k, application]
    heatmap = dict(type="heatmap", z=ratio, x=list(outliers.labels), y=[f"dim {d}" for d in outliers.dims],
                   colorscale="Reds", texttemplate="%{z:.1f}×",
                   hovertemplate="%{y} at %{x}: %{z:.1f}× typical<extra></extra>",
                   colorbar=dict(title=dict(text="× median<br>dim")))
    return unchecked_figure([heatmap], dict(
        title=dict(text="Outlier dimensions: mean |input| ÷ the median dimension's"),
        height=200 + 30 * len(outliers.dims), margin=dict(l=10, r=10, t=60, b=10), xaxis=dict(tickangle=-45),
    ))


def worked_vectors(worked: WorkedLayerNorm) -> go.Figure:
    """x, x̂ and γ·x̂+β over every dimension, with the model's output on top of ours."""
    dims = list(range(worked.x.shape[0]))
    traces = [dict(type="scatter", x=dims, y=worked.x, mode="lines", name="x", **subplot_axes(1, 1, 1)),
              dict(type="scatter", x=dims, y=worked.x_hat, mode="lines", name="x̂", **subplot_axes(2, 1, 1)),
              dict(type="scatter", x=dims, y=worked.y, mode="lines", name="γ·x̂ + β", **subplot_axes(3, 1, 1)),
              dict(type="scatter", x=dims, y=worked.model_output, mode="markers", marker=dict(size=3), name="model",
                   **subplot_axes(3, 1, 1))]
    layout = subplot_layout(3, 1, shared_xaxes=True, vertical_spacing=0.07,
                            subplot_titles=["input x", "x̂ = (x − μ) / √(σ² + ε)", "γ·x̂ + β (ours) and the model's output"])
    layout["xaxis3"]["title"] = dict(text="dimension")
    layout.update(title=dict(text=f"'{worked.token}' at {worked.label}"), height=600, margin=dict(l=10, r=10, t=70, b=10))
    return unchecked_figure(traces, layout)
