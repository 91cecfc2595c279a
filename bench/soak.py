"""Soak: one Chromium session changes sentence, layer, head and page 300 times; does the server's memory settle?

The app is served by `streamlit run` on 127.0.0.1 (tests/e2e/server.py). One student cycles through
five changes -- a new sentence of their own, the layer slider, the head slider, the layer-norm page,
back to the attention page -- waiting for each to be drawn. The server's resident memory (its
process and any children, from psutil) is read after a warm-up of --warm-up changes, every 50
changes, at the end, and after the session has closed. Bounded by --budget-s; a change that does
not finish in time ends the run early (and says so).

Last line: ratio=<RSS at the end> / <RSS after warm-up> (goal <= 1.10).

    .venv/bin/python bench/soak.py [--changes 300] [--warm-up 30] [--budget-s 900]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from classroom import (  # noqa: E402
    CHROMIUM_ARGS, HEATMAP_HAS_TOKENS, HEATMAP_TITLED, WORDS, PhaseOver, chromium_path, running_app, timed_wait, visit,
)

from playwright.async_api import Error as PlaywrightError  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

LAYERS, HEADS = 6, 12  # the bundled ALBERT-tiny
MB = 1024 * 1024


def server_rss_mb() -> float:
    """Resident memory of the `streamlit run` child of this process, with its own children."""
    servers = [child for child in psutil.Process().children() if "streamlit" in " ".join(child.cmdline())]
    if len(servers) != 1:
        raise RuntimeError(f"expected one streamlit server among this process's children, found {len(servers)}")
    tree = [servers[0], *servers[0].children(recursive=True)]
    return sum(process.memory_info().rss for process in tree) / MB


class Student:
    """One session's position: which page it is on, its layer and head, how many sentences it typed."""

    def __init__(self, page, deadline: float):
        self.page, self.deadline = page, deadline
        self.layer = self.head = self.sentences = 0
        self.on_attention = True

    def title(self) -> str:
        return f"Layer {self.layer}, head {self.head}"

    async def new_sentence(self) -> None:
        self.sentences += 1
        # a pair of words per sentence: 1,600 sentences never seen before, each word one token
        words = [WORDS[self.sentences % len(WORDS)], WORDS[self.sentences // len(WORDS) % len(WORDS)]]
        box = self.page.get_by_label("Sentence", exact=True)
        await box.fill(f"the {words[0]} sat by the {words[1]} all day")
        await box.press("Enter")
        await timed_wait(self.page, HEATMAP_HAS_TOKENS, words, self.deadline)

    async def move(self, label: str) -> None:
        """→ on the slider, or Home once it is at its end."""
        if label == "Layer":
            self.layer = (self.layer + 1) % LAYERS
            key = "ArrowRight" if self.layer else "Home"
        else:
            self.head = (self.head + 1) % HEADS
            key = "ArrowRight" if self.head else "Home"
        slider = self.page.locator(f"input[type=range][aria-label='{label}']")
        await slider.focus()
        await slider.press(key)
        await timed_wait(self.page, HEATMAP_TITLED, self.title(), self.deadline)

    async def switch_page(self) -> None:
        """Layer norm and back; back on the attention page the sliders show what they show (kept or reset)."""
        if self.on_attention:
            await visit(self.page, "Layer norm", "Mean and spread of each token", self.deadline)
        else:
            await visit(self.page, "Attention", "Auto-contrast", self.deadline)  # only the open tab is drawn
            self.layer, self.head = [int(await self.page.locator(f"input[type=range][aria-label='{label}']")
                                         .input_value()) for label in ("Layer", "Head")]
            await timed_wait(self.page, HEATMAP_TITLED, self.title(), self.deadline)
        self.on_attention = not self.on_attention

    async def change(self, number: int) -> None:
        """The number-th change of the cycle sentence, layer, head, page, page."""
        step = number % 5
        if step == 0:
            await self.new_sentence()
        elif step == 1:
            await self.move("Layer")
        elif step == 2:
            await self.move("Head")
        else:
            await self.switch_page()


async def soak(changes: int, warm_up: int, budget_s: float) -> None:
    started = time.monotonic()
    readings: dict[str, float] = {}
    with running_app() as url:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS,
                                                       headless=True)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                deadline = started + budget_s - 30  # leave time to read memory after the session closes
                page.set_default_timeout((deadline - time.monotonic()) * 1000)  # the run's limit, not 30 s
                student = Student(page, deadline)
                await page.goto(f"{url}/attention", wait_until="domcontentloaded")
                await timed_wait(page, HEATMAP_TITLED, student.title(), deadline)
                done = 0
                try:
                    for done in range(1, changes + 1):
                        # keep the order sentence, layer, head, page, page across the switch back
                        await student.change(done - 1)
                        if done == warm_up:
                            readings["warm-up"] = server_rss_mb()
                        if done % 50 == 0:
                            print(f"after {done} changes: server RSS {server_rss_mb():.0f} MB "
                                  f"({time.monotonic() - started:.0f} s)", flush=True)
                except (PhaseOver, PlaywrightError):
                    print(f"stopped early: change {done} not drawn before the time limit", flush=True)
                    done -= 1
                readings["end"] = server_rss_mb()
                await page.close()
            finally:
                await browser.close()
            await asyncio.sleep(10)  # let the server notice the closed session
            readings["closed"] = server_rss_mb()
    if "warm-up" not in readings:
        print(f"only {done} changes made, fewer than the warm-up of {warm_up}")
        print("ratio=nan")
        return
    print(f"changes={done} sentences={student.sentences} wall={time.monotonic() - started:.0f}s")
    print("server RSS: " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in readings.items()))
    print(f"ratio={readings['end'] / readings['warm-up']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=30, help="changes before the baseline reading")
    parser.add_argument("--budget-s", type=float, default=900, help="the whole run's time limit")
    args = parser.parse_args()
    asyncio.run(soak(args.changes, args.warm_up, args.budget_s))


if __name__ == "__main__":
    main()
