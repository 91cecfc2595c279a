"""Anatomy: where ALBERT's parameters are, factorized embeddings, one layer shared across depth, SOP vs NSP."""
import streamlit as st

from albert_viz.analysis import anatomy

from albert_viz.figures import anatomy_charts

from albert_viz.model.text_limits import SEGMENT_CHARS
from albert_viz.teaching import article, glossary
from albert_viz.ui import figures, model_facts, token_picker, widgets
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
    st.markdown("**Sizes**")
    st.dataframe([count.size_row() for count in counts], hide_index=True, placeholder="—", column_config={
        "model": st.column_config.TextColumn(pinned=True),
        "paper (M)": st.column_config.NumberColumn(help="Lan et al. 2020, Table 1; — where the paper has no row "
                                                   "(ALBERT-tiny is this app's own model)."),
        "without sharing (M)": st.column_config.NumberColumn(help="The total if every depth had its own layer weights."),
        "V": st.column_config.NumberColumn(help="Vocabulary: how many different word pieces the model knows."),
        "vocabulary": st.column_config.TextColumn(width=210, help=glossary.explain("vocabulary")),
        "E": st.column_config.NumberColumn(help=glossary.explain("E")),
        "H": st.column_config.NumberColumn(help=glossary.explain("H")),
        "own weights": st.column_config.NumberColumn(help="How many layers have weights of their own; "
                                                     "the other depths reuse them."),
    })
    st.caption(anatomy.vocabulary_note(counts))
    st.markdown("**Parameters by component**")
    widths = {"token embeddings": 125, "position + type embeddings": 105, "embedding LayerNorm": 145,
              "E→H projection": 115, "transformer layers": 125, "pooler": 80, "total": 105}  # px: all fit in 980
    st.dataframe([count.component_row() for count in counts], hide_index=True, column_config={
        "model": st.column_config.TextColumn(pinned=True),
        **{name: st.column_config.NumberColumn(format="localized", width=width) for name, width in widths.items()},
        "position + type embeddings": st.column_config.NumberColumn(
            "position + type", format="localized", width=widths["position + type embeddings"],
            help="Position embeddings (where a token is) plus token-type embeddings (which segment it is in)."),
        "E→H projection": st.column_config.NumberColumn(format="localized", width=widths["E→H projection"],
                                                        help=glossary.explain("embedding_hidden_mapping_in")),
    })
    st.caption("Each model is built from its configuration on PyTorch's `meta` device (shapes, no weights) and its "
               "parameters counted, pooler included. The paper's Table 1 rounds, and for xxlarge it says 235M where "
               "the released configuration comes to 222.6M (the hub's model cards say 223M; for xlarge 58M).")
    log_scale = st.toggle("Logarithmic scale", key="anatomy_log")
    figures.show(anatomy_charts.parameter_stack(counts, log=log_scale), "anatomy_stack", "anatomy_parameter_stack")
    left, right = st.columns(2)
    figures.show(anatomy_charts.component_shares(counts), "anatomy_shares", "anatomy_component_shares", where=left)
    figures.show(anatomy_charts.sharing_savings(counts), "anatomy_savings", "anatomy_sharing_savings", where=right)

with factorized:
    albert_counts = {count.name: count for count in counts if count.embedding != count.hidden}
    chosen = st.selectbox("Model", list(albert_counts), key="anatomy_factor_model")
    factors = anatomy.factorization_of(albert_counts[chosen])
    figures.show(anatomy_charts.factorization_bars(factors), "anatomy_factor", "anatomy_embedding_factorization")
    st.markdown(f"With E = {factors.embedding}, every one of the {factors.vocab:,} vocabulary entries stores "
                f"{factors.embedding} numbers instead of {factors.hidden}; one {factors.embedding}×{factors.hidden} "
                f"matrix (the E→H projection) lifts them to H: **{factors.factorized:,}** weights instead "
                f"of **{factors.unfactorized:,}**.")
    st.subheader(f"One token of your sentence through the projection of {plain(loaded.spec.label)}")
    if capture is not None:
        position = token_picker.token_selectbox(capture, "anatomy_token")
        projected = anatomy.projection(loaded, capture, position)
        figures.show(anatomy_charts.projection_vectors(projected), "anatomy_projection", "anatomy_embedding_projection")
        st.caption(f"W·e + b computed here differs from the model's own embeddings entering layer 0 (hidden_states[0]) by at most "
                   f"{projected.max_abs_diff:.1e}.")

