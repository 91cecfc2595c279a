"""Plotly figures for a live class: the class's answers next to the model's. Lists in, go.Figure out; no streamlit."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from albert_viz.figures.common import unchecked_figure

MODEL_COLOUR, CLASS_COLOUR = "#2ca02c", "#9ecae1"  # the model's choice stands out; every other choice is pale
ROW_PX = 34  # one choice per row: long choices (tokens, sentences) read left to right


def answer_distribution(choices: Sequence[str], counts: Sequence[int], model_choice: int, title: str) -> go.Figure:
    """How many students picked each choice (horizontal bars, first choice on top); the model's bar in green."""
    total = max(sum(counts), 1)
    labels = [f"{choice} (the model)" if index == model_choice else str(choice) for index, choice in enumerate(choices)]
    bars = dict(type="bar", orientation="h", x=list(counts), y=labels,
                text=[f"{count} ({count / total:.0%})" for count in counts], textposition="outside",
                marker=dict(color=[MODEL_COLOUR if index == model_choice else CLASS_COLOUR
                                   for index in range(len(choices))]),
                hovertemplate="%{y}: %{x} students<extra></extra>", cliponaxis=False)
    layout = dict(title=dict(text=title), height=120 + ROW_PX * len(choices), margin=dict(l=10, r=40, t=60, b=40),
                  xaxis=dict(title=dict(text="students"), rangemode="tozero", dtick=1 if max(counts, default=0) < 10 else None),
                  yaxis=dict(autorange="reversed", automargin=True), showlegend=False)
    return unchecked_figure([bars], layout)
