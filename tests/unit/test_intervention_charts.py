"""Intervention figures: the importance map, the pruning curve and the deletion curves draw what they are given."""
import numpy as np

from albert_viz.analysis.ablation import HeadImportance, PruningCurve
from albert_viz.analysis.faithfulness import METHODS
from albert_viz.figures import intervention_charts


def importance(rows=40) -> HeadImportance:
    ablated = np.full((2, 3), 0.5)
    ablated[1, 2] = 0.1  # head L1·H2 matters most
    return HeadImportance("masked word", rows, accuracy=0.6, probability=0.5, ablated_accuracy=ablated + 0.1,
                          ablated_probability=ablated)


def test_the_importance_map_colours_each_heads_probability_drop_layer_by_head():
    heatmap = intervention_charts.importance_map(importance()).data[0]
    assert np.asarray(heatmap.z).shape == (2, 3)  # [layer, head]
    assert np.asarray(heatmap.z)[1, 2] == np.asarray(heatmap.z).max() > 0.39


def test_the_pruning_chart_puts_the_wilson_interval_on_few_rows_and_the_rows_in_its_title():
    curve = PruningCurve(((0, 0), (0, 1)), accuracy=np.array([0.8, 0.7, 0.2]), probability=np.array([0.6, 0.5, 0.1]))
    few, many = intervention_charts.pruning_chart(curve, 20), intervention_charts.pruning_chart(curve, 400)
    assert few.data[0].error_y.visible and not many.data[0].error_y.visible
    assert "on 20 rows" in few.layout.title.text and "on 400 rows" in many.layout.title.text
    assert list(few.data[0].x) == [0, 1, 2]  # heads switched off


def test_the_deletion_chart_draws_one_line_per_explanation_the_random_floor_dashed():
    shares = np.linspace(0, 1, 5)
    curves = {method: (shares, 1 - shares * (i + 1) / 6) for i, method in enumerate(METHODS)}
    figure = intervention_charts.deletion_chart(curves, "t")
    assert [trace.name for trace in figure.data] == list(METHODS.values())
    assert [trace.line.dash for trace in figure.data].count("dash") == 1 and figure.data[-1].line.dash == "dash"
