"""The switch-off figures: the answers before and after, the layers × heads maps, and the picker a click reads."""
import numpy as np

from albert_viz.analysis.ablation import AblationOutcome, Prediction
from albert_viz.figures import intervention_charts


def outcome(off=((0, 1),)) -> AblationOutcome:
    maps = np.full((2, 3, 4, 4), 0.25)  # [layer, head, query, key]
    return AblationOutcome(("[CLS]", "a", "[MASK]", "[SEP]"), "masked_word", 2, off,
                           Prediction(("cat", "dog"), np.array([0.6, 0.3])), Prediction(("dog", "cat"), np.array([0.5, 0.2])),
                           np.array([0.2, 0.5]), maps, maps)


def test_the_bars_show_each_first_answer_before_and_after():
    figure = intervention_charts.before_after_bars(outcome())
    before, after = figure.data
    assert list(before.x) == ["cat", "dog"] and list(before.y) == [0.6, 0.3] and list(after.y) == [0.2, 0.5]


def test_switched_off_heads_are_marked_with_a_cross_where_they_sit():
    figure = intervention_charts.layers_by_heads(np.zeros((2, 3)), "t", "c", marked=[(1, 2)])
    assert list(figure.data[1].x) == [2] and list(figure.data[1].y) == [1] and figure.data[1].text == "×"


def test_a_signed_map_is_centred_on_white_at_zero():
    heatmap = intervention_charts.layers_by_heads(np.array([[0.04, -0.01]]), "t", "drop").data[0]
    assert (heatmap.zmin, heatmap.zmax, heatmap.zmid) == (-0.04, 0.04, 0.0)
    assert "±0.04" in heatmap.colorbar.title.text


def test_the_picker_draws_heads_off_as_crosses_and_a_click_reads_back_the_head():
    figure = intervention_charts.head_picker(2, 3, {(1, 2)})
    markers = figure.data[0]
    assert list(markers.marker.symbol) == ["square"] * 5 + ["x"]
    point = {"x": 2, "y": 1, "customdata": [int(v) for v in markers.customdata[5]]}
    assert intervention_charts.clicked_cell({"points": [point]}) == (1, 2)
    assert intervention_charts.clicked_cell({"points": [], "box": [], "lasso": []}) is None
