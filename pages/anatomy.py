"""Anatomy: where ALBERT's parameters are, factorized embeddings, one layer shared across depth, SOP vs NSP."""
import streamlit as st

from albert_viz import anatomy, plots_anatomy
from albert_viz.ui import model_facts, token_picker, widgets
from albert_viz.ui.text import plain

st.title("Anatomy of ALBERT")
st.caption("ALBERT (Lan et al., ICLR 2020) is BERT with three changes: a small token embedding (E) lifted to the "
           "hidden size (H), one layer reused at every depth, and sentence-order prediction instead of "
           "next-sentence prediction. Every number below is computed from a real model or configuration.")

loaded = widgets.current_model()
if loaded is None:
    st.stop()
spec = widgets.current_spec()
counts = model_facts.get_parameter_table(spec)
text, _ = widgets.sentence_inputs(with_pair=False)
capture = model_facts.capture_or_message(text)  # None (with a message) when the text cannot be read

parameters, factorized, sharing_tab, sop, misconceptions = st.tabs(
    ["Parameters", "Factorized embeddings", "Cross-layer sharing", "SOP vs NSP", "Misconceptions"])

with parameters:
    st.dataframe([count.as_row() for count in counts], hide_index=True, column_config={
        name: st.column_config.NumberColumn(format="localized") for name in (*anatomy.COMPONENTS, "total")})
    st.caption("Each model is built from its configuration on PyTorch's `meta` device (shapes, no weights) and its "
               "parameters counted, pooler included. The paper's Table 1 rounds, and for xxlarge it says 235M where "
               "the released configuration comes to 222.6M (the hub's model cards say 223M; for xlarge 58M).")
    log_scale = st.toggle("Logarithmic scale", key="anatomy_log")
    st.plotly_chart(plots_anatomy.parameter_stack(counts, log=log_scale), key="anatomy_stack")
    left, right = st.columns(2)
    left.plotly_chart(plots_anatomy.component_shares(counts), key="anatomy_shares")
    right.plotly_chart(plots_anatomy.sharing_savings(counts), key="anatomy_savings")

with factorized:
    albert_counts = {count.name: count for count in counts if count.embedding != count.hidden}
    chosen = st.selectbox("Model", list(albert_counts), key="anatomy_factor_model")
    factors = anatomy.factorization_of(albert_counts[chosen])
    st.plotly_chart(plots_anatomy.factorization_bars(factors), key="anatomy_factor")
    st.markdown(f"With E = {factors.embedding}, every one of the {factors.vocab:,} vocabulary entries stores "
                f"{factors.embedding} numbers instead of {factors.hidden}; one {factors.embedding}×{factors.hidden} "
                f"matrix (`embedding_hidden_mapping_in`) lifts them to H: **{factors.factorized:,}** weights instead "
                f"of **{factors.unfactorized:,}**.")
    st.subheader(f"One token of your sentence through the projection of {plain(loaded.spec.label)}")
    if capture is not None:
        position = token_picker.token_selectbox(capture, "anatomy_token")
        projected = anatomy.projection(loaded, capture, position)
        st.plotly_chart(plots_anatomy.projection_vectors(projected), key="anatomy_projection")
        st.caption(f"W·e + b computed here differs from the model's hidden state 0 by at most "
                   f"{projected.max_abs_diff:.1e}.")

with sharing_tab:
    if capture is None:
        st.info("Type a sentence above to see the shared layer at work.")
    else:
        shared = anatomy.sharing(loaded, capture)
        columns = st.columns(3)
        columns[0].metric("Layer applications", len(shared.layer_modules))
        columns[1].metric("Distinct weight tensors", shared.distinct_weights)
        columns[2].metric("Parameters per layer", f"{shared.parameters_per_layer:,}")
        st.dataframe({"layer": list(range(len(shared.layer_modules))), "module that ran": list(shared.layer_modules),
                      "query weight address": [hex(address) for address in shared.weight_addresses],
                      "same tensor as layer 0": [address == shared.weight_addresses[0]
                                                 for address in shared.weight_addresses]}, hide_index=True)
        st.caption("The module names come from hooks on the forward pass; the addresses are the query weight's "
                   "`data_ptr()` in memory. The same address means the very same numbers, not a copy.")
        st.plotly_chart(plots_anatomy.layer_change(shared), key="anatomy_change")

with sop:
    first_default, second_default, source = anatomy.example_pair()
    first = st.text_input("Segment A", first_default, key="anatomy_sop_first")
    second = st.text_input("Segment B (follows A in the text)", second_default, key="anatomy_sop_second")
    st.caption(f"Default pair: {source}.")
    st.dataframe(anatomy.objective_examples(first, second), hide_index=True)
    if not (first.strip() and second.strip()):
        st.info("Type both segments to ask the model.")
    elif loaded.has_sop_head:
        prediction = model_facts.get_sop_prediction(spec, first, second)
        st.plotly_chart(plots_anatomy.sop_bars(prediction), key="anatomy_sop")
        verdict = "prefers the true order" if prediction.correct else "does not tell the two orders apart here"
        st.caption(f"{plain(loaded.spec.label)}'s SOP head {verdict}: p(in order) = {prediction.in_order_given_ab:.1%} "
                   f"for A then B, {prediction.in_order_given_ba:.1%} for B then A.")
        if spec.source == "bundled" and (accuracy := anatomy.bundled_sop_accuracy()) is not None:
            st.caption(f"After its short CPU pretraining the bundled model gets {accuracy:.0%} of held-out SOP "
                       "pairs right (50% is chance); the paper's ALBERT trained for 125k steps at batch 4096.")
    else:
        st.info(f"{plain(loaded.spec.label)} has no sentence-order head (it was saved without `sop_classifier`); "
                "the bundled ALBERT-tiny has one.")

with misconceptions:
    st.caption("What a widely shared article says about ALBERT, and what the paper and the code say.")
    st.dataframe({"the article says": [claim for claim, _ in anatomy.MISCONCEPTIONS],
                  "the truth": [truth for _, truth in anatomy.MISCONCEPTIONS]}, hide_index=True)
