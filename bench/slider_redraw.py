"""How long does moving the Head slider take to redraw the attention page, before and after st.fragment?

Serves two copies of the app side by side on 127.0.0.1: this working tree ("after") and the tree of an
earlier commit ("before", default: where this branch left main), both with the bundled ALBERT-tiny and the
default sentence (so the capture is cached after the first run). In headless Chromium it presses the Head
slider's arrow key and times (a) until the server's "script finished" message arrives over the websocket
(the rerun itself: what st.fragment shortens) and (b) until the one-head map's title names the new head
(that plus the browser redrawing plotly, which on a loaded machine dominates). It alternates between the
two apps so machine noise hits both alike. Last line: ratio=<after median / before median> of (a).

    .venv/bin/python bench/slider_redraw.py [--before <git revision>] [--moves 22] [--no-gc-after-run]

--no-gc-after-run serves the "after" app with runner.postScriptGC off: by default Streamlit runs a full
gc.collect(2) after every run, fragment runs included, which with torch and transformers loaded costs
a large share of a slider move on a busy CPU.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from server import CHROMIUM_ARGS, _wait_until_healthy, chromium_path, free_port  # noqa: E402

TIMEOUT_MS = 180_000


@contextlib.contextmanager
def serve(folder: Path, gc_after_run: bool = True):
    """`streamlit run app.py` in folder on a free port; yields the URL; always stops it."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
               STREAMLIT_RUNNER_POST_SCRIPT_GC=str(gc_after_run).lower())
    server = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_healthy(f"http://127.0.0.1:{port}", server, 120)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=15)


@contextlib.contextmanager
def two_pages():
    """Two pages of one headless Chromium (one Playwright per process)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield [browser.new_page(viewport={"width": 1440, "height": 900}) for _ in range(2)]
        finally:
            browser.close()


def export_revision(revision: str, into: Path) -> Path:
    """The files of `revision` (git archive), unpacked into a fresh folder."""
    archive = into / "before.tar"
    subprocess.run(["git", "-C", str(REPO), "archive", "-o", str(archive), revision], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "before", filter="data")
    return into / "before"


def watch_runs(page) -> list[float]:
    """Times at which the server's ScriptFinished messages reach this page (appended as they arrive)."""
    finished: list[float] = []

    def on_frame(payload) -> None:
        if isinstance(payload, bytes) and ForwardMsg.FromString(payload).WhichOneof("type") == "script_finished":
            finished.append(time.perf_counter())

    page.on("websocket", lambda socket: socket.on("framereceived", on_frame))
    return finished


def open_attention(page, url: str) -> None:
    page.goto(f"{url}/attention", wait_until="domcontentloaded")
    page.locator(".gtitle", has_text="head 0").first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("slider").nth(1).focus()  # the Head slider's thumb


def move_head(page, finished: list[float], key: str, to_head: int) -> tuple[float, float]:
    """Seconds from the arrow key to the rerun's end on the server, and to the map titled with the new head."""
    start = time.perf_counter()
    page.keyboard.press(key)
    page.locator(".gtitle", has_text=f"head {to_head}").first.wait_for(timeout=TIMEOUT_MS)
    drawn = time.perf_counter() - start
    while not any(t >= start for t in finished):  # the map can be drawn before the rest of the page has run
        page.wait_for_timeout(20)
    return min(t for t in finished if t >= start) - start, drawn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="7a0d3410eef63d6a00610a81dbb1fd17b3035ed1",
                        help="git revision whose page re-runs whole (default: this branch's base on main)")
    parser.add_argument("--moves", type=int, default=22, help="slider moves per app (the model has 12 heads)")
    parser.add_argument("--no-gc-after-run", action="store_true", help="serve 'after' with runner.postScriptGC off")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        before_tree = export_revision(args.before, Path(scratch))
        with serve(before_tree) as before_url, serve(REPO, gc_after_run=not args.no_gc_after_run) as after_url, \
                two_pages() as (before_page, after_page):
            pages = {"before": before_page, "after": after_page}
            finished = {name: watch_runs(page) for name, page in pages.items()}
            open_attention(before_page, before_url)
            open_attention(after_page, after_url)
            times = {name: [] for name in pages}
            head = 0
            for move in range(args.moves):
                key, head = ("ArrowRight", head + 1) if (move // 11) % 2 == 0 else ("ArrowLeft", head - 1)
                for name, page in pages.items():
                    times[name].append(move_head(page, finished[name], key, head))
    for name, pairs in times.items():
        reruns, drawn = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
        print(f"{name}: rerun median {statistics.median(reruns):.3f} s (max {max(reruns):.3f}), "
              f"drawn median {statistics.median(drawn):.3f} s (max {max(drawn):.3f}) over {len(pairs)} moves")
    median = {name: statistics.median(pair[0] for pair in pairs) for name, pairs in times.items()}
    print(f"drawn_ratio={statistics.median(p[1] for p in times['after']) / statistics.median(p[1] for p in times['before']):.3f}")
    print(f"ratio={median['after'] / median['before']:.3f}")


if __name__ == "__main__":
    main()
