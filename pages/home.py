"""Home: what this app is and where to start."""
import streamlit as st

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

TOUR = [
    ("pages/attention.py", ":material/visibility:", "Attention", "what every head of every layer looks at; bertviz views"),
    ("pages/layer_norm.py", ":material/straighten:", "Layer norm", "the numbers at every place ALBERT normalises, and one worked by hand"),
    ("pages/anatomy.py", ":material/account_tree:", "Anatomy", "where the parameters are: factorised embeddings, one shared layer, SOP"),
    ("pages/worked_examples.py", ":material/edit_note:", "Worked examples", '"I love programming" by hand, then checked against the model'),
    ("pages/finetune.py", ":material/school:", "Fine-tuning", "teach the model your own labelled sentences and see what changed"),
]
for path, icon, title, what in TOUR:
    st.page_link(path, label=f"**{title}**: {what}", icon=icon)
