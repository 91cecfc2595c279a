"""A Streamlit session driven over the server's own websocket, as the browser drives it, with nothing drawn.

The browser's side of /_stcore/stream, in small: BackMsg rerun_script out (the page, the query string, widget
values, a button's trigger), ForwardMsg in (the app's elements, new query strings, the end of each run). Like the
browser, it honours `st.fragment(run_every=...)`: the server sends an AutoRerun message with the fragment's id
and interval, and the *client* asks for that fragment's rerun on a timer (rerun_script with fragment_id and
is_auto_rerun), until the server sends StopAutoRerun. So a session following a live class here polls exactly
as a student's browser does, and what it is shown arrives as that session's own rerun output.

Each element that arrives is logged with its wall-clock time (time.time(), comparable with a browser's
Date.now() on the same machine) and its text (headings, markdown, captions, alerts, exceptions), so a bench can
ask when this session's screen first showed a text.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Self, TypeVar

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

TEXT_FIELDS = {"heading": "body", "markdown": "body", "alert": "body", "text": "body", "exception": "message"}
WIDGET_KINDS = {"button", "text_input", "radio"}
T = TypeVar("T")


class WireTimeout(Exception):
    """The session's screen did not show what was awaited before the deadline."""


@dataclass
class Shown:
    """One element as it arrived: when (time.time()), what kind (heading, markdown, alert, ...) and its text."""

    at: float
    kind: str
    text: str
    fragment_run: bool


