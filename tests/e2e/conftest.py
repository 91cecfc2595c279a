"""End-to-end fixtures: the real Streamlit server and a headless Chromium page."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import chromium_page, running_app  # noqa: E402


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def app_url():
    """The URL of `streamlit run app.py` on 127.0.0.1, shared by the e2e tests and stopped after them."""
    with running_app() as url:
        yield url


@pytest.fixture
def page():
    """A headless Chromium page; page.requested_urls lists every URL it asked for."""
    with chromium_page() as browser_page:
        yield browser_page
