"""Faults a classroom meets outside the training job: a hub that hangs, an upload that is not a CSV.

The hub is made to hang at the socket: every name but this machine's resolves to a documentation
address (203.0.113.7) whose connections never answer, as behind a firewall that drops packets. A
connect with a timeout fails after it (as the kernel would); one without waits until the test lets go.
"""
from __future__ import annotations

import gzip
import random
import socket
import threading

import huggingface_hub.constants
import pytest
from streamlit.testing.v1 import AppTest

from test_finetune_page import CSV, upload

SIDEBAR_ONLY = "from albert_viz.ui.widgets import model_sidebar\nmodel_sidebar()"
BLACK_HOLE = "203.0.113.7"  # TEST-NET-3: never routed
LOCAL_NAMES = {None, "localhost", "127.0.0.1", "::1", "0.0.0.0"}
HUB_ID = "teacher/albert-for-class"  # in no cache and on no hub


class HangingHub:
    """Routes every remote name to a black hole; `attempts` records each connection tried there."""

    def __init__(self, honour_timeouts: bool):
        self.honour_timeouts = honour_timeouts
        self.attempts: list[tuple] = []
        self.release = threading.Event()  # set: every waiting connect gives up at once
        self.reached = threading.Event()  # set on the first attempt
        self._getaddrinfo, self._connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host in LOCAL_NAMES:
            return self._getaddrinfo(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (BLACK_HOLE, int(port or 443)))]

    def connect(self, sock, address):
        if address[0] != BLACK_HOLE:
            return self._connect(sock, address)
        self.attempts.append(address)
        self.reached.set()
        timeout = sock.gettimeout() if self.honour_timeouts else None
        self.release.wait(timeout if timeout is not None else 90)
        raise TimeoutError("timed out")


def hanging_hub(monkeypatch, honour_timeouts: bool) -> HangingHub:
    """A networked server (offline mode off) whose hub never answers."""
    hub = HangingHub(honour_timeouts)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(socket, "getaddrinfo", hub.getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: hub.connect(sock, address))
    return hub


def ask_for_hub_model(spec) -> AppTest:
    """A session on `spec` with the sidebar set to load HUB_ID (the button not yet pressed)."""
    at = AppTest.from_string(SIDEBAR_ONLY, default_timeout=120)
    at.session_state["model_spec"] = spec
    at.run()
    at.sidebar.radio(key="model_source").set_value("hub").run()
    at.sidebar.selectbox[0].set_value("other…").run()
    at.sidebar.text_input[0].input(HUB_ID).run()
    return at


def test_a_hanging_hub_ends_in_a_message_and_the_previous_model_stays(monkeypatch, tiny_spec):
    at = ask_for_hub_model(tiny_spec)
    hub = hanging_hub(monkeypatch, honour_timeouts=True)
    try:
        at.sidebar.button[0].click().run(timeout=60)  # a hang with no timeout of its own fails here
    finally:
        hub.release.set()
    assert hub.attempts, "the load never tried the network, so this test tested nothing"
    assert not at.exception
    assert any(HUB_ID in error.value and "Still using" in error.value for error in at.sidebar.error)
    assert at.session_state["model_spec"] == tiny_spec


def test_other_students_keep_working_while_one_waits_on_the_hub(monkeypatch, open_page, plotly_chart, tiny_spec):
    waiting = ask_for_hub_model(tiny_spec)
    hub = hanging_hub(monkeypatch, honour_timeouts=False)  # stuck until released
    load = threading.Thread(target=lambda: waiting.sidebar.button[0].click().run(timeout=120), daemon=True)
    load.start()
    try:
        assert hub.reached.wait(60), "the load never tried the network"
        other = open_page("pages/attention.py", tiny_spec)
        other.text_input(key="_widget_sentence").input("the cat is tired").run()
        still_waiting = load.is_alive()
    finally:
        hub.release.set()
        load.join(120)
    assert still_waiting, "the hub load finished before the other session ran: nothing was shown"
    assert not other.exception and "cat" in plotly_chart(other)["layout"]["xaxis"]["ticktext"]
    assert not load.is_alive() and not waiting.exception
    assert waiting.session_state["model_spec"] == tiny_spec


@pytest.mark.parametrize(("name", "payload", "reason"), [
    ("scores.csv", random.Random(0).randbytes(4000), "NUL byte"),
    ("scores.csv", gzip.compress(CSV)[:60], "gzip archive, not a CSV"),
])
def test_a_corrupt_upload_gets_its_reason_and_a_good_one_still_works(open_page, tiny_spec, name, payload, reason):
    at = upload(open_page("pages/finetune.py", tiny_spec), payload, name)
    assert not at.exception
    assert any(reason in error.value for error in at.error)
    assert all(button.key != "ft_start" for button in at.button)
    at = upload(at, CSV)
    assert not at.exception and not at.error
    assert any(button.key == "ft_start" for button in at.button)
