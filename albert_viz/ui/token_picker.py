"""Pickers over a capture's tokens and LayerNorm applications that start afresh when the sentence or model changes.

Their keys include the token (or label) sequence: with a fixed key, Streamlit keeps the widget across sentences
and the browser can go on showing the previous sentence's token name for the kept position.
"""
from __future__ import annotations

from typing import Sequence

import streamlit as st

from albert_viz.model.capture import Capture


def token_selectbox(capture: Capture, key: str, label: str = "Token", index: int = 1) -> int:
    """One token position, shown as '3: love'; token 1 (the first after [CLS]) by default."""
    return st.selectbox(label, list(range(capture.num_tokens)), index=min(index, capture.num_tokens - 1),
                        format_func=lambda i: f"{i}: {capture.tokens[i]}", key=f"{key}_{hash(capture.tokens)}")


def tokens_multiselect(capture: Capture, key: str, label: str, first: int = 16) -> list[int]:
    """Several token positions; the first `first` by default."""
    return st.multiselect(label, list(range(capture.num_tokens)), default=list(range(min(capture.num_tokens, first))),
                          format_func=lambda i: f"{i}: {capture.tokens[i]}", key=f"{key}_{hash(capture.tokens)}",
                          label_visibility="collapsed")


def labelled_selectbox(label: str, indices: Sequence[int], labels: Sequence[str], key: str, index: int = 0) -> int:
    """One index into `labels` (e.g. a LayerNorm application), shown by its label."""
    return st.selectbox(label, list(indices), index=min(index, len(indices) - 1), format_func=labels.__getitem__,
                        key=f"{key}_{hash(tuple(labels))}")
