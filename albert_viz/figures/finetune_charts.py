"""Plotly figures for the fine-tuning page: data in, go.Figure out. No model code, no streamlit."""
from __future__ import annotations

from html import escape

import numpy as np
import plotly.graph_objects as go

from albert_viz.finetune.job import ProgressSnapshot
from albert_viz.figures.common import LABEL_FONT, count_colours
from albert_viz.finetune.metrics import SMALL_SAMPLE, EvaluationReport, wilson_interval


ACCURACY_TICKS = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]


def class_balance(counts: dict[str, int]) -> go.Figure:
    # label names are the user's data: plotly reads some HTML in text, so escape it
    figure = go.Figure(go.Bar(x=[escape(name) for name in counts], y=list(counts.values()),
                              text=list(counts.values())))
    figure.update_layout(title="Rows per label", xaxis_title="label", yaxis_title="rows", height=300,
                         margin=dict(l=10, r=10, t=50, b=10))
    return figure


def length_histogram(lengths: np.ndarray, max_length: int) -> go.Figure:
    """Tokens per text, with the truncation limit marked."""
    figure = go.Figure(go.Histogram(x=lengths, nbinsx=40))
    figure.add_vline(x=max_length, line_dash="dash", annotation_text=f"max length {max_length}")
    cut = int((lengths > max_length).sum())
    figure.update_layout(title=f"Tokens per text ({cut} of {len(lengths)} cut)",
                         xaxis_title="tokens", yaxis_title="texts", height=300, margin=dict(l=10, r=10, t=50, b=10))
    return figure


def accuracy_trace_name(rows: int) -> str:
    """'validation accuracy (400 rows)': an accuracy is read with the count it is of (none known: no count)."""
    return f"validation accuracy ({rows:,} rows)" if rows else "validation accuracy"


def wilson_bounds(accuracy, rows: int) -> np.ndarray:
    """[point, (low, high)]: the 95% Wilson interval of each accuracy measured on `rows` rows."""
    return np.array([wilson_interval(round(value * rows), rows) for value in accuracy]).reshape(-1, 2)


def wilson_bars(accuracy, rows: int) -> dict | None:
    """The intervals as asymmetric error bars, only when the rows are few (SMALL_SAMPLE) and known."""
    if not 0 < rows < SMALL_SAMPLE:
        return None
    accuracy, bounds = np.asarray(accuracy, dtype=float), wilson_bounds(accuracy, rows)
    return dict(type="data", symmetric=False, array=bounds[:, 1] - accuracy, arrayminus=accuracy - bounds[:, 0],
                thickness=1.5, visible=True)


def training_curves(snapshot: ProgressSnapshot) -> go.Figure:
    """Training loss and validation loss on the left axis, validation accuracy on the right."""
    figure = go.Figure()
    if snapshot.losses:
        steps, losses = zip(*snapshot.losses)
        figure.add_trace(go.Scatter(x=steps, y=losses, name="training loss", mode="lines"))
    if snapshot.evaluations:
        steps, accuracy, validation_loss = zip(*snapshot.evaluations)
        figure.add_trace(go.Scatter(x=steps, y=validation_loss, name="validation loss", mode="lines+markers"))
        rows = snapshot.validation_rows
        figure.add_trace(go.Scatter(x=steps, y=accuracy, name=accuracy_trace_name(rows), mode="lines+markers",
                                    yaxis="y2", error_y=wilson_bars(accuracy, rows)))
    figure.update_layout(
        title="Learning", xaxis=dict(title="step", range=[0, max(snapshot.total_steps, 1)]),
        yaxis=dict(title="loss", rangemode="tozero"),
        # round ticks of its own: left to plotly, the overlaid axis lines up with the loss grid (0.168, 0.335, …)
        yaxis2=dict(title="accuracy", overlaying="y", side="right", range=[0, 1], tickmode="array",
                    tickvals=ACCURACY_TICKS, ticktext=[f"{tick:.0%}" for tick in ACCURACY_TICKS], showgrid=False),
        height=340, margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.2),
    )
    return figure


def confusion_matrix(report: EvaluationReport) -> go.Figure:
    """Rows per (true, predicted) pair; colours are counts from 0 (white), so no non-empty cell looks empty."""
    names = [escape(name) for name in report.label_names]
    colours = count_colours(report.confusion)
    figure = go.Figure(go.Heatmap(
        z=report.confusion, x=names, y=names, **colours, text=report.confusion, texttemplate="%{text}",
        hovertemplate="true %{y}, predicted %{x}: %{z} rows<extra></extra>",
        colorbar=dict(title=f"rows<br>(0 to {colours['zmax']})"),
    ))
    # predicted labels along the bottom, so however long or tilted they get they never reach the title
    figure.update_xaxes(title="predicted label", side="bottom", type="category", automargin=True, tickfont=LABEL_FONT)
    figure.update_yaxes(title="true label", autorange="reversed", type="category", automargin=True,
                        tickfont=LABEL_FONT)
    side = max(320, 60 * len(names) + 160)
    figure.update_layout(title="Confusion matrix (validation rows)", height=side,
                         margin=dict(l=10, r=10, t=50, b=10))
    return figure


def probabilities(probabilities: dict[str, float]) -> go.Figure:
    names = list(probabilities)
    figure = go.Figure(go.Bar(x=[probabilities[n] for n in names], y=[escape(n) for n in names], orientation="h",
                              text=[f"{probabilities[n]:.1%}" for n in names]))
    figure.update_layout(xaxis=dict(range=[0, 1], title="probability"), height=60 + 40 * len(names),
                         margin=dict(l=10, r=10, t=10, b=10))
    return figure
