"""Start the real app with `streamlit run` on 127.0.0.1 and open it in headless Chromium (Playwright)."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_app(port: int | None = None, timeout_s: float = 120, extra_args: list[str] | None = None,
                env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve app.py headless on 127.0.0.1; yield its URL once it answers its health check; always stop it.

    extra_args: more `streamlit run` options (e.g. a bench turning on the agent API for itself).
    env: more environment variables (e.g. ALBERT_VIZ_DATABASE_URL, for several servers on one database).
    """
    port = port or free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", **(env or {}))
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
               *(extra_args or [])]
    (REPO / "build").mkdir(exist_ok=True)  # the server's console is kept there: tests read it, people debug with it
    log = open(REPO / "build" / f"streamlit-{port}.log", "w")
    with serving(command, port, cwd=REPO, env=env, log=log, timeout_s=timeout_s) as url:
        yield url


@contextlib.contextmanager
def serving(command: list[str], port: int, cwd: Path, env: dict, log=subprocess.DEVNULL,
            timeout_s: float = 120) -> Iterator[str]:
    """Run a server command; yield its loopback URL once /_stcore/health answers; always stop it."""
    server = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, server, timeout_s)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def _wait_until_healthy(url: str, server: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout_s} s")


def chromium_path() -> str | None:
    """Debian's chromium if present; None lets Playwright use its own downloaded browser."""
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return None


@contextlib.contextmanager
def chromium_page(width: int = 1400, height: int = 1000):
    """A fresh headless Chromium page; every URL it requests is appended to page.requested_urls."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.requested_urls = []
            page.on("request", lambda request: page.requested_urls.append(request.url))
            yield page
        finally:
            browser.close()


def attention_page_with(page, app_url: str, sentence: str, timeout_ms: int) -> None:
    """Open the attention page, wait for its first figure, and type a sentence as a user does (Enter applies it)."""
    page.goto(f"{app_url}/attention", wait_until="domcontentloaded")
    page.wait_for_selector(".main-svg", timeout=timeout_ms)
    box = page.get_by_label("Sentence", exact=True)
    box.fill(sentence)
    box.press("Enter")
