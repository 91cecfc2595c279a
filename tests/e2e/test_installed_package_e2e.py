"""`pip install` the project, then `albert-viz` from an unrelated folder: help, fine-tune help, and the served app.

The wheel is built without a download (hatchling from the test venv) and installed with --no-deps into a folder
of its own; PYTHONPATH puts that folder first, so the bundled model, lessons and samples must come from it.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from server import chromium_page, free_port, serving

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict]:
    """(the albert-viz script, the environment that runs it) of a wheel installed outside the checkout."""
    root = tmp_path_factory.mktemp("installed")
    wheels, site = root / "wheels", root / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(REPO)], check=True,
                   stdin=subprocess.DEVNULL)
    (wheel,) = wheels.glob("albert_viz-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True,
                   stdin=subprocess.DEVNULL)
    env = dict(os.environ, PYTHONPATH=str(site), HF_HUB_OFFLINE="1")
    return site / "bin" / "albert-viz", env


def run_in_elsewhere(command: list[str], env: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_the_installed_package_is_the_one_that_runs(installed, tmp_path):
    script, env = installed
    code = ("import albert_viz.assets as a; print(a.INSTALLED, a.BUNDLED_MODEL_DIR.is_dir(), a.LESSONS_DIR.is_dir(), "
            "a.DATASETS_DIR.is_dir(), a.ASSETS_DIR.is_relative_to(a.PACKAGE_DIR), a.PACKAGE_DIR)")
    result = run_in_elsewhere([sys.executable, "-c", code], env, tmp_path)
    *flags, package = result.stdout.split()
    assert flags == ["True"] * 5 and Path(package).is_relative_to(script.parent.parent), result.stderr


def test_albert_viz_help_lists_its_commands(installed, tmp_path):
    script, env = installed
    result = run_in_elsewhere([str(script), "--help"], env, tmp_path)
    assert result.returncode == 0 and all(word in result.stdout for word in ("serve", "finetune", "pretrain"))


def test_albert_viz_finetune_help_shows_the_cli_options(installed, tmp_path):
    script, env = installed
    result = run_in_elsewhere([str(script), "finetune", "--help"], env, tmp_path)
    assert result.returncode == 0 and "--csv" in result.stdout and "--out" in result.stdout


def test_albert_viz_serve_runs_the_attention_page_from_anywhere(installed, tmp_path):
    script, env = installed
    port = free_port()
    command = [str(script), "serve", "--port", str(port), "--server.headless=true", "--server.address=127.0.0.1"]
    with serving(command, port, cwd=tmp_path, env=env) as url, chromium_page() as page:
        page.goto(f"{url}/attention", wait_until="domcontentloaded")
        page.wait_for_selector(".main-svg", timeout=TIMEOUT_MS)
        ticks = page.locator(".main-svg .xtick text").all_text_contents()
        sidebar = page.locator("[data-testid='stSidebar']").inner_text()
    assert ticks[:5] == ["[CLS]", "i", "love", "programming", "[SEP]"]
    assert "bundled" in sidebar.lower()
