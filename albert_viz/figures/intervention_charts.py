"""Plotly figures for interventions: switched-off heads, importance map, pruning curve, deletion curves, timeline.

Numpy and results in, go.Figure out; no model code, no streamlit.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from albert_viz.analysis.ablation import AblationOutcome, HeadImportance, PruningCurve
from albert_viz.analysis.faithfulness import GRID, METHODS
from albert_viz.figures.common import DARK_TEXT, LABEL_FONT, difference_colours, difference_range
from albert_viz.figures.finetune_charts import ACCURACY_TICKS, wilson_bars, wilson_bounds
from albert_viz.finetune.metrics import SMALL_SAMPLE

METHOD_COLOURS = {"last_layer": "#9e9ac8", "rollout": "#6a51a3", "norm_weighted": "#3f007d",
                  "integrated_gradients": "#2166ac", "gradient_x_input": "#4393c3", "random": "#969696"}


def before_after_bars(outcome: AblationOutcome) -> go.Figure:
    """The untouched model's answers, each with its probability before and after the heads were switched off."""
    labels = list(outcome.before.labels)
    figure = go.Figure([
        go.Bar(x=labels, y=outcome.before.probabilities, name="all heads on", marker_color="#6a51a3",
               hovertemplate="%{x}: %{y:.3f}<extra>all heads on</extra>"),
        go.Bar(x=labels, y=outcome.after_of_before, name="chosen heads off", marker_color="#fd8d3c",
               hovertemplate="%{x}: %{y:.3f}<extra>chosen heads off</extra>"),
    ])
    figure.update_layout(barmode="group", yaxis=dict(title="probability", range=[0, 1]), height=320,
                         title="First answers: heads on vs off",
                         margin=dict(l=10, r=10, t=60, b=10), legend=dict(orientation="h", y=-0.2))
    return figure


def layers_by_heads(values: np.ndarray, title: str, colour_title: str, signed: bool = True,
                    marked: Sequence[tuple[int, int]] = ()) -> go.Figure:
    """A [layer, head] map; white at zero (the project's difference colours); marked cells (e.g. switched-off heads)
    get an ×. The colour bar says the range the colours span."""
    layers, heads = values.shape
    bound = float(max(np.abs(values).max(), 1e-9))
    figure = go.Figure(go.Heatmap(
        z=values, x=list(range(heads)), y=list(range(layers)), **difference_colours(bound, signed),
        colorbar=dict(title=f"{colour_title}<br>({difference_range(bound, signed)})"),
        hovertemplate="layer %{y}, head %{x}: %{z:+.4f}<extra></extra>"))
    if marked:
        figure.add_trace(go.Scatter(x=[h for _, h in marked], y=[d for d, _ in marked], mode="text", text="×",
                                    textfont=dict(size=18, color=DARK_TEXT), hoverinfo="skip", showlegend=False))
    figure.update_xaxes(title="head", tickmode="array", tickvals=list(range(heads)))
    figure.update_yaxes(title="layer", autorange="reversed", tickmode="array", tickvals=list(range(layers)))
    figure.update_layout(title=title, height=max(300, 34 * layers + 140), margin=dict(l=10, r=10, t=60, b=10))
    return figure


HEAD_ON, HEAD_OFF = "#6a51a3", "#fd8d3c"  # the colours of "all heads on" and "chosen heads off" in the bars


def head_picker(depths: int, heads: int, off: Sequence[tuple[int, int]] | set = ()) -> go.Figure:
    """Layers × heads as squares to click: purple squares are working heads, orange × the heads switched off.

    Each marker carries (depth, head) as customdata, so a click is a plotly selection clicked_cell can read.
    """
    depth, head = np.divmod(np.arange(depths * heads), heads)  # flat marker index -> (depth, head)
    is_off = np.array([(int(d), int(h)) in set(off) for d, h in zip(depth, head)])  # [marker]
    state = np.where(is_off, "off: click to switch it back on", "on: click to switch it off")
    steady = dict(marker=dict(opacity=1))  # a clicked marker is not dimmed while the page reruns
    figure = go.Figure(go.Scatter(
        # customdata as plain lists: a numpy array goes to the browser as a typed array, and a click sends it back
        # as {"0": depth, "1": head} instead of [depth, head]
        x=head, y=depth, mode="markers", customdata=np.stack([depth, head], axis=-1).tolist(),  # [marker, (depth, head)]
        marker=dict(size=26, symbol=np.where(is_off, "x", "square"), color=np.where(is_off, HEAD_OFF, HEAD_ON),
                    line=dict(width=0)),
        text=state, hovertemplate="L%{customdata[0]}·H%{customdata[1]} %{text}<extra></extra>",
        selected=steady, unselected=steady, showlegend=False))
    figure.update_xaxes(title="head", tickmode="array", tickvals=list(range(heads)), range=[-0.6, heads - 0.4],
                        showgrid=False, zeroline=False, fixedrange=True, tickfont=LABEL_FONT)
    figure.update_yaxes(title="layer", tickmode="array", tickvals=list(range(depths)), range=[depths - 0.4, -0.6],
                        showgrid=False, zeroline=False, fixedrange=True, tickfont=LABEL_FONT)
    figure.update_layout(title=f"Click a head to switch it off or on ({len(set(off))} off)",
                         height=max(200, 34 * depths + 120), margin=dict(l=10, r=10, t=50, b=10),
                         plot_bgcolor="white", dragmode=False, clickmode="event+select")
    return figure


