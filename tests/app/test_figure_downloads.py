"""Figure downloads: one PNG / SVG choice in the sidebar that every chart's camera button follows, and the numbers."""
import json

ATTENTION, ANATOMY, LAYER_NORM = "pages/attention.py", "pages/anatomy.py", "pages/layer_norm.py"


def camera_formats(at) -> list[str]:
    return [json.loads(chart.proto.config)["toImageButtonOptions"]["format"] for chart in at.get("plotly_chart")]


def test_every_figure_saves_a_png_until_the_sidebar_says_svg_and_the_choice_follows_to_other_pages(open_page,
                                                                                                    tiny_spec):
    at = open_page(None, tiny_spec)
    assert at.sidebar.segmented_control(key="figure_format").value == "png"
    at.switch_page(ATTENTION).run()
    assert camera_formats(at) and set(camera_formats(at)) == {"png"}
    at = open_page(None, tiny_spec)
    at.sidebar.segmented_control(key="figure_format").set_value("svg").run()
    for page in (ATTENTION, LAYER_NORM):
        at.switch_page(page).run()
        assert camera_formats(at) and set(camera_formats(at)) == {"svg"}


def test_every_figure_on_the_anatomy_page_has_a_named_camera_file_and_a_csv_of_its_numbers(open_page, tiny_spec):
    at = open_page(ANATOMY, tiny_spec)
    names = [json.loads(chart.proto.config)["toImageButtonOptions"]["filename"] for chart in at.get("plotly_chart")]
    assert len(names) == len(set(names)) and all(name.startswith("anatomy_") for name in names)
    csv_buttons = [button for button in at.get("download_button") if "CSV" in button.proto.label]
    assert len(csv_buttons) == len(names)


def test_the_one_head_view_can_be_saved_as_one_html_file(open_page, tiny_spec):
    at = open_page(ATTENTION, tiny_spec)
    labels = [button.proto.label for button in at.get("download_button")]
    assert any("HTML" in label for label in labels)
