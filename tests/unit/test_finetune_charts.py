"""Fine-tuning charts: readable axes a class can read off (round ticks, titles clear of the labels)."""
import numpy as np

from albert_viz.figures import finetune_charts
from albert_viz.finetune.job import ProgressSnapshot
from albert_viz.finetune.metrics import EvaluationReport


def test_accuracy_axis_ticks_are_round_percentages():
    snapshot = ProgressSnapshot(total_steps=30, losses=((1, 1.79), (10, 1.2)), evaluations=((10, 0.41, 1.3),))
    axis = finetune_charts.training_curves(snapshot).layout.yaxis2
    assert all(round(tick * 100) == tick * 100 and round(tick * 100) % 10 == 0 for tick in axis.tickvals)
    assert list(axis.ticktext) == [f"{tick:.0%}" for tick in axis.tickvals]


def test_confusion_matrix_keeps_the_labels_away_from_the_title():
    names = ("business", "entertainment", "politics", "sport", "tech")
    report = EvaluationReport(names, 0.5, 0.4, (), np.eye(5, dtype=int) * 3, (), 15)
    layout = finetune_charts.confusion_matrix(report).layout
    assert layout.xaxis.side == "bottom"  # the title sits on top; the predicted labels below the matrix
