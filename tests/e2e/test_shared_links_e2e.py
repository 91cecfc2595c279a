"""Shared links and presenter mode in a real browser: a copied address opens the same view in a new browser."""
from __future__ import annotations

from tests.e2e.server import attention_page_with

TIMEOUT_MS = 120_000


def slider_value(page, label: str) -> str:
    return page.locator(f"input[type=range][aria-label='{label}']").input_value()


def test_a_link_opens_the_same_sentence_layer_and_tab_in_a_fresh_browser(page, app_url):
    attention_page_with(page, app_url, "the cat sat on the mat", TIMEOUT_MS)
    page.wait_for_function("() => location.search.includes('text=')", timeout=TIMEOUT_MS)
    page.get_by_role("tab", name="Layers × heads").click()
    page.wait_for_function("() => location.search.includes('attention_tab=')", timeout=TIMEOUT_MS)
    slider = page.locator("input[type=range][aria-label='Layer']")
    slider.focus()
    slider.press("ArrowRight")
    slider.press("ArrowRight")
    page.wait_for_function("() => location.search.includes('layer=2')", timeout=TIMEOUT_MS)
    shared = page.url

    fresh = page.context.browser.new_context().new_page()  # nothing shared with the first browser but the link
    fresh.goto(shared, wait_until="domcontentloaded")
    fresh.wait_for_selector(".main-svg", timeout=TIMEOUT_MS)
    assert fresh.get_by_label("Sentence", exact=True).input_value() == "the cat sat on the mat"
    assert fresh.get_by_role("tab", selected=True).inner_text() == "Layers × heads"
    assert slider_value(fresh, "Layer") == "2"


def test_presenter_arrow_keys_move_the_step_in_the_url(page, app_url):
    page.goto(f"{app_url}/present?lesson=self_attention&step=2", wait_until="domcontentloaded")
    page.get_by_role("button", name="Next").wait_for(timeout=TIMEOUT_MS)
    main_heading(page).click()  # the keys go to the page, not to the address bar or a widget
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => location.search.includes('step=3')", timeout=TIMEOUT_MS)
    for step in (2, 1):  # one key at a time: each press reruns the page
        main_heading(page).click()
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(f"() => location.search.includes('step={step}')", timeout=TIMEOUT_MS)


def main_heading(page):
    """The first heading of the page itself (the projector layout folds the sidebar, and its headings, away)."""
    return page.locator("[data-testid='stMain']").get_by_role("heading").first
