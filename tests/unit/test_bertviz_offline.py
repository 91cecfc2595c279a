"""bertviz offline: the views start where the page is, and keep every layer that fits."""
import numpy as np

from albert_viz.figures import bertviz_offline


def attentions(layers: int, heads: int, tokens: int) -> np.ndarray:
    return np.full((layers, heads, tokens, tokens), 1.0 / tokens, dtype=np.float32)  # [layer, head, query, key]


def test_every_layer_of_a_short_sentence_is_in_the_view():
    assert bertviz_offline.layers_that_fit(attentions(6, 12, 8), around=4) == [0, 1, 2, 3, 4, 5]


def test_a_long_sentence_keeps_the_layers_nearest_the_chosen_one():
    big = attentions(12, 12, 128)  # 196,608 numbers per layer: 7 layers fit under the limit
    fitting = bertviz_offline.layers_that_fit(big, around=10)
    assert 10 in fitting and fitting == list(range(fitting[0], fitting[-1] + 1))
    assert bertviz_offline.payload_numbers(big, fitting) <= bertviz_offline.MAX_NUMBERS


def test_the_head_view_opens_on_the_pages_layer_and_head():
    html = bertviz_offline.head_view_html(attentions(6, 4, 5), [f"t{i}" for i in range(5)], list(range(6)),
                                          layer=3, heads=[2])
    assert '"layer": 3' in html and '"heads": [2]' in html
