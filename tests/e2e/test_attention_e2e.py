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
    ticks = page.locator(".main-svg .xtick text").all_text_contents()
    assert ticks[:5] == ["[CLS]", "i", "love", "programming", "[SEP]"]


def test_bertviz_head_view_draws_offline(page, app_url):
    open_attention_page(page, app_url)
    page.get_by_role("tab", name="bertviz").click()
    frame = page.frame_locator("iframe").first
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
