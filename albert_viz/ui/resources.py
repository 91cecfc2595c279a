"""The one place that caches: models once per process (shared by every session), captures per input.

Captures live in our own cache bounded by bytes, not st.cache_data: st.cache_data counts entries (64 captures
of a long text held gigabytes) and pickles every hit (~100 MB per 512-token capture, on every rerun). Long
captures are kept in float16 (capture.compact) and widened to float32 for each page run that reads them.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

import numpy as np
import streamlit as st

from albert_viz.finetune.runner import BaseRunner
from albert_viz.finetune.runner_choice import make_runner
from albert_viz.model.capture import Capture, capture, compact, token_cap, widened
from albert_viz.model.loading import LoadedModel, ModelSpec, load_model

# Memory all cached captures may hold together (ALBERT_VIZ_CAPTURE_CACHE_MB, default 256 MB); a capture
# bigger than half of it, even in float16, is computed for each run, not kept.
CAPTURE_CACHE_BYTES = int(float(os.environ.get("ALBERT_VIZ_CAPTURE_CACHE_MB", "256")) * 2**20)
# Captures above this size are cached in float16 (the bundled model passes it at ~200 tokens): short texts,
# the usual case, stay exact to the last float32 digit for the worked examples' checks.
COMPACT_ABOVE_BYTES = 32 * 2**20

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


def get_capture(spec: ModelSpec, text: str, text_pair: str | None = None, exact: bool = False) -> Capture:
    """One forward pass per (model, text), at most token_cap(config) tokens; selectors re-plot from the cache.

    A long text's capture is cached in float16 and handed out widened to float32. exact=True, for pages that
    check arithmetic against the model to the last digit, gets (and caches, if it fits) the float32 capture.
    """
    loaded = get_model(spec)
    cap = token_cap(loaded.config)
    key = (spec, text, text_pair, cap.tokens)
    if (cached := _CAPTURES.get((*key, "float32"))) is not None:
        return cached
    if not exact and (cached := _CAPTURES.get((*key, "float16"))) is not None:
        return _read_only(widened(cached))
    with st.spinner("Running the model…"):
        result = _read_only(capture(loaded, text, text_pair, max_tokens=cap.tokens, limit_reason=cap.reason))
    if exact or result.nbytes <= COMPACT_ABOVE_BYTES:
        _CAPTURES.put((*key, "float32"), result)
    else:
        _CAPTURES.put((*key, "float16"), _read_only(compact(result)))
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
