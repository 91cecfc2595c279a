"""Text as hostile input in a real browser: HTML, script and Markdown/LaTeX typed as a sentence, a masked word
or a folder fire no dialog, insert no element (in the page or bertviz's iframe) and show as typed."""
import pytest
from test_attention_e2e import TIMEOUT_MS

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "**bold** $x^2$ [link](http://example.com)"]
FIRST_TOKEN = {HOSTILE[0]: "<", HOSTILE[1]: "<", HOSTILE[2]: "*"}  # how the bundled tokenizer starts each
INSERTED = """() => document.querySelectorAll("img[src='x'], a[href*='example.com']").length
    + [...document.scripts].filter(script => script.textContent.includes('alert(1)')).length"""
WATCH_RUNS = """() => { window.__ran = false; const app = document.querySelector("[data-testid='stApp']");
    new MutationObserver(() => { if (app.getAttribute('data-test-script-state') === 'running') window.__ran = true; })
        .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }"""
# A message shows `text` as typed: its visible characters (the invisible word joiner that stops Streamlit from
# turning a bare address into a link aside) contain the text.
SHOWN_IN_A_MESSAGE = """text => [...document.querySelectorAll("[data-testid='stAlert']")]
    .some(alert => alert.innerText.replaceAll('\\u2060', '').includes(text))"""
# plotly draws after the run has finished: wait for a tick or legend whose last word is the first token
TOKEN_DRAWN = """token => [...document.querySelectorAll('.main-svg text')]
    .some(label => label.textContent.split(' ').pop() === token)"""
RUN_FINISHED = """() => window.__ran && document.querySelector("[data-testid='stApp']")
    .getAttribute('data-test-script-state') === 'notRunning'"""


@pytest.fixture
def dialogs(page):
    """Every alert/confirm/prompt the page opens (each is dismissed); a script that ran would land here."""
    opened = []

    def dismiss(dialog):
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return opened


def open_page(page, app_url, path):
    page.goto(f"{app_url}/{path}", wait_until="domcontentloaded")
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning'] h1").first.wait_for(timeout=TIMEOUT_MS)


def submit(page, field, text):
    """Type `text` into a text input, press Enter and wait until the rerun it starts has finished."""
    page.evaluate(WATCH_RUNS)
    field.fill(text)
    field.press("Enter")
    page.wait_for_function(RUN_FINISHED, timeout=TIMEOUT_MS)


def assert_inert(page, dialogs):
    assert dialogs == []
    assert [frame.evaluate(INSERTED) for frame in page.frames] == [0] * len(page.frames)
    assert page.locator("[data-testid='stException']").count() == 0


def sentence_field(page):
    return page.get_by_role("textbox", name="Sentence", exact=True)


@pytest.mark.parametrize("path", ["attention", "layer_norm"])
def test_a_hostile_sentence_is_drawn_as_tokens_and_runs_nothing(page, app_url, dialogs, path):
    open_page(page, app_url, path)
    for text in HOSTILE:
        submit(page, sentence_field(page), text)
        page.wait_for_function(TOKEN_DRAWN, arg=FIRST_TOKEN[text], timeout=TIMEOUT_MS)  # the character itself
        assert_inert(page, dialogs)


def test_a_hostile_sentence_in_bertviz_runs_nothing(page, app_url, dialogs):
    open_page(page, app_url, "attention")
    page.get_by_role("tab", name="bertviz").click()
    for text in HOSTILE:
        submit(page, sentence_field(page), text)
        page.frame_locator("[data-testid='stMain'] iframe").first.locator("svg text").first.wait_for(timeout=TIMEOUT_MS)
        assert_inert(page, dialogs)


def test_a_hostile_sentence_on_the_anatomy_page_runs_nothing(page, app_url, dialogs):
    open_page(page, app_url, "anatomy")
    for text in HOSTILE:
        submit(page, sentence_field(page), text)
        assert_inert(page, dialogs)


def test_a_hostile_sentence_in_the_worked_examples_runs_nothing(page, app_url, dialogs):
    open_page(page, app_url, "worked_examples")
    page.get_by_text("In the real model").click(timeout=TIMEOUT_MS)
    sentence_field(page).wait_for(timeout=TIMEOUT_MS)
    for text in HOSTILE:
        submit(page, sentence_field(page), text)
        assert_inert(page, dialogs)


def test_a_hostile_masked_word_is_quoted_literally(page, app_url, dialogs):
    open_page(page, app_url, "worked_examples")
    page.get_by_text("Pretraining tasks").click(timeout=TIMEOUT_MS)
    word = page.get_by_role("textbox", name="Word to mask")
    word.wait_for(timeout=TIMEOUT_MS)
    for text in HOSTILE:
        submit(page, word, text)
        page.wait_for_function(SHOWN_IN_A_MESSAGE, arg=text, timeout=TIMEOUT_MS)
        assert_inert(page, dialogs)


def test_a_hostile_folder_name_is_quoted_literally_in_the_error(page, app_url, dialogs):
    open_page(page, app_url, "attention")
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("Local folder").click(timeout=TIMEOUT_MS)
    folder = sidebar.get_by_role("textbox", name="Folder")
    folder.wait_for(timeout=TIMEOUT_MS)
    for text in HOSTILE:
        submit(page, folder, text)
        page.evaluate(WATCH_RUNS)
        sidebar.get_by_role("button", name="Load model").click()
        page.wait_for_function(RUN_FINISHED, timeout=TIMEOUT_MS)
        shown = text.replace("//", "/")  # the message names the path as the system spells it
        page.wait_for_function(SHOWN_IN_A_MESSAGE, arg=shown, timeout=TIMEOUT_MS)
        assert_inert(page, dialogs)
