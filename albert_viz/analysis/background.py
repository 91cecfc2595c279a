"""Slow analysis in a background thread: the page starts it, polls its progress, may cancel it, reads its result.

The thread never touches the page: it writes a fraction and, at the end, a result or an error message into
this object, and the page (st.fragment(run_every=...)) reads them. A cancelled run keeps no result.
"""
from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

from albert_viz.analysis.ablation import AblationCancelled
from albert_viz.analysis.attention_modes import ExplainError
from albert_viz.model.capture import CaptureError

T = TypeVar("T")
Work = Callable[[Callable[[float], None], threading.Event], T]  # work(progress, cancelled) -> result
STOPPED = "Stopped before the end: nothing was kept. Start again when you like."


class BackgroundRun(Generic[T]):
    """One piece of work in a daemon thread, with progress (0..1), a cancel event, and a result or an error."""

    def __init__(self, work: Work, label: str, name: str = "analysis"):
        self.label = label  # what is computed, on what: the page shows it beside the result
        self.fraction = 0.0
        self.result: T | None = None
        self.error: str | None = None
        self.cancelled = threading.Event()
        self._work = work
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "BackgroundRun[T]":
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive() and (self.result is not None or self.error is not None)

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _progress(self, fraction: float) -> None:
        self.fraction = min(1.0, max(self.fraction, fraction))

    def _run(self) -> None:
        try:
            result = self._work(self._progress, self.cancelled)
            if self.cancelled.is_set():  # the click came during the last step: the user still asked for nothing
                raise AblationCancelled()
            self.result = result
        except AblationCancelled:
            self.error = STOPPED
        except (ExplainError, CaptureError) as error:  # what the user's data or model causes: said as it is
            self.error = str(error)
        except Exception as error:  # shown on the page; the thread must not die silently
            self.error = f"{self.label} failed: {type(error).__name__}: {error}"
