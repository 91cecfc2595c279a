"""Take the README's screenshot: the real app served locally, the attention page in headless Chromium.

    .venv/bin/python scripts/screenshot.py [--out assets/screenshots/attention.png]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from server import chromium_page, running_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "assets" / "screenshots" / "attention.png"))
    parser.add_argument("--tab", default="Layers × heads", help="which attention tab to show")
    parser.add_argument("--sentence", default="The animal didn't cross the street because it was too tired.")
    args = parser.parse_args()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with running_app() as url, chromium_page(width=1440, height=900) as page:
        page.goto(f"{url}/attention", wait_until="domcontentloaded")
        page.wait_for_selector(".main-svg", timeout=120_000)
        sentence = page.get_by_label("Sentence", exact=True)
        sentence.fill(args.sentence)
        sentence.press("Enter")
        page.wait_for_timeout(3000)  # the rerun with the new sentence
        page.wait_for_selector(".main-svg", timeout=120_000)
        page.get_by_role("tab", name=args.tab).click()
        page.wait_for_timeout(1500)  # let plotly finish its transition before the picture
        page.screenshot(path=args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
