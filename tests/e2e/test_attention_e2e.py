"""The attention page in a real browser: the heatmap and bertviz render, and nothing leaves 127.0.0.1."""
from urllib.parse import urlparse

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
TIMEOUT_MS = 90_000


def external_requests(urls):
    """Requests that went anywhere but this machine (data: and blob: URLs stay in the page)."""
    return [url for url in urls if urlparse(url).scheme in ("http", "https", "ws", "wss")
            and urlparse(url).hostname not in LOCAL_HOSTS]


def open_attention_page(page, app_url):
    page.goto(f"{app_url}/attention", wait_until="domcontentloaded")
    page.wait_for_selector(".main-svg", timeout=TIMEOUT_MS)


def test_a_deep_link_on_a_fresh_server_gets_the_full_app(page, app_url):
    # The first request to this server: it must run through app.py (sidebar, model picker), not the page alone.
    open_attention_page(page, app_url)
    page.locator("[data-testid='stSidebar']").get_by_role("button", name="Load model").wait_for(timeout=TIMEOUT_MS)


def test_attention_heatmap_renders_with_the_sentence_tokens(page, app_url):
    open_attention_page(page, app_url)
    # The one-head map: the first figure on the page (the switch-off picker below it has head numbers as ticks)
    one_head = page.locator("[data-testid='stPlotlyChart']").first
    one_head.locator(".xtick text").first.wait_for(timeout=TIMEOUT_MS)
    ticks = one_head.locator(".xtick text").all_text_contents()
    assert ticks[:5] == ["[CLS]", "i", "love", "programming", "[SEP]"]


def test_bertviz_head_view_draws_offline(page, app_url):
    open_attention_page(page, app_url)
    page.get_by_role("tab", name="bertviz").click()
    frame = page.frame_locator("[data-testid='stMain'] iframe").first
    # bertviz draws one <text> per token on each side once d3 and jQuery have loaded from the page itself
    frame.locator("svg text").first.wait_for(timeout=TIMEOUT_MS)
    assert frame.locator("svg text").count() >= 2 * 5
    assert external_requests(page.requested_urls) == []


def test_model_picker_reports_an_unreachable_hub_model(page, app_url):
    open_attention_page(page, app_url)
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("Hugging Face hub").click()
    sidebar.get_by_role("button", name="Load model").click()
    sidebar.get_by_text("cannot be reached").wait_for(timeout=TIMEOUT_MS)
    assert page.locator(".main-svg").count() > 0  # the page still shows the model it had


LONG_SENTENCE = ("The quick brown fox jumps over the lazy dog while the teacher explains how attention in a "
                 "transformer spreads weight across every token of a rather long sentence like this one today")


def test_a_long_sentence_map_fits_the_screen_with_its_title_clear_of_the_labels(page, app_url):
    open_attention_page(page, app_url)
    sentence = page.get_by_label("Sentence", exact=True)
    sentence.fill(LONG_SENTENCE)
    sentence.press("Enter")
    chart = page.locator("[data-testid='stPlotlyChart']").first
    chart.locator(".xtick text", has_text="today").wait_for(timeout=TIMEOUT_MS)
    assert chart.bounding_box()["height"] <= page.viewport_size["height"]
    title = chart.locator(".gtitle").bounding_box()
    label_tops = [tick.bounding_box()["y"] for tick in chart.locator(".xtick text").all()]
    assert title["y"] + title["height"] <= min(label_tops)


def test_a_click_on_a_small_map_selects_that_head(page, app_url):
    open_attention_page(page, app_url)
    page.get_by_role("tab", name="All heads of a layer").click()
    grid = page.locator("[data-testid='stPlotlyChart']", has_text="all 12 heads")
    grid.locator(".nsewdrag").nth(2).click()  # the third small map: head 2
    page.get_by_text("head 2 (selected)").wait_for(timeout=TIMEOUT_MS)
    assert page.get_by_test_id("stSliderThumbValue").nth(1).inner_text() == "2"  # the Head slider followed


def test_a_click_on_the_grid_logs_no_warning_on_the_server_console(page, app_url):
    """The server's console (always kept in build/ by running_app) stays free of Streamlit's session-state warning."""
    from pathlib import Path

    log = Path(__file__).resolve().parents[2] / "build" / f"streamlit-{urlparse(app_url).port}.log"
    assert log.exists()
    open_attention_page(page, app_url)
    page.get_by_role("tab", name="All heads of a layer").click()
    grid = page.locator("[data-testid='stPlotlyChart']", has_text="all 12 heads")
    grid.locator(".nsewdrag").nth(3).click()
    page.get_by_text("head 3 (selected)").wait_for(timeout=TIMEOUT_MS)
    assert "Session State API" not in log.read_text()
