"""Fine-tuning charts: readable axes a class can read off (round ticks, titles clear of the labels)."""
import numpy as np
import pytest

from albert_viz.figures import finetune_charts
from albert_viz.finetune.job import ProgressSnapshot
from albert_viz.finetune.metrics import EvaluationReport, wilson_interval


def test_accuracy_axis_ticks_are_round_percentages():
    snapshot = ProgressSnapshot(total_steps=30, losses=((1, 1.79), (10, 1.2)), evaluations=((10, 0.41, 1.3),))
    axis = finetune_charts.training_curves(snapshot).layout.yaxis2
    assert all(round(tick * 100) == tick * 100 and round(tick * 100) % 10 == 0 for tick in axis.tickvals)
    assert list(axis.ticktext) == [f"{tick:.0%}" for tick in axis.tickvals]


def test_live_accuracy_curve_names_its_validation_row_count():
    snapshot = ProgressSnapshot(total_steps=30, evaluations=((10, 0.8, 0.5),), validation_rows=400)
    accuracy = next(trace for trace in finetune_charts.training_curves(snapshot).data if trace.yaxis == "y2")
    assert accuracy.name == "validation accuracy (400 rows)" and accuracy.error_y.array is None


def test_live_accuracy_on_few_rows_carries_its_wilson_interval():
    snapshot = ProgressSnapshot(total_steps=30, evaluations=((10, 0.875, 0.5),), validation_rows=8)
    bars = next(trace for trace in finetune_charts.training_curves(snapshot).data if trace.yaxis == "y2").error_y
    low, high = wilson_interval(7, 8)
    assert (bars.arrayminus[0], bars.array[0]) == pytest.approx((0.875 - low, high - 0.875))


def test_confusion_matrix_keeps_the_labels_away_from_the_title():
    names = ("business", "entertainment", "politics", "sport", "tech")
    report = EvaluationReport(names, 0.5, 0.4, (), np.eye(5, dtype=int) * 3, (), 15)
    layout = finetune_charts.confusion_matrix(report).layout
    assert layout.xaxis.side == "bottom"  # the title sits on top; the predicted labels below the matrix
