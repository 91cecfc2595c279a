"""Home: what this app is, every page, and where a first visit should begin."""
import streamlit as st

from albert_viz.teaching import lessons, tour

st.title("Inside ALBERT")
st.markdown(
    """
A real **ALBERT** language model runs behind every page. Type a sentence and look inside it.

ALBERT (Lan et al., ICLR 2020, *"A Lite BERT for Self-supervised Learning of Language Representations"*)
is BERT with three changes: a small token embedding (size E) lifted to the hidden size H by one linear
map, **one layer whose weights are reused at every depth**, and **sentence-order prediction** instead of
next-sentence prediction. It is an encoder only: self-attention, no decoder, no cross-attention; its layer
normalisation is the ordinary LayerNorm BERT uses.

The bundled **ALBERT-tiny** works offline. With internet or a downloaded checkpoint, choose an official
model such as `albert/albert-base-v2` in the sidebar.
"""
)

first = lessons.first_lesson()
with st.container(border=True, key="home_first_visit"):
    st.markdown(tour.first_visit_advice(first.title if first else None, len(first.steps) if first else 0))
    if first is not None:
        st.page_link("pages/present.py", label="Start the lesson", icon=":material/play_arrow:",
                     query_params={"lesson": first.name, "step": "1"})

st.subheader("Every page")
for entry in tour.PAGES:
    if entry is not tour.HOME:
        st.page_link(entry.path, label=f"**{entry.title}**: {entry.what}", icon=entry.icon)
