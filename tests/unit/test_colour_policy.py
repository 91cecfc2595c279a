"""One colour policy, by what the numbers are: weights 0..1 pale at 0, counts from 0, differences centred at 0."""
import numpy as np
import pytest

from albert_viz.figures import attention_maps, common, explain_charts, finetune_charts
from albert_viz.finetune.metrics import EvaluationReport

WHITE_WEIGHT, DARK_WEIGHT = "rgb(247,251,255)", "rgb(8,48,107)"


def scale_ends(trace) -> tuple[str, str]:
    scale = [list(step) for step in trace.colorscale]
    return scale[0][1], scale[-1][1]


def colour_at_zero(trace) -> str:
    """The colour a value of 0 gets on the trace's scale (plotly interpolates between the listed steps)."""
    position = (0 - trace.zmin) / (trace.zmax - trace.zmin)
    return dict((round(step[0], 6), step[1]) for step in trace.colorscale)[round(position, 6)]


@pytest.mark.parametrize("figure", [
    attention_maps.attention_heatmap(np.full((4, 4), 0.25), list("abcd"), "one head"),
    attention_maps.heads_grid(np.full((3, 4, 4), 0.25), list("abcd"), "all heads"),
], ids=["one head", "all heads"])
def test_weights_run_from_white_at_zero_to_dark_blue_at_one_whatever_the_weights(figure):
    heatmap = figure.data[0]
    assert (heatmap.zmin, heatmap.zmax) == (0.0, 1.0) and scale_ends(heatmap) == (WHITE_WEIGHT, DARK_WEIGHT)


def confusion(counts) -> EvaluationReport:
    counts = np.asarray(counts)
    return EvaluationReport(("neg", "pos"), 0.5, 0.5, (), counts, (), int(counts.sum()))


def test_counts_start_at_zero_so_the_smallest_error_cell_is_not_drawn_as_empty():
    heatmap = finetune_charts.confusion_matrix(confusion([[120, 36], [41, 103]])).data[0]
    assert (heatmap.zmin, heatmap.zmax) == (0, 120) and scale_ends(heatmap)[0] == WHITE_WEIGHT
    assert "0 to 120" in heatmap.colorbar.title.text


def test_a_difference_map_is_centred_on_white_at_zero_with_its_range_on_the_colour_bar():
    difference = np.array([[0.04, -0.01], [0.0, -0.02]])
    heatmap = explain_charts.difference_heatmap(difference, ["a", "b"], "after − before").data[0]
    assert (heatmap.zmin, heatmap.zmax) == (-0.04, 0.04) and colour_at_zero(heatmap) == "rgb(247,247,247)"
    assert "±0.04" in heatmap.colorbar.title.text


def test_the_head_change_map_starts_white_at_zero_and_states_its_range():
    change = np.array([[0.005, 0.048], [0.01, 0.02]])
    figure = explain_charts.head_change_map(change, "Which heads changed most")
    heatmap = figure.data[0]
    assert (heatmap.zmin, heatmap.zmax) == (0.0, 0.048) and colour_at_zero(heatmap) == "rgb(247,247,247)"
    assert "0 to 0.048" in heatmap.colorbar.title.text and "0 to 0.048" in figure.layout.title.text


def test_a_range_fixed_across_views_is_the_largest_difference_at_any_layer_and_head():
    differences = np.zeros((2, 2, 3, 3))  # [layer, head, query, key]
    differences[0, 0, 0, 0], differences[1, 1, 2, 1] = 0.04, -0.5
    assert explain_charts.difference_bound(differences, (0, 0), "view") == pytest.approx(0.04)
    assert explain_charts.difference_bound(differences, (0, 0), "all") == pytest.approx(0.5)
    assert explain_charts.difference_bound(differences, (0, 0), "full") == 1.0


def test_a_difference_of_zero_everywhere_still_gets_a_colour_range():
    assert common.difference_colours(0.0)["zmax"] > 0
