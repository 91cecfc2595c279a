"""Exports in a real browser with the network cut off: PNG and SVG from plotly's camera button, the CSV of the
numbers, and the attention view as one HTML file that draws its heatmap with no network at all."""
from urllib.parse import urlparse

import pytest
from test_attention_e2e import TIMEOUT_MS, open_attention_page

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# plotly's camera button is titled "Download plot as a PNG" when it makes a PNG and "Download plot" otherwise
CAMERA = ".modebar-btn[data-title^='Download plot']"


@pytest.fixture
def offline_page(page):
    """The page with every request that is not to the loopback server aborted; page.blocked lists them."""
    page.blocked = []

    def only_loopback(route):
        url = urlparse(route.request.url)
        if url.scheme in ("http", "https") and url.hostname != "127.0.0.1":
            page.blocked.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.context.route("**/*", only_loopback)
    return page


def camera_download(page, chart) -> tuple[str, bytes]:
    """The file name and bytes that the chart's camera button saves."""
    chart.hover()  # the modebar shows on hover
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        chart.locator(CAMERA).click()
    return download.value.suggested_filename, _read(download.value)


def button_download(page, label: str):
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        page.get_by_role("button", name=label).first.click()
    return download.value


def _read(download) -> bytes:
    with open(download.path(), "rb") as saved:
        return saved.read()


def test_the_attention_view_exports_png_svg_csv_and_an_html_file_that_draws_offline(offline_page, app_url,
                                                                                     tmp_path):
    page = offline_page
    open_attention_page(page, app_url)
    chart = page.locator("[data-testid='stPlotlyChart']").first

    name, png = camera_download(page, chart)
    assert name == "attention_layer0_head0.png" and png.startswith(PNG_MAGIC)
    drawn_px = chart.locator(".main-svg").first.bounding_box()["width"]
    assert int.from_bytes(png[16:20], "big") >= 1.9 * drawn_px  # IHDR width: scale 2, for a projector

    page.locator("[data-testid='stSidebar']").get_by_role("radio", name="SVG").click()
    chart.locator(".modebar-btn[data-title='Download plot']").wait_for(state="attached", timeout=TIMEOUT_MS)
    name, svg = camera_download(page, chart)
    assert name == "attention_layer0_head0.svg" and b"<svg" in svg[:400]

    csv = button_download(page, "Download the numbers (CSV)")
    assert csv.suggested_filename.endswith(".csv")
    assert _read(csv).decode().splitlines()[0].startswith("query \\ key,[CLS],i,love")

    saved = button_download(page, "Save this view as one HTML file")
    html = _read(saved).decode()
    assert saved.suggested_filename.endswith(".html") and "<html" in html and "I love programming" in html
    assert len(html) > 1_000_000  # plotly.js is inside
    assert page.blocked == []

    path = tmp_path / "view.html"
    path.write_text(html, encoding="utf-8")
    _heatmap_draws_with_no_network(page.context.browser, path)


def _heatmap_draws_with_no_network(browser, path) -> None:
    """Open the saved file in a fresh context where every request but the file itself fails."""
    context = browser.new_context()
    asked = []

    def file_only(route):
        if not route.request.url.startswith("file://"):
            asked.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    try:
        context.route("**/*", file_only)
        offline = context.new_page()
        offline.goto(path.as_uri())
        offline.locator(".heatmaplayer image").wait_for(state="attached", timeout=TIMEOUT_MS)
        assert "love" in offline.locator(".xtick text").all_text_contents()
        assert asked == []
    finally:
        context.close()


def test_a_figure_on_another_page_downloads_as_png_offline(offline_page, app_url):
    page = offline_page
    page.goto(f"{app_url}/anatomy", wait_until="domcontentloaded")
    chart = page.locator("[data-testid='stPlotlyChart']").first
    chart.locator(".main-svg").first.wait_for(timeout=TIMEOUT_MS)
    name, png = camera_download(page, chart)
    assert name == "anatomy_parameter_stack.png" and png.startswith(PNG_MAGIC)
    assert page.blocked == []
