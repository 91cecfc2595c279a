"""The sentence as the model reads it: pieces, ids, and what this tokenizer's markers mean."""
from __future__ import annotations

import streamlit as st

from albert_viz.analysis import tokens
from albert_viz.model.capture import Capture
from albert_viz.teaching import glossary
from albert_viz.ui.text import plain
from albert_viz.ui.widgets import current_model


def pieces_expander(capture: Capture) -> None:
    """A closed expander: the loaded tokenizer's pieces and ids for the sentence, and how to read its markers."""
    loaded = current_model()
    if loaded is None:
        return
    read = tokens.pieces(loaded, capture)
    with st.expander(f"How the model reads this sentence: {len(read.pieces)} pieces", key="tokens_panel"):
        st.markdown(plain(read.vocabulary.explanation()))
        split = (f" Here {read.split_words} piece(s) continue the piece before them: one word became several."
                 if read.split_words else "")
        st.caption(plain(f"[CLS] opens every input and [SEP] closes each sentence; the id is the piece's line in "
                         f"the vocabulary.{split}"))
        st.dataframe(read.rows(), hide_index=True, key="tokens_table")
        st.caption(glossary.explain("vocabulary"))