def clicked_cell(selection: dict) -> tuple[int, int] | None:
    """The (depth, head) a click on head_picker chose, from a Streamlit plotly selection state."""
    for point in selection.get("points", []):
        customdata = point.get("customdata")
        if isinstance(customdata, dict):  # a typed array, as the browser sends it back
            customdata = [customdata.get("0"), customdata.get("1")]
        if customdata is not None and len(customdata) == 2 and None not in customdata:
            return int(customdata[0]), int(customdata[1])
    return None


def importance_map(importance: HeadImportance) -> go.Figure:
    """Layers × heads: how much the right answer's probability falls when that head alone is off."""
    # two lines: at half the width of a 1280 px screen one line was cut off after "(mea"
    return layers_by_heads(importance.probability_drop, "Drop in the right answer's probability,<br>one head off "
                           f"(mean over {importance.rows:,} rows)", "drop")


def pruning_chart(curve: PruningCurve, rows: int) -> go.Figure:
    """Accuracy (and mean right-answer probability) against heads removed, least important first; on few rows
    the accuracy carries its 95% Wilson interval as error bars."""
    bounds = wilson_bounds(curve.accuracy, rows)  # [step, (low, high)]
    interval = "; bars: 95% Wilson interval" if rows < SMALL_SAMPLE else ""
    figure = go.Figure([
        go.Scatter(x=curve.removed, y=curve.accuracy, mode="lines+markers", name="accuracy", customdata=bounds,
                   hovertemplate=f"%{{x}} heads off: accuracy %{{y:.1%}} of {rows:,} rows (95% interval "
                                 "%{customdata[0]:.0%}–%{customdata[1]:.0%})<extra></extra>",
                   error_y=wilson_bars(curve.accuracy, rows)),
        go.Scatter(x=curve.removed, y=curve.probability, mode="lines", name="mean probability of the right answer",
                   line=dict(dash="dot"), hovertemplate="%{x} heads off: %{y:.3f}<extra></extra>"),
    ])
    figure.update_layout(title=f"Removing heads, least important first (on {rows:,} rows{interval})", height=360,
                         xaxis=dict(title="heads switched off"), yaxis=dict(title="score", range=[0, 1.02]),
                         margin=dict(l=10, r=10, t=60, b=10), legend=dict(orientation="h", y=-0.25))
    return figure


def deletion_chart(curves: dict[str, tuple[np.ndarray, np.ndarray]], title: str) -> go.Figure:
    """One line per explanation: p(original answer) against the share of words masked, most important first."""
    figure = go.Figure([
        go.Scatter(x=shares, y=probabilities, mode="lines+markers", name=METHODS[method],
                   line=dict(color=METHOD_COLOURS[method], dash="dash" if method == "random" else "solid"),
                   hovertemplate="%{x:.0%} masked: %{y:.3f}<extra>" + METHODS[method] + "</extra>")
        for method, (shares, probabilities) in curves.items()])
    figure.update_layout(title=title, height=380, margin=dict(l=10, r=10, t=60, b=10),
                         xaxis=dict(title="share of the words replaced by [MASK]", tickformat=".0%"),
                         yaxis=dict(title="probability of the original answer", range=[0, 1]),
                         legend=dict(orientation="h", y=-0.3))
    return figure


def summary_curves(curves: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A FaithfulnessSummary's curves in deletion_chart's (shares, probabilities) form."""
    return {method: (GRID, values) for method, values in curves.items()}


def training_curve(losses: Sequence[tuple[int, float]], evaluations: Sequence[tuple[int, float, float]],
                   step: int) -> go.Figure:
    """Training loss and validation accuracy against step, with a line at the step the slider shows."""
    figure = go.Figure()
    if losses:
        figure.add_trace(go.Scatter(x=[s for s, _ in losses], y=[v for _, v in losses], name="training loss",
                                    mode="lines", hovertemplate="step %{x}: loss %{y:.3f}<extra></extra>"))
    if evaluations:
        figure.add_trace(go.Scatter(x=[s for s, _, _ in evaluations], y=[a for _, a, _ in evaluations],
                                    name="validation accuracy", mode="lines+markers", yaxis="y2",
                                    hovertemplate="step %{x}: accuracy %{y:.3f}<extra></extra>"))
    figure.add_vline(x=step, line=dict(color="#fd8d3c", width=3))
    # the accuracy axis gets round ticks of its own: left to plotly, it lines up with the loss grid (0.054, 0.484, …)
    figure.update_layout(title=f"Loss and accuracy · step {step}", height=300, margin=dict(l=10, r=10, t=50, b=10),
                         xaxis=dict(title="step"), yaxis=dict(title="loss"),
                         yaxis2=dict(title="accuracy", overlaying="y", side="right", range=[0, 1], tickmode="array",
                                     tickvals=ACCURACY_TICKS, ticktext=[f"{tick:.0%}" for tick in ACCURACY_TICKS],
                                     showgrid=False),
                         legend=dict(orientation="h", y=-0.3))
    return figure


def cls_rollout_bars(tokens: Sequence[str], shares: np.ndarray, title: str) -> go.Figure:
    """The [CLS] row of the top layer's rollout, one bar per token: which words the verdict draws on, on 0–1."""
    labels = [f"{token} ({i})" for i, token in enumerate(tokens)]  # a token may appear twice: the position tells
    figure = go.Figure(go.Bar(x=labels, y=np.asarray(shares, dtype=np.float32), marker_color="#6a51a3",
                              hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    figure.update_layout(title=title, height=300, margin=dict(l=10, r=10, t=50, b=10),
                         yaxis=dict(title="share of [CLS]", range=[0, 1]), xaxis=dict(tickangle=-45))
    return figure
