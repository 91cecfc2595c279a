"""The fine-tuning page when the app's database is out of reach: a clear message, never a traceback or a password."""
from __future__ import annotations

import pytest

from albert_viz.ui.resources import get_runner
from tests.app.test_finetune_jobs_page import open_by_url


@pytest.fixture
def unreachable_database(monkeypatch):
    monkeypatch.setenv("ALBERT_VIZ_DATABASE_URL", "postgresql+psycopg://teacher:hunter2@127.0.0.1:1/albert_viz")
    get_runner.clear()  # the server starts (again) with this URL
    yield
    monkeypatch.delenv("ALBERT_VIZ_DATABASE_URL")
    get_runner.clear()


def test_an_unreachable_database_is_named_on_the_page_without_its_password(unreachable_database, tiny_spec):
    at = open_by_url("0123456789abcdef", tiny_spec)
    # as the reader sees it: plain() escapes markdown with backslashes and breaks autolinks with a word joiner
    messages = [warning.value.replace("\\", "").replace("\u2060", "") for warning in at.warning]
    assert not at.exception
    assert any("ALBERT_VIZ_DATABASE_URL" in message and "127.0.0.1:1" in message for message in messages), messages
    assert not any("hunter2" in message for message in messages)
