"""Attention: one head, a whole layer, every layer × head, averages and rollout, bertviz."""
import streamlit as st

from albert_viz.ui import (  # first: on a fresh server it reroutes via app.py before torch loads
    ablation_panel, attention_modes, bertviz_panel, figures, live_class_panel, projector, quiz, tokens_panel, widgets,
)
from albert_viz.analysis import attention  # noqa: I001
from albert_viz.figures import attention_maps, common, exports
from albert_viz.teaching import glossary
from albert_viz.model.capture import Capture

st.title("Attention")
st.caption("Row i of a map is query token i; it spreads a total weight of 1 over the key tokens j: "
           "a_ij = softmax_j(q_i · k_j / √d_k).")

text, text_pair = widgets.sentence_inputs(with_pair=True)
capture = widgets.capture_or_stop(text, text_pair)
widgets.limits_caption(capture)
live_class_panel.send_from_attention(capture.text)  # a student in a live class: offer this sentence to the teacher


def _select_clicked_head() -> None:
    if (head := attention_maps.clicked_head(st.session_state["one_layer"].selection)) is not None:
        st.session_state["head"] = head


@st.fragment  # moving a slider redraws these views only; the sentence and the capture above stay as they are
def attention_views(capture: Capture) -> None:
    sliders, switch = projector.control_row(5, 1)  # one row on a projector, stacked otherwise
    with sliders:
        layer, head = widgets.layer_head_selectors(capture)
    auto = switch.toggle("Auto-contrast", key="auto_contrast",
                         help="Off: colours run from 0 to 1 on every map, so maps compare and an even spread looks "
                              "pale. On: they run to the largest weight shown, to bring out faint patterns.")
    # Only the open tab is drawn (on_change="rerun" makes .open tell which): a slider move redraws one view.
    one_head, one_layer, overview, averages, bertviz, predict = st.tabs(
        ["One head", "All heads of a layer", "Layers × heads", "Head average & rollout", "bertviz",
         "Predict, then reveal"], key="attention_tab", on_change="rerun", bind="query-params")
    if one_head.open:
        with one_head:
            if view := attention_modes.chosen_view(capture, layer, head):
                figure = attention_maps.attention_heatmap(view.matrix, capture.tokens, view.title,
                                                          zmax=attention_maps.colour_max([view.matrix], auto or view.is_weight is False),
                                                          colour_title=None if view.is_weight else "size of<br>what moves")
                name = view.file_name
                buttons = figures.show(figure, "one_head", name,
                                       lambda: attention_maps.matrix_csv(view.matrix, capture.tokens))
                model = widgets.current_spec().label  # read here: the file is made later, off the script thread
                figures.html_button(lambda: exports.attention_view_html(
                    figure, title=view.title, sentence=capture.text, sentence_pair=capture.text_pair, model=model,
                    layer=layer, head=head, mode=view.mode, config=common.download_config(name)),
                    "one_head_html", name, where=buttons)
    if one_layer.open:
        with one_layer:
            st.caption("Click a map to select that head.")
            figures.show(attention_maps.heads_grid(capture.attentions[layer], capture.tokens,
                                                   f"Layer {layer}: all {capture.num_heads} heads", selected_head=head,
                                                   zmax=attention_maps.colour_max([capture.attentions[layer]], auto), clickable=True),
                         "one_layer", f"attention_layer{layer}_all_heads", on_select=_select_clicked_head,
                         selection_mode="points")
            if capture.num_tokens > attention_maps.MAX_CLICKABLE_TOKENS:  # the grid's hover has no weights: show them
                exact = capture.attentions[layer, head]
                figures.show(attention_maps.attention_heatmap(exact, capture.tokens,
                                                              f"Layer {layer}, head {head}: every weight",
                                                              zmax=attention_maps.colour_max([exact], auto)),
                             "one_layer_exact", f"attention_layer{layer}_head{head}",
                             lambda: attention_maps.matrix_csv(exact, capture.tokens))
    if overview.open:
        with overview:
            statistics = attention.head_statistics(capture)
            st.caption(attention_maps.overview_caption(statistics))
            figures.show(attention_maps.head_overview(statistics, "What each head mostly looks at"),
                         "overview", "attention_head_patterns", lambda: attention_maps.overview_csv(statistics))
    if averages.open:
        with averages:
            mean = attention.head_mean(capture.attentions)[layer]
            rollout = attention.rollout(capture.attentions)[layer]
            shared = attention_maps.colour_max([mean, rollout], auto)
            figures.show(attention_maps.attention_heatmap(mean, capture.tokens, f"Layer {layer}: mean over heads",
                                                          zmax=shared),
                         "head_mean", f"attention_layer{layer}_head_mean",
                         lambda: attention_maps.matrix_csv(mean, capture.tokens))
            st.caption("Rollout (Abnar & Zuidema 2020) follows attention through the residual path, layer by layer.",
                       help=glossary.explain("rollout") + " " + glossary.explain("residual path"))
            figures.show(attention_maps.attention_heatmap(rollout, capture.tokens, f"Rollout up to layer {layer}",
                                                          zmax=shared),
                         "rollout", f"attention_rollout_to_layer{layer}",
                         lambda: attention_maps.matrix_csv(rollout, capture.tokens))
    if bertviz.open:
        with bertviz:
            bertviz_panel.render(capture, layer, head)
    if predict.open:
        with predict:
            quiz.attention_quiz(capture, layer, head)


attention_views(capture)
ablation_panel.render(capture)
tokens_panel.pieces_expander(capture)  # below the maps: the first screen stays theirs
