"""Side by side: a minimal pair or two models, the difference map and the heads ranked by change."""
import numpy as np

from albert_viz.analysis.compare import MINIMAL_PAIRS, side_by_side
from albert_viz.model.capture import capture


def test_a_minimal_pair_lines_up_and_its_difference_is_second_minus_first(tiny_model):
    first, second = (capture(tiny_model, text) for text in MINIMAL_PAIRS["trophy / suitcase (big vs small)"])
    compared = side_by_side(first, second)
    assert compared.note is None
    np.testing.assert_allclose(compared.change.difference, second.attentions - first.attentions)
    assert "big / small" in compared.labels()


def test_heads_are_ranked_by_how_far_their_rows_moved(tiny_model):
    compared = side_by_side(capture(tiny_model, "the film was good"), capture(tiny_model, "the film was bad"))
    layer, head, change = compared.change.top_heads(1)[0]
    assert change == compared.change.change.max() == compared.change.change[layer, head]


def test_inputs_of_different_lengths_get_no_difference_and_a_note(tiny_model):
    compared = side_by_side(capture(tiny_model, "the film was good"), capture(tiny_model, "the film was not good"))
    assert compared.change is None
    assert "6 and 7 tokens" in compared.note


def test_models_of_different_shapes_get_no_difference_and_a_note(tiny_model, grouped_model):
    compared = side_by_side(capture(tiny_model, "the film was good"), capture(grouped_model, "the film was good"))
    assert compared.change is None
    assert "different shapes" in compared.note


def test_the_same_sentence_through_the_same_model_changes_nothing(tiny_model):
    compared = side_by_side(capture(tiny_model, "the cat is tired"), capture(tiny_model, "the cat is tired"))
    assert np.all(compared.change.change == 0.0)


def test_the_same_relative_depth_maps_first_to_first_and_last_to_last():
    from albert_viz.analysis.compare import same_relative_layer

    assert [same_relative_layer(layer, 3, 12) for layer in range(3)] == [0, 6, 11]  # 0, 5.5 -> 6, 11
    assert [same_relative_layer(layer, 12, 4) for layer in (0, 11)] == [0, 3]
    assert same_relative_layer(0, 1, 6) == 0 and same_relative_layer(4, 6, 1) == 0
