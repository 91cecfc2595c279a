"""Attention: one head, a whole layer, every layer × head, averages and rollout, bertviz."""
import streamlit as st

from albert_viz import attention, plots
from albert_viz.ui import attention_modes, bertviz_panel, quiz, widgets

st.title("Attention")
st.caption("Row i of a map is query token i; it spreads a total weight of 1 over the key tokens j: "
           "a_ij = softmax_j(q_i · k_j / √d_k).")

text, text_pair = widgets.sentence_inputs(with_pair=True)
capture = widgets.capture_or_stop(text, text_pair)
layer, head = widgets.layer_head_selectors(capture)

one_head, one_layer, overview, averages, bertviz, predict = st.tabs(
    ["One head", "All heads of a layer", "Layers × heads", "Head average & rollout", "bertviz", "Predict, then reveal"])

with one_head:
    if view := attention_modes.chosen_view(capture, layer, head):
        st.plotly_chart(plots.attention_heatmap(view.matrix, capture.tokens, view.title), key="one_head")
with one_layer:
    st.plotly_chart(plots.heads_grid(capture.attentions[layer], capture.tokens,
                                     f"Layer {layer}: all {capture.num_heads} heads"), key="one_layer")
with overview:
    st.caption("Each cell is one head; its colour is how much weight its dominant pattern gets "
               "(← previous token, → next token, • itself, C [CLS], S [SEP], blank: broad).")
    st.plotly_chart(plots.head_overview(attention.head_statistics(capture), "What each head mostly looks at"),
                    key="overview")
with averages:
    st.plotly_chart(plots.attention_heatmap(attention.head_mean(capture.attentions)[layer], capture.tokens,
                                            f"Layer {layer}: mean over heads"), key="head_mean")
    st.caption("Rollout (Abnar & Zuidema 2020) follows attention through the residual path, layer by layer.")
    st.plotly_chart(plots.attention_heatmap(attention.rollout(capture.attentions)[layer], capture.tokens,
                                            f"Rollout up to layer {layer}"), key="rollout")
with bertviz:
    bertviz_panel.render(capture)
with predict:
    quiz.attention_quiz(capture, layer, head)
