"""The projector layout in AppTest: the same page, fewer lines above the map, labels large enough for a room."""
from __future__ import annotations

from albert_viz.figures.common import PROJECTOR_LABEL_PX
from tests.app.conftest import run_page

PAGE = "pages/attention.py"


def attention_page(projector: bool, spec):
    at = run_page(None, spec)
    at.session_state["projector"] = projector
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def test_the_projector_layout_draws_the_attention_map_with_16_px_labels(plotly_chart, tiny_spec):
    layout = plotly_chart(attention_page(True, tiny_spec))["layout"]
    assert layout["xaxis"]["tickfont"]["size"] >= PROJECTOR_LABEL_PX
    assert layout["yaxis"]["tickfont"]["size"] >= PROJECTOR_LABEL_PX


def test_the_projector_layout_moves_reference_text_out_of_the_way_of_the_map(tiny_spec):
    normal, projector = attention_page(False, tiny_spec), attention_page(True, tiny_spec)
    assert any("Texts are read up to" in caption.value for caption in normal.caption)
    assert not any("Texts are read up to" in caption.value for caption in projector.caption)
    assert "What does each view measure?" in [expander.label for expander in normal.expander]
    assert "What does each view measure?" not in [expander.label for expander in projector.expander]
    assert "Norm-weighted" in projector.radio(key="attention_mode").help
