"""Figures in the projector layout: every label at least 16 px, token labels thinned only when they would collide."""
import numpy as np
import pytest

from albert_viz.analysis.attention import head_statistics
from albert_viz.figures import attention_maps, common
from albert_viz.model.capture import capture

PX = common.PROJECTOR_LABEL_PX


def tokens(n: int) -> list[str]:
    return [f"w{i}" for i in range(n)]


def uniform(n: int) -> np.ndarray:
    return np.full((n, n), 1.0 / n)


def label_sizes(figure) -> list[float]:
    """Every tick label, axis title and annotation font size the figure sets (None: the base font)."""
    layout = figure.layout
    base = layout.font.size
    sizes = [base]
    for axis in [layout[name] for name in layout if name.startswith(("xaxis", "yaxis"))]:
        sizes += [axis.tickfont.size or base, axis.title.font.size or base]
    sizes += [annotation.font.size or base for annotation in layout.annotations]
    return sizes


def test_a_short_sentence_map_keeps_every_token_label_at_projector_size():
    figure = common.for_projector(attention_maps.attention_heatmap(uniform(8), tokens(8), "short"))
    assert min(label_sizes(figure)) >= PX
    assert list(figure.layout.xaxis.ticktext) == tokens(8)
    assert "every" not in figure.layout.xaxis.title.text


@pytest.mark.parametrize("n", [40, 120, 512])
def test_a_long_sentence_map_thins_its_labels_so_16_px_ones_do_not_collide(n):
    plain = attention_maps.attention_heatmap(uniform(n), tokens(n), "long")
    figure = common.for_projector(plain)
    cell = min(attention_maps.CELL_PX, attention_maps.MAP_PX / n)  # px per token, as attention_heatmap draws it
    labelled = list(figure.layout.yaxis.tickvals)
    steps = {tokens(n).index(text) - tokens(n).index(previous)
             for previous, text in zip(figure.layout.yaxis.ticktext, list(figure.layout.yaxis.ticktext)[1:])}
    assert min(label_sizes(figure)) >= PX
    assert len(steps) == 1 and steps.pop() * cell >= common.LABEL_ROOM * PX
    assert len(labelled) < n
    step = tokens(n).index(figure.layout.xaxis.ticktext[1])
    assert f"every {common.ordinal(step)} token labelled" in figure.layout.xaxis.title.text


def test_the_grid_of_heads_and_the_overview_get_projector_size_titles(tiny_model):
    captured = capture(tiny_model, "the cat sat on the mat")
    grid = attention_maps.heads_grid(captured.attentions[0], captured.tokens, "all heads")
    overview = attention_maps.head_overview(head_statistics(captured), "overview")
    for figure in (grid, overview):
        assert min(label_sizes(common.for_projector(figure))) >= PX


def test_the_projector_copy_leaves_the_figure_it_was_given_as_it_was():
    figure = attention_maps.attention_heatmap(uniform(40), tokens(40), "long")
    before = figure.to_dict()
    common.for_projector(figure)
    assert figure.to_dict()["layout"] == before["layout"]


def test_thinned_labels_are_named_in_plain_english_ordinals():
    assert [common.token_label_note(step).split()[1] for step in (2, 3, 4, 11, 12, 21, 22)] == \
        ["2nd", "3rd", "4th", "11th", "12th", "21st", "22nd"]
