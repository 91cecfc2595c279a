"""In a real browser: switching the attention mode redraws the heatmap; the side-by-side view draws a difference."""
TIMEOUT_MS = 180_000


def test_switching_to_norm_weighted_attention_redraws_the_heatmap(page, app_url):
    page.goto(f"{app_url}/attention", wait_until="domcontentloaded")
    page.wait_for_selector(".main-svg", timeout=TIMEOUT_MS)
    page.get_by_text("Norm-weighted ‖α·f(x)‖", exact=True).click()
    page.locator(".main-svg .gtitle", has_text="norm-weighted").first.wait_for(timeout=TIMEOUT_MS)


def test_the_side_by_side_view_draws_a_minimal_pair_and_its_difference(page, app_url):
    page.goto(f"{app_url}/explain", wait_until="domcontentloaded")
    page.get_by_text("Side by side").first.click(timeout=TIMEOUT_MS)
    page.locator(".main-svg .gtitle", has_text="Second minus first").first.wait_for(timeout=TIMEOUT_MS)
    assert page.locator(".main-svg .xtick text", has_text="big / small").count() >= 1
