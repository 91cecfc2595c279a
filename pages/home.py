"""Home: what this app is and where to start."""
import streamlit as st

st.title("Inside ALBERT")
st.markdown(
    """
A real **ALBERT** language model runs behind every page of this app. Type a sentence and look inside:

- **Attention**: what every head of every layer looks at, one head at a time, a whole layer,
  or all layers × heads at a glance; bertviz's interactive views too.

ALBERT (Lan et al., ICLR 2020, *"A Lite BERT for Self-supervised Learning of Language Representations"*)
is BERT with three changes: a small token embedding (size E) lifted to the hidden size H by one
linear map, **one layer whose weights are reused at every depth**, and **sentence-order prediction**
instead of next-sentence prediction. It is an encoder only: self-attention, no decoder, no cross-attention.

Choose a model in the sidebar: the bundled ALBERT-tiny works offline; official checkpoints such as
`albert/albert-base-v2` load from the Hugging Face hub or from a local folder.
"""
)
st.page_link("pages/attention.py", label="Start with attention", icon="👀")
