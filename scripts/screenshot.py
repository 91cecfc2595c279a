"""Take the README's screenshot: the real app served locally, the attention page in headless Chromium.

    .venv/bin/python scripts/screenshot.py [--out assets/screenshots/attention.png]
    .venv/bin/python scripts/screenshot.py --page "present?lesson=finetuning&step=7" --size 1280x720 --out /tmp/s.png

With --page, any page of the app (its address after the server's root, query included) is opened as it is and
photographed once its first figure (or, for a page without one, its title) has drawn; the attention page's own
steps (--tab, --sentence) apply only to the default page.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from server import attention_page_with, chromium_page, running_app  # noqa: E402

TIMEOUT_MS = 120_000


def size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720)."""
    width, _, height = text.lower().partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a size is WIDTHxHEIGHT in pixels, e.g. 1280x720, not {text!r}")


def attention_view(page, url: str, sentence: str, tab: str) -> None:
    """The README's picture: the attention page on a sentence, one tab open."""
    attention_page_with(page, url, sentence, TIMEOUT_MS)
    page.wait_for_timeout(3000)  # the rerun with the new sentence
    page.wait_for_selector(".main-svg", timeout=TIMEOUT_MS)
    page.get_by_role("tab", name=tab).click()


def any_page(page, url: str, address: str) -> None:
    page.goto(f"{url}/{address.lstrip('/')}", wait_until="domcontentloaded")
    page.wait_for_selector("h1, h2", timeout=TIMEOUT_MS)
    page.wait_for_timeout(3000)  # figures arrive after the title
    if page.locator(".main-svg").count():
        page.wait_for_selector(".main-svg", timeout=TIMEOUT_MS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "assets" / "screenshots" / "attention.png"))
    parser.add_argument("--page", default="", help="a page's address after the server's root, e.g. "
                        "'finetune?job=ID' (default: the attention page, as in the README)")
    parser.add_argument("--size", type=size, default=(1440, 900), help="window size, WIDTHxHEIGHT (default 1440x900)")
    parser.add_argument("--full-page", action="store_true", help="the whole page, not only the first screen")
    parser.add_argument("--tab", default="Layers × heads", help="which attention tab to show")
    parser.add_argument("--sentence", default="The animal didn't cross the street because it was too tired.")
    args = parser.parse_args()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with running_app() as url, chromium_page(*args.size) as page:
        if args.page:
            any_page(page, url, args.page)
        else:
            attention_view(page, url, args.sentence, args.tab)
        page.wait_for_timeout(1500)  # let plotly finish its transition before the picture
        page.screenshot(path=args.out, full_page=args.full_page)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