@dataclass
class WireSession:
    """One browser-less Streamlit session: `async with WireSession(url, "present", "class=K7P2QX") as session:`."""

    url: str
    page: str
    query_string: str = ""
    shown: list[Shown] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    runs_finished: int = 0
    fragment_runs_finished: int = 0

    def __post_init__(self) -> None:
        self._page_hash = ""
        self._widgets: dict[str, tuple[str, object, float]] = {}  # user key -> (element id, its proto, arrival)
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}  # fragment id -> (interval, its polling task)
        self._changed = asyncio.Event()
        self._socket = None
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> Self:
        address = self.url.replace("http://", "ws://", 1) + "/_stcore/stream"
        self._socket = await websockets.connect(address, subprotocols=["streamlit"], max_size=None,
                                                open_timeout=60, ping_interval=None)
        self._reader = asyncio.create_task(self._read())
        await self.rerun()
        return self

    async def __aexit__(self, *_) -> None:
        for _, timer in self._timers.values():
            timer.cancel()
        if self._reader is not None:
            self._reader.cancel()
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close()

    # -- what the browser sends ---------------------------------------------------------------------------------
    async def rerun(self, widgets: list[WidgetState] | None = None, fragment_id: str = "", auto: bool = False) -> None:
        message = BackMsg()
        rerun = message.rerun_script
        rerun.query_string = self.query_string
        if self._page_hash:
            rerun.page_script_hash = self._page_hash
        else:
            rerun.page_name = self.page  # the first run: the page the URL's path names, as the browser sends it
        rerun.fragment_id = fragment_id
        rerun.is_auto_rerun = auto
        rerun.widget_states.widgets.extend(widgets or [])
        await self._socket.send(message.SerializeToString())

    async def click(self, button_key: str, texts: dict[str, str] | None = None, radios: dict[str, int] | None = None):
        """Type into text inputs and pick radio options (by user key), then press a button, in one rerun."""
        states = []
        for key, typed in (texts or {}).items():
            states.append(WidgetState(id=self.widget_id(key), string_value=typed))
        for key, choice in (radios or {}).items():
            element_id, radio, _ = self._widgets[key]
            states.append(WidgetState(id=element_id, string_value=radio.options[choice]))
        states.append(WidgetState(id=self.widget_id(button_key), trigger_value=True))
        await self.rerun(states)

    def widget_id(self, key: str) -> str:
        return self._widgets[key][0]

    def radio_options(self, key: str) -> list[str]:
        return list(self._widgets[key][1].options)

    def latest_key(self, prefix: str, since: float = 0.0) -> str | None:
        """The user key starting with `prefix` that arrived last, at or after `since` (time.time())."""
        return next((key for key, (_, _, at) in reversed(self._widgets.items())
                     if key.startswith(prefix) and at >= since), None)

    # -- what the browser receives ------------------------------------------------------------------------------
    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self._socket:
                message = ForwardMsg()
                message.ParseFromString(raw)
                self._handle(message, time.time())

    def _handle(self, message: ForwardMsg, at: float) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self._page_hash = message.new_session.page_script_hash
        elif kind == "navigation":  # st.navigation: the page this run resolved to, which later reruns name
            self._page_hash = message.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = message.page_info_changed.query_string
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            self._element(message.delta.new_element, at, bool(message.delta.fragment_id))
        elif kind == "auto_rerun":
            self._poll(message.auto_rerun.fragment_id, message.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in message.stop_auto_rerun.fragment_ids:
                self._stop_polling(fragment_id)
        elif kind == "script_finished":
            if message.script_finished == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                self.fragment_runs_finished += 1
            elif message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                self.runs_finished += 1
        self._changed.set()

    def _element(self, element, at: float, in_fragment: bool) -> None:
        kind = element.WhichOneof("type")
        if kind in WIDGET_KINDS:
            widget = getattr(element, kind)
            prefix, _, key = widget.id.split("-", 2) if widget.id.count("-") >= 2 else ("", "", "")
            if prefix == "$$ID" and key != "None":  # "$$ID-<hash>-<user key>": the key the app gave it
                self._widgets.pop(key, None)  # re-inserted: latest_key finds the newest
                self._widgets[key] = (widget.id, widget, at)
            self.shown.append(Shown(at, kind, getattr(widget, "label", ""), in_fragment))
        elif kind in TEXT_FIELDS:
            text = getattr(getattr(element, kind), TEXT_FIELDS[kind])
            if kind == "alert":  # "alert-error", "alert-warning", ...: what a bench counts as a message drawn
                kind = f"alert-{Alert.Format.Name(element.alert.format).lower()}"
            self.shown.append(Shown(at, kind, text, in_fragment))
            if kind == "exception":
                self.exceptions.append(text)

    def _poll(self, fragment_id: str, interval: float) -> None:
        """As the browser: one timer per fragment; a repeated AutoRerun with the same interval changes nothing."""
        if fragment_id in self._timers and self._timers[fragment_id][0] == interval:
            return
        self._stop_polling(fragment_id)

        async def every_interval() -> None:
            while True:
                await asyncio.sleep(interval)
                with contextlib.suppress(websockets.ConnectionClosed):
                    await self.rerun(fragment_id=fragment_id, auto=True)

        self._timers[fragment_id] = (interval, asyncio.create_task(every_interval()))

    def _stop_polling(self, fragment_id: str) -> None:
        if fragment_id in self._timers:
            self._timers.pop(fragment_id)[1].cancel()

    # -- waiting for the screen ---------------------------------------------------------------------------------
    async def until(self, found: Callable[[], T | None], deadline: float) -> T:
        """found()'s first result that is not None, checked after every message; WireTimeout at `deadline`
        (time.monotonic())."""
        while (result := found()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WireTimeout(getattr(found, "__doc__", None) or "a change of the screen")
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=remaining)
        return result

    async def first_shown(self, text: str, since: float, deadline: float, kind: str | None = None) -> float:
        """The time this session was first shown an element containing `text` at or after `since` (time.time()).

        Matched as a reader sees it: Markdown's backslash escapes (the app's plain()) are left out.
        kind: only elements of this kind ("heading", "markdown", "alert-error", ...)."""
        checked = 0

        def arrived() -> float | None:
            nonlocal checked
            for shown in self.shown[checked:]:
                if shown.at >= since and (kind is None or shown.kind == kind) and text in shown.text.replace("\\", ""):
                    return shown.at
            checked = len(self.shown)
            return None

        arrived.__doc__ = text
        return await self.until(arrived, deadline)

    async def widget(self, prefix: str, deadline: float, since: float = 0.0) -> str:
        """The newest widget whose user key starts with `prefix` (arrived at or after `since`), once it has."""
        return await self.until(lambda: self.latest_key(prefix, since), deadline)