with sharing_tab:
    if capture is None:
        st.info("Type a sentence above to see the shared layer at work.")
    else:
        shared = anatomy.sharing(loaded, capture)
        columns = st.columns(3)
        columns[0].metric("Layer applications", len(shared.layer_modules))
        columns[1].metric("Distinct weight tensors", shared.distinct_weights,
                          help="How many different sets of layer weights served all the depths. "
                               + glossary.explain("shared group"))
        columns[2].metric("Parameters per layer", f"{shared.parameters_per_layer:,}")
        config = loaded.config
        st.dataframe({"layer": list(range(len(shared.layer_modules))),
                      "weights that ran": [glossary.shared_layer_name(module, config.num_hidden_groups,
                                                                      config.inner_group_num)
                                           for module in shared.layer_modules],
                      "same tensor as layer 0": ["yes" if same else "no" for same in shared.same_as_first]},
                     hide_index=True)
        st.caption("Which weights ran at each depth is read from hooks on the real forward pass. Same tensor: "
                   + glossary.explain("same tensor"))
        figures.show(anatomy_charts.layer_change(shared), "anatomy_change", "anatomy_layer_to_layer_change")
        st.caption("The right panel measures attention weights, not parameters: the parameters are the same tensor "
                   "at every depth (the table above); what changes is where the queries look. Attention change is "
                   "the total-variation distance between a layer's attention rows and the layer before's, mean over "
                   "heads and queries: " + glossary.explain("total-variation distance"))

with sop:
    first_default, second_default, source = anatomy.example_pair()
    first = widgets.limited_text_input(st, "Segment A", SEGMENT_CHARS, value=first_default, key="anatomy_sop_first")
    second = widgets.limited_text_input(st, "Segment B (follows A in the text)", SEGMENT_CHARS, value=second_default,
                                        key="anatomy_sop_second")
    st.caption(f"Default pair: {source}.")
    # A static table, shown whole: four rows, the key "swapped" one included, long segments wrapping in their cells.
    # st.table reads Markdown in cells: the segments are the user's text, shown as typed.
    objectives = anatomy.objective_examples(first, second)
    st.table({column: [plain(cell) for cell in cells] for column, cells in objectives.items()}, hide_index=True)
    if not (first.strip() and second.strip()):
        st.info("Type both segments to ask the model.")
    elif loaded.has_sop_head:
        prediction = model_facts.get_sop_prediction(spec, first, second)
        figures.show(anatomy_charts.sop_bars(prediction), "anatomy_sop", "anatomy_sentence_order_prediction")
        st.write(plain(loaded.spec.label) + f"'s SOP head {prediction.verdict}")  # the label may be a typed path
        if spec.source == "bundled" and (accuracy := anatomy.bundled_sop_accuracy()) is not None:
            st.caption(f"After its short CPU pretraining the bundled model gets {accuracy:.0%} of held-out SOP "
                       "pairs right (50% is chance); the paper's ALBERT trained for 125k steps at batch 4096.")
    else:
        st.info(f"{plain(loaded.spec.label)} has no sentence-order head (it was saved without `sop_classifier`); "
                "the bundled ALBERT-tiny has one.")

with misconceptions:
    st.caption(f"What {article.SOURCE} says about ALBERT, quoted and translated, and what the paper "
               "(Lan et al., ICLR 2020) and the code say.")
    for claim in article.CLAIMS:
        with st.container(border=True):
            said, truth = st.columns(2)
            said.markdown(f"**The article says** ({claim.section})")
            said.text(claim.quote)
            said.caption(f"Original: {claim.original}")
            truth.markdown("**What is true**")
            truth.text(claim.truth)
