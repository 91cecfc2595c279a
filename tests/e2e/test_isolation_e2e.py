"""Two students on the real server, in two browser contexts (two Streamlit sessions) of one Chromium.

What one does -- the sentence, the model, the upload, the training job -- must not reach the other.
"""
import pytest

from server import CHROMIUM_ARGS, chromium_path

TIMEOUT_MS = 120_000
CSV = ("text,label\n" + "".join(f"a good great movie {i},pos\na bad boring movie {i},neg\n" for i in range(12))).encode()
DEFAULT_TICKS = ["[CLS]", "i", "love", "programming", "[SEP]"]
FIRST_TITLE = "document.querySelector('.main-svg .gtitle')?.textContent"


@pytest.fixture
def two_students():
    """Two pages in separate browser contexts: separate cookies, separate websockets, separate sessions."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield [browser.new_context(viewport={"width": 1280, "height": 900}).new_page() for _ in range(2)]
        finally:
            browser.close()


def open_attention(page, app_url):
    page.goto(f"{app_url}/attention", wait_until="domcontentloaded")
    page.wait_for_function(f"{FIRST_TITLE} === 'Layer 0, head 0'", timeout=TIMEOUT_MS)


def move_layer(page, to: int):
    """One step right on the layer slider; returns once the one-head heatmap shows that layer."""
    slider = page.locator("input[type=range][aria-label='Layer']")
    slider.focus()
    slider.press("ArrowRight")
    page.wait_for_function(f"{FIRST_TITLE} === 'Layer {to}, head 0'", timeout=TIMEOUT_MS)


def first_heatmap_ticks(page) -> list[str]:
    return page.locator(".main-svg").first.locator(".xtick text").all_text_contents()


def go_to(page, link: str, marker: str):
    page.locator("[data-testid='stSidebar'] a[data-testid='stPageLink-NavLink']", has_text=link).click()
    page.get_by_text(marker).first.wait_for(timeout=TIMEOUT_MS)


def test_sentence_model_upload_and_job_stay_with_their_student(two_students, app_url):
    first, second = two_students
    open_attention(first, app_url)
    open_attention(second, app_url)

    sentence = first.get_by_label("Sentence", exact=True)
    sentence.fill("the zebra sat by the river")
    sentence.press("Enter")
    first.wait_for_function("[...document.querySelectorAll('.main-svg .xtick text')]"
                            ".some(tick => tick.textContent === 'zebra')", timeout=TIMEOUT_MS)
    first_sidebar = first.locator("[data-testid='stSidebar']")
    first_sidebar.get_by_text("Random tiny ALBERT (untrained)").click()
    first_sidebar.get_by_role("button", name="Load model").click()
    first_sidebar.get_by_text("noise, not language").wait_for(timeout=TIMEOUT_MS)

    move_layer(second, 1)  # a rerun of the second session, after everything the first one did
    assert first_heatmap_ticks(second) == DEFAULT_TICKS
    assert second.get_by_label("Sentence", exact=True).input_value() == "I love programming"
    second_sidebar = second.locator("[data-testid='stSidebar']")
    assert second_sidebar.get_by_text("ALBERT-tiny (bundled)").count() > 0
    assert second_sidebar.get_by_text("noise, not language").count() == 0

    go_to(first, "Fine-tuning", "Teach the model a new task")
    first.locator("input[type=file]").set_input_files(
        files=[{"name": "reviews.csv", "mimeType": "text/csv", "buffer": CSV}])
    first.get_by_text("Rows per label").wait_for(timeout=TIMEOUT_MS)
    first.get_by_text("More settings").click()
    steps = first.get_by_label("Stop after steps (0 = all epochs)")
    steps.fill("3")
    steps.press("Enter")
    first.get_by_role("button", name="Start fine-tuning").click()

    go_to(second, "Fine-tuning", "Upload a CSV, or pick one of the samples above.")
    assert second.get_by_text("reviews.csv").count() == 0  # the uploader lists the first student's file only
    first.get_by_text("Confusion matrix (validation rows)").wait_for(timeout=2 * TIMEOUT_MS)  # a busy 2-core CPU

    second.get_by_text("Classroom: 36 short sentences").click()  # a rerun of the second session
    second.get_by_text("Rows per label").wait_for(timeout=TIMEOUT_MS)
    assert second.get_by_text("Confusion matrix (validation rows)").count() == 0
    assert second.get_by_role("button", name="Cancel training").count() == 0
    assert second.get_by_role("button", name="Start fine-tuning").is_enabled()
    assert second.locator("[data-testid='stException']").count() == 0
    assert first.locator("[data-testid='stException']").count() == 0
