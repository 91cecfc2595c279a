"""Every page renders in a real browser without asking anything of the internet (classrooms are offline)."""
import pytest
from test_attention_e2e import TIMEOUT_MS, external_requests

PAGES = {"": "Inside ALBERT", "attention": "Attention", "layer_norm": "Layer norm", "anatomy": "Anatomy",
         "worked_examples": "Worked examples", "finetune": "Fine-tuning"}


@pytest.mark.parametrize("path", list(PAGES))
def test_page_renders_and_stays_on_this_machine(page, app_url, path):
    page.goto(f"{app_url}/{path}", wait_until="domcontentloaded")
    page.get_by_role("heading", name=PAGES[path], exact=False).first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid='stException']").count() == 0
    assert external_requests(page.requested_urls) == []
