"""At 1280x720, a common projector: the projector layout puts the figure on the first screen, labels large enough
for the back of the room; the copy-link note is not clipped; the machine has fonts for the article's Chinese."""
import shutil
import subprocess

import pytest

from albert_viz.teaching import lessons
from server import chromium_page

PROJECTOR = (1280, 720)
TIMEOUT_MS = 120_000
# "On the first screen": at least a third of the screen below the figure's top edge shows the figure.
LOWEST_TOP = PROJECTOR[1] * 2 / 3
STEP_VIEW = (".st-key-present_view :is([data-testid='stPlotlyChart'] .main-svg, [data-testid='stDataFrame'], "
             "[data-testid='stRadio'], .katex, [data-testid='stPageLink'])")  # stRadio: a question's choices


@pytest.fixture
def projector_page():
    with chromium_page(*PROJECTOR) as page:
        yield page


def sidebar_width(page) -> float:
    """How much of the screen the sidebar takes (0 when folded away)."""
    box = page.locator("[data-testid='stSidebar']").bounding_box()
    return 0.0 if box is None else max(0.0, box["x"] + box["width"])


def test_the_attention_map_starts_on_the_first_screen_with_large_labels(projector_page, app_url):
    page = projector_page
    page.goto(f"{app_url}/attention?projector=true", wait_until="domcontentloaded")
    chart = page.locator("[data-testid='stPlotlyChart']").first
    chart.locator(".main-svg").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)  # the sidebar's folding animation
    assert sidebar_width(page) < 50
    assert chart.bounding_box()["y"] <= LOWEST_TOP
    sizes = chart.locator(".xtick text, .ytick text").evaluate_all(
        "labels => labels.map(label => parseFloat(getComputedStyle(label).fontSize))")
    assert sizes and min(sizes) >= 16


def test_without_the_projector_layout_the_sidebar_stays(projector_page, app_url):
    projector_page.goto(f"{app_url}/attention", wait_until="domcontentloaded")
    projector_page.locator(".main-svg").first.wait_for(timeout=TIMEOUT_MS)
    assert sidebar_width(projector_page) > 200


def test_every_lesson_step_shows_its_figure_on_the_first_screen(projector_page, app_url):
    page = projector_page
    available, _ = lessons.available_lessons()
    low = []
    for lesson in available:
        for number, step in enumerate(lesson.steps, 1):
            # a lesson opens in the projector layout by default: the link does not ask for it
            page.goto(f"{app_url}/present?lesson={lesson.name}&step={number}", wait_until="domcontentloaded")
            page.get_by_text(f"Step {number} of {len(lesson.steps)}").wait_for(timeout=TIMEOUT_MS)
            if step.view == "text":
                continue
            view = page.locator(STEP_VIEW).first
            view.wait_for(timeout=TIMEOUT_MS)
            top = view.bounding_box()["y"]
            if top > LOWEST_TOP:
                low.append(f"{lesson.name} step {number} ({step.view}): figure starts at {top:.0f} px")
    assert sidebar_width(page) < 50
    assert low == []


def test_the_copy_link_note_fits_under_its_button(projector_page, app_url):
    page = projector_page
    page.goto(f"{app_url}/attention", wait_until="domcontentloaded")
    page.locator(".main-svg").first.wait_for(timeout=TIMEOUT_MS)
    frame = page.frame_locator("[data-testid='stSidebar'] iframe").first
    frame.get_by_role("button", name="Copy a link to this view").click()
    note = frame.get_by_role("status")
    note.get_by_text("anyone opening it sees this view").wait_for(timeout=TIMEOUT_MS)
    text_bottom = note.evaluate("note => { const r = document.createRange(); r.selectNodeContents(note); "
                                "return r.getBoundingClientRect().bottom; }")
    assert text_bottom <= note.evaluate("() => window.innerHeight")


def test_the_browser_machine_has_fonts_for_chinese_and_emoji():
    if shutil.which("fc-list") is None:
        pytest.skip("no fontconfig here: Chromium finds fonts another way")
    chinese = subprocess.run(["fc-list", ":charset=6ce8", "family"], capture_output=True, text=True).stdout  # 注
    emoji = subprocess.run(["fc-list", ":charset=2705", "family"], capture_output=True, text=True).stdout  # ✅
    assert chinese.strip() and emoji.strip(), "run scripts/ensure_chromium.sh (installs fonts-noto-cjk and emoji)"
