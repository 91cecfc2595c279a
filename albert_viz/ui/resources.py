"""The one place that caches: models once per process (shared by every session), captures per input.

Captures live in our own cache bounded by bytes, not st.cache_data: st.cache_data counts entries (64 captures
of a long text held gigabytes) and pickles every hit (~100 MB per 512-token capture, on every rerun).
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

import numpy as np
import streamlit as st

from albert_viz.capture import MAX_TOKENS_PER_REQUEST, Capture, capture
from albert_viz.finetune.runner import BaseRunner, make_runner
from albert_viz.models import LoadedModel, ModelSpec, load_model

# Memory all cached captures may hold together (ALBERT_VIZ_CAPTURE_CACHE_MB, default 256 MB); a capture
# bigger than half of it (e.g. ALBERT-xxlarge at 128 tokens, ~160 MB) is computed for each run, not kept.
CAPTURE_CACHE_BYTES = int(float(os.environ.get("ALBERT_VIZ_CAPTURE_CACHE_MB", "256")) * 2**20)

V = TypeVar("V")


class BytesLRU(Generic[V]):
    """A thread-safe least-recently-used cache whose values together never exceed `max_bytes`."""

    def __init__(self, max_bytes: int, size_of: Callable[[V], int], max_item_bytes: int | None = None):
        self.max_bytes, self.max_item_bytes = max_bytes, max_item_bytes or max_bytes
        self._size_of = size_of
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key][0]

    def put(self, key: Hashable, value: V) -> bool:
        """Keep `value` (evicting the least recently used) unless it alone is over the item limit."""
        size = self._size_of(value)
        if size > self.max_item_bytes:
            return False
        with self._lock:
            if key in self._items:
                self._bytes -= self._items.pop(key)[1]
            while self._items and self._bytes + size > self.max_bytes:
                self._bytes -= self._items.popitem(last=False)[1][1]
            self._items[key] = (value, size)
            self._bytes += size
        return True


_CAPTURES: BytesLRU[Capture] = BytesLRU(CAPTURE_CACHE_BYTES, lambda c: c.nbytes, CAPTURE_CACHE_BYTES // 2)


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def get_model(spec: ModelSpec) -> LoadedModel:
    """Loaded once per spec for all sessions; never trained, and hooked only under its lock."""
    return load_model(spec)


def get_capture(spec: ModelSpec, text: str, text_pair: str | None = None) -> Capture:
    """One forward pass per (model, text), at most MAX_TOKENS_PER_REQUEST tokens; selectors re-plot from the cache."""
    key = (spec, text, text_pair, MAX_TOKENS_PER_REQUEST)
    if (cached := _CAPTURES.get(key)) is not None:
        return cached
    with st.spinner("Running the model…"):
        result = _read_only(capture(get_model(spec), text, text_pair, max_tokens=MAX_TOKENS_PER_REQUEST))
    _CAPTURES.put(key, result)
    return result


def _read_only(result: Capture) -> Capture:
    """Every session gets the same object (no copy per hit), so no page may change its arrays."""
    for value in vars(result).values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    for application in result.layernorms:
        application.inputs.flags.writeable = application.outputs.flags.writeable = False
    return result


@st.cache_resource(show_spinner=False)
def get_runner() -> BaseRunner:
    """One fine-tuning runner per server (local processes, or Ray); jobs and their store outlive sessions."""
    return make_runner()
