"""Labels a class can read: token labels large and dark, PCA labels apart or on hover, nothing cut off, honest axes."""
import plotly.colors

from albert_viz.analysis.layers import project_layers
from albert_viz.analysis.layernorm import outlier_dimensions
from albert_viz.analysis import anatomy
from albert_viz.figures import anatomy_charts, attention_maps, explain_charts, layernorm_charts
from albert_viz.model.capture import capture

SENTENCE = "The animal didn't cross the street because it was too tired."


def luminance(colour: str) -> float:
    red, green, blue = plotly.colors.hex_to_rgb(colour) if colour.startswith("#") else plotly.colors.unlabel_rgb(colour)
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def test_the_token_labels_of_a_sentence_map_are_at_least_14_px_and_near_black(tiny_model):
    """At 16 tokens the "'" token was a 12 px grey mark; it must read like every other label."""
    result = capture(tiny_model, SENTENCE)
    axis = attention_maps.attention_heatmap(result.attentions[0, 0], result.tokens, "t").layout.xaxis
    assert "'" in axis.ticktext and axis.tickfont.size >= 14 and luminance(axis.tickfont.color) < 0.15


def test_pca_labels_of_neighbouring_tokens_go_to_different_sides(tiny_model):
    result = capture(tiny_model, SENTENCE)
    positions = explain_charts.layer_scatter(project_layers(result), 1).data[0].textposition
    assert isinstance(positions, (list, tuple)) and len(positions) == result.num_tokens
    assert all(first != second for first, second in zip(positions, positions[1:]))


def test_pca_labels_switched_off_leave_the_points_with_their_token_on_hover(tiny_model):
    result = capture(tiny_model, SENTENCE)
    trace = explain_charts.layer_scatter(project_layers(result), 1, labelled=False).data[0]
    assert trace.mode == "markers" and trace.customdata[4] == "4 '"


def test_every_outlier_dimension_label_sits_inside_its_panel(tiny_model):
    result = capture(tiny_model, SENTENCE)
    found = outlier_dimensions(result, k=5)
    application = result.layernorms[1]
    figure = layernorm_charts.outlier_profile(application.inputs, application.outputs, found.dims, "t")
    labels = [trace for trace in figure.data if trace.type == "scatter"]
    for trace in labels:
        axis = figure.layout["yaxis" if trace.yaxis == "y" else f"yaxis{trace.yaxis[1:]}"]
        assert max(trace.y) * 1.15 <= axis.range[1]  # room for the text above the tallest bar


def test_the_sharing_charts_attention_axis_speaks_of_attention_rows_not_shared_weights(tiny_model):
    figure = anatomy_charts.layer_change(anatomy.sharing(tiny_model, capture(tiny_model, SENTENCE)))
    axis = figure.layout.yaxis2
    assert "shared" not in axis.title.text and "weights" not in axis.title.text
    assert tuple(axis.range) == (0, 1) and len(axis.title.text) <= 32  # fits beside a 380 px panel
