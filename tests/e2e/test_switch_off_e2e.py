"""In a real browser, on the bundled model: a click on the picker switches a head off, and switching off every
head of layer 0 changes the guess for "i love [MASK] ." (checked with the library: "me" becomes "love")."""
from tests.e2e.server import attention_page_with

TIMEOUT_MS = 180_000


def test_switching_heads_off_changes_the_masked_word_guess(page, app_url):
    attention_page_with(page, app_url, "i love [MASK] .", TIMEOUT_MS)
    picker = page.locator("[data-testid='stPlotlyChart']", has_text="Click a head to switch it off")
    picker.wait_for(timeout=TIMEOUT_MS)
    picker.scroll_into_view_if_needed()  # the panel lies below the views; the mouse clicks in the window
    # Where a user clicks: on the marker, through plotly's drag layer that lies over every point.
    marker = picker.locator(".scatterlayer .point").first.bounding_box()  # L0·H0
    page.mouse.click(marker["x"] + marker["width"] / 2, marker["y"] + marker["height"] / 2)
    page.get_by_text("1 head(s) off", exact=False).wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("All heads of one layer").click()
    page.get_by_text("12 head(s) off: the answer changed.", exact=False).wait_for(timeout=TIMEOUT_MS)
    assert "“me”" in page.get_by_text("with all heads on", exact=False).inner_text()
