"""The anatomy tables fit the page at the classroom's 1440 px: no column cut off or hidden behind a sideways scroll."""
from test_attention_e2e import TIMEOUT_MS

SCROLL_WIDTHS = "els => els.filter(e => e.offsetParent !== null).map(e => [e.scrollWidth, e.clientWidth])"


def visible_table_widths(page) -> list[list[int]]:
    """[content width, visible width] of every table on screen (Streamlit's grid scrolls inside .dvn-scroller)."""
    page.wait_for_timeout(1500)  # the grid sizes its columns after it is attached
    return page.eval_on_selector_all("[data-testid='stDataFrame'] .dvn-scroller", SCROLL_WIDTHS)


def test_anatomy_parameter_and_sop_tables_fit_at_1440_px(page, app_url):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{app_url}/anatomy", wait_until="domcontentloaded")
    page.locator(".main-svg").first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("tab", name="Parameters").click()
    widths = visible_table_widths(page)
    assert widths and all(content <= visible + 1 for content, visible in widths), widths
    page.get_by_role("tab", name="SOP vs NSP").click()
    sop = page.locator("[data-testid='stTable']").filter(has_text="swapped").first
    sop.wait_for(timeout=TIMEOUT_MS)
    sizes = sop.evaluate("e => [e.scrollWidth, e.clientWidth, e.scrollHeight, e.clientHeight]")
    assert sizes[0] <= sizes[1] + 1 and sizes[2] <= sizes[3] + 1, sizes  # whole: no sideways or inner scroll
