"""A freshly started server: the first thing in the sidebar is the app's own navigation, never raw file names."""
from server import REPO, running_app

SCREENSHOT = REPO / "build" / "cold-start.png"

TIMEOUT_MS = 120_000
PAGE_TITLES = ["Home", "Attention", "Layer norm", "Anatomy", "Worked examples", "Fine-tuning", "Explain & compare",
               "Lessons"]
# Record every version of the sidebar navigation the browser ever shows, from the first paint on.
RECORD_NAVIGATION = r"""
window.__navSeen = [];
new MutationObserver(() => {
  // a link's text starts with its icon's name ("home"), then the label
  const sidebar = document.querySelector("[data-testid='stSidebar']");
  const links = sidebar ? [...sidebar.querySelectorAll("a")].map((link) => link.innerText.trim().split("\n").pop()) : [];
  if (links.length) window.__navSeen.push(links);
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def test_a_fresh_server_shows_the_real_navigation_from_the_first_paint(page):
    page.add_init_script(RECORD_NAVIGATION)
    with running_app() as url:
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("heading", name="Inside ALBERT").wait_for(timeout=TIMEOUT_MS)
        if SCREENSHOT.parent.is_dir():
            page.screenshot(path=str(SCREENSHOT))
        seen = page.evaluate("window.__navSeen")
    assert seen, "the sidebar navigation never appeared"
    assert all(links == PAGE_TITLES[:len(links)] for links in seen), seen  # only real titles, in order
