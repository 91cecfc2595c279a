"""In a real browser: the "what each layer knows" view follows its layer slider, and a probing run draws its chart."""
import re

TIMEOUT_MS = 180_000
LAST_LAYER_TITLE = "Token states: after layer"
EMBEDDINGS_TITLE = "Token states: embeddings"


def open_layers_view(page, app_url):
    page.goto(f"{app_url}/explain", wait_until="domcontentloaded")
    page.get_by_text("What each layer knows").first.click(timeout=TIMEOUT_MS)
    page.locator(".main-svg .gtitle", has_text=LAST_LAYER_TITLE).first.wait_for(timeout=TIMEOUT_MS)


def drawn_state(page) -> tuple[list[str], str]:
    """Where the scatter's tokens are drawn, and the cosine heatmap's image (plotly paints it as one PNG)."""
    points = page.locator(".main-svg .scatterlayer .point").evaluate_all(
        "nodes => nodes.map(node => node.getAttribute('transform'))")
    heatmap = page.locator(".main-svg .heatmaplayer image").first.get_attribute("href")
    return points, heatmap


def test_moving_the_layer_slider_moves_the_tokens_and_redraws_the_cosine_map(page, app_url):
    open_layers_view(page, app_url)
    page.locator(".main-svg .gtitle", has_text="Cosine similarity of the tokens, after layer").first.wait_for(
        timeout=TIMEOUT_MS)
    last_points, last_cosine = drawn_state(page)
    slider = page.locator("input[type=range][aria-label='Layer']")
    slider.focus()
    slider.press("Home")  # down to the embeddings, before layer 0
    page.locator(".main-svg .gtitle", has_text=EMBEDDINGS_TITLE).first.wait_for(timeout=TIMEOUT_MS)
    page.locator(".main-svg .gtitle", has_text="Cosine similarity of the tokens, embeddings").first.wait_for(
        timeout=TIMEOUT_MS)
    first_points, first_cosine = drawn_state(page)
    assert len(first_points) == len(last_points) > 0
    assert first_points != last_points and first_cosine != last_cosine


def test_probing_the_classroom_sample_draws_accuracy_by_layer_and_reads_it(page, app_url):
    open_layers_view(page, app_url)
    page.get_by_text("Classroom: 36 short sentences", exact=False).first.click(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Probe every layer").click(timeout=TIMEOUT_MS)
    page.locator(".main-svg .gtitle", has_text="Where does the label become readable?").first.wait_for(
        timeout=TIMEOUT_MS)
    assert page.locator(".main-svg .legendtext", has_text="[CLS] state").count() == 1
    # the sentence reading the chart, which starts with the label (one model), not with "Model:"
    page.get_by_text(re.compile(r"^(The label becomes readable|No layer reads the label)")).first.wait_for(
        timeout=TIMEOUT_MS)
