"""Streamlit pieces of the worked-examples page: classroom presets, the toy on the board, the real model, MLM and SOP."""
from __future__ import annotations


import numpy as np
import pandas as pd
import streamlit as st

from albert_viz.analysis import anatomy, walkthrough

from albert_viz.figures import attention_maps

from albert_viz.analysis.walkthrough import WalkthroughError
from albert_viz.model.capture import Capture
from albert_viz.model.loading import LoadedModel
from albert_viz.model.text_limits import SEGMENT_CHARS, WORD_CHARS
from albert_viz.teaching import article, glossary
from albert_viz.ui import figures, state, widgets
from albert_viz.ui.text import plain
from albert_viz.ui.token_picker import labelled_selectbox

MODES = {"toy": "On the board (toy numbers)", "real": "In the real model", "pretraining": "Pretraining tasks"}
TOY_LABELS = {
    "article": "The article's example", "identity": "Identity projections", "random": "Random, with a seed",
    "previous": "Attend to the previous token", "sep": "Everyone attends to [SEP]",
}
# Session keys of this page's inputs, kept outside the widgets so they survive mode and page switches.
MODE, TOY_PRESET, TOY_SEED, TOY_RESETS = "wk_mode", "wk_toy_preset", "wk_toy_seed", "wk_toy_resets"
MASK_WORD, SOP_FIRST, SOP_SECOND = "wk_mask_word", "wk_sop_first", "wk_sop_second"

CLASSROOM_PRESETS = {
    "I love programming": dict(sentence="I love programming", pair="", toy="article", mask="love",
                               sop=("I love programming.", "That is why I write code every day.")),
    "The animal didn't cross the street…": dict(
        sentence="The animal didn't cross the street because it was too tired", pair="", toy="previous",
        mask="it", sop=("The animal didn't cross the street.", "It was too tired.")),
    "A sentence pair": dict(sentence="The cat sat on the mat.", pair="Then it fell asleep.", toy="sep",
                            mask="on", sop=("The cat sat on the mat.", "Then it fell asleep.")),
}
DEFAULT_PRESET = CLASSROOM_PRESETS["I love programming"]


# ---------------------------------------------------------------------------------------------
# Inputs that persist, and the presets that fill them
# ---------------------------------------------------------------------------------------------

def _remember(widget_key: str, store_key: str) -> None:
    st.session_state[store_key] = st.session_state[widget_key]


def _kept(store_key: str, default) -> dict:
    """Widget keyword arguments that keep its value under store_key (widget state alone dies with the widget)."""
    widget_key = f"_widget_{store_key}"
    st.session_state[widget_key] = st.session_state.setdefault(store_key, default)
    return dict(key=widget_key, on_change=_remember, args=(widget_key, store_key))


def _apply_preset(name: str) -> None:
    """Fill every input of the page from a classroom preset (runs before the page draws its widgets)."""
    preset = CLASSROOM_PRESETS[name]
    st.session_state[state.SENTENCE] = preset["sentence"]
    st.session_state[state.SENTENCE_PAIR] = preset["pair"]
    st.session_state[TOY_PRESET] = preset["toy"]
    st.session_state[TOY_SEED] = 0
    st.session_state[TOY_RESETS] = st.session_state.get(TOY_RESETS, 0) + 1  # discard edits in the toy tables
    st.session_state[MASK_WORD] = preset["mask"]
    st.session_state[SOP_FIRST], st.session_state[SOP_SECOND] = preset["sop"]


def classroom_presets() -> None:
    """One button per classroom preset."""
    st.write("**Classroom presets** fill every input on this page:")
    for column, name in zip(st.columns(len(CLASSROOM_PRESETS)), CLASSROOM_PRESETS):
        column.button(name, on_click=_apply_preset, args=(name,), width="stretch", key=f"wk_preset_{name}")


def mode_selector() -> str:
    return st.radio("Mode", list(MODES), format_func=MODES.get, horizontal=True, label_visibility="collapsed",
                    **_kept(MODE, "toy"))


# ---------------------------------------------------------------------------------------------
# Toy mode
# ---------------------------------------------------------------------------------------------

FORMULAS = [
    r"Q = X W_Q,\quad K = X W_K,\quad V = X W_V"
    r"\qquad \text{(row } i \text{ of } Q \text{ is } q_i\text{, the query of token } i\text{)}",
    r"s_{ij} = \frac{q_i \cdot k_j}{\sqrt{d_k}} \qquad \text{query } i \text{, key } j",
    r"a_{ij} = \frac{\exp(s_{ij})}{\sum_{l} \exp(s_{il})}"
    r"\qquad \text{normalised over the keys } j\text{: } \sum_j a_{ij} = 1",
    r"o_i = \sum_j a_{ij}\, v_j \qquad\text{i.e. } O = A V",
]


def _toy_preset() -> walkthrough.ToyPreset:
    left, right = st.columns([3, 1])
    with left:
        choice = st.selectbox("Start from", list(TOY_LABELS), format_func=TOY_LABELS.get,
                              **_kept(TOY_PRESET, "article"))
    with right:
        seed = st.number_input("Seed", 0, 1_000_000, step=1, disabled=choice != "random", **_kept(TOY_SEED, 0))
    return walkthrough.random_preset(int(seed)) if choice == "random" else walkthrough.TOY_PRESETS[choice]()


def _edit(label: str, matrix: np.ndarray, rows: list[str], columns: list[str], key: str) -> np.ndarray:
    st.markdown(label)
    table = pd.DataFrame(matrix, index=rows, columns=columns)
    edited = st.data_editor(table, key=key, num_rows="fixed", width="stretch")
    return edited.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)  # empty cells -> NaN -> a message


def _toy_inputs(preset: walkthrough.ToyPreset) -> tuple[np.ndarray, ...]:
    """Editable X, W_Q, W_K, W_V; a new preset, seed or reset gives fresh tables."""
    version = f"{preset.name}-{st.session_state.get(TOY_RESETS, 0)}"
    dims = [f"d{d + 1}" for d in range(preset.x.shape[1])]
    outs = [f"c{d + 1}" for d in range(preset.w_q.shape[1])]
    top, bottom = st.columns(2), st.columns(2)
    with top[0]:
        x = _edit("**X** (one row per token)", preset.x, list(walkthrough.TOY_TOKENS), dims, f"wk_x_{version}")
    with top[1]:
        w_q = _edit("**W_Q**", preset.w_q, dims, outs, f"wk_wq_{version}")
    with bottom[0]:
        w_k = _edit("**W_K**", preset.w_k, dims, outs, f"wk_wk_{version}")
    with bottom[1]:
        w_v = _edit("**W_V**", preset.w_v, dims, [f"c{d + 1}" for d in range(preset.w_v.shape[1])], f"wk_wv_{version}")
    return x, w_q, w_k, w_v


def _reset_toy() -> None:
    st.session_state[TOY_RESETS] = st.session_state.get(TOY_RESETS, 0) + 1


def toy_mode() -> None:
    """The article's example on the board, editable, every step shown."""
    st.subheader("Self-attention on the board")
    st.caption("Rows are tokens: `[CLS] i love programming [SEP]`. Edit any cell and every step below updates.")
    preset = _toy_preset()
    description = st.empty()  # filled once the tables are read: after an edit it says what the edits give
    inputs = _toy_inputs(preset)
    st.button("Undo my edits", on_click=_reset_toy)
    try:
        result = walkthrough.toy_attention(*inputs, tokens=walkthrough.TOY_TOKENS)
    except WalkthroughError as error:
        description.warning(str(error))
        return
    description.caption(walkthrough.describe_toy(preset, result))
    _toy_steps(result)
    if preset.name == walkthrough.article_preset().name:
        _article_corrections(result)


def _toy_steps(result: walkthrough.ToyAttention) -> None:
    st.markdown("#### The formulas")
    for formula in FORMULAS:
        st.latex(formula)
    st.markdown("#### Step by step")
    st.latex(rf"Q = XW_Q = {walkthrough.latex_matrix(result.q)},\; K = XW_K = {walkthrough.latex_matrix(result.k)}")
    st.latex(rf"V = XW_V = {walkthrough.latex_matrix(result.v)}")
    st.latex(rf"QK^\top = {walkthrough.latex_matrix(result.scores)}")
    st.latex(rf"\frac{{QK^\top}}{{\sqrt{{d_k}}}} = \frac{{QK^\top}}{{\sqrt{{{result.d_k}}}}} = "
             rf"{walkthrough.latex_matrix(result.scaled)}")
    st.latex(rf"A = \mathrm{{softmax}}_{{j}}\!\left(\frac{{QK^\top}}{{\sqrt{{d_k}}}}\right) = "
             rf"{walkthrough.latex_matrix(result.weights)}")
    st.latex(rf"O = AV = {walkthrough.latex_matrix(result.output)}")
    toy_map = attention_maps.attention_heatmap(result.weights, result.tokens, "A: query i (rows) over keys j (columns)")
    figures.show(toy_map, "wk_toy_heatmap", "worked_example_toy_attention")
    _one_row_in_full(result)


def _one_row_in_full(result: walkthrough.ToyAttention) -> None:
    """One query's softmax with every term written out: what a student checks with a calculator."""
    with st.expander("One row in full, digit by digit"):
        i = labelled_selectbox("Query token", range(len(result.tokens)), result.tokens, key="wk_toy_row")
        exponentials = np.exp(result.scaled[i])  # [key]
        st.dataframe(pd.DataFrame({
            "key j": result.tokens, "q_i · k_j": result.scores[i], "s_ij = q_i · k_j / √d_k": result.scaled[i],
            "exp(s_ij)": exponentials, "a_ij = exp(s_ij) / Σ": result.weights[i],
        }).style.format(precision=10), hide_index=True)
        st.write(f"Σ_l exp(s_il) = {exponentials.sum():.10f}; the weights sum to {result.weights[i].sum():.10f}.")


def _article_corrections(result: walkthrough.ToyAttention) -> None:
    st.markdown("#### What the article assumed, and why it cannot happen")
    example = article.claim("worked example")
    st.caption(f"The article is {article.SOURCE}. Its section {example.section} works this example and then "
               f"writes “suppose the attention scores are” ({example.original}) and prints these weights, "
               "skipping rows 3 and 4:")
    assumed = pd.DataFrame(walkthrough.ARTICLE_ASSUMED_WEIGHTS, index=list(walkthrough.ARTICLE_ROW_LABELS),
                           columns=[f"j={j + 1}" for j in range(5)])
    st.dataframe(assumed, width="content")
    for reason in walkthrough.article_corrections(result):
        st.markdown(f"- {reason}")


# ---------------------------------------------------------------------------------------------
# Real mode
# ---------------------------------------------------------------------------------------------

def _check(label: str, difference: float, tolerance: float = walkthrough.FLOAT32_TOLERANCE) -> None:
    message = f"{label}: largest |by hand − model| = {difference:.2e}"
    if difference < tolerance:
        st.success(f"{message} (below {tolerance:g}): matches the model.")
    else:
        st.error(f"{message}: above {tolerance:g}, the hand computation does not match the model.")


# Tables of every token pair stop here: a long text's pairs are for the heatmap, not for reading cell by cell.
SCORE_TABLE_TOKENS = 32


def _table(matrix: np.ndarray, rows, columns: int, prefix: str) -> None:
    """The first `columns` dimensions of a [row, dim] matrix, rows labelled."""
    shown = np.atleast_2d(matrix)[:, :columns]  # [row, shown dim]
    st.dataframe(pd.DataFrame(shown, index=list(rows), columns=[f"{prefix}{d}" for d in range(shown.shape[1])])
                 .style.format(precision=5))


def _token_labels(tokens) -> list[str]:
    return [f"{p}: {t}" for p, t in enumerate(tokens)]  # positions keep repeated tokens distinct


def real_mode(loaded: LoadedModel, capture: Capture, layer: int, head: int) -> None:
    """One head recomputed by hand and checked, then the rest of the layer."""
    left, right = st.columns(2)
    precision = left.radio("Compute in", list(walkthrough.PRECISIONS), horizontal=True, key="wk_precision",
                           help="The model runs in float32; float64 shows how far float32 rounding moves the result.")
    shown = right.slider("Dimensions to show", 1, 16, 4, key="wk_dims")
    try:
        walk = walkthrough.head_walkthrough(loaded, capture, layer, head, precision)
        layer_walk = walkthrough.layer_walkthrough(loaded, capture, layer, precision)
    except WalkthroughError as error:
        st.warning(str(error))
        return
    _layer_input(loaded, capture, walk, shown, precision)
    _head_steps(walk, shown)
    _layer_steps(layer_walk, shown, capture.tokens)


def _layer_input(loaded, capture, walk: walkthrough.HeadWalkthrough, shown: int, precision: str) -> None:
    rows = _token_labels(walk.tokens)
    st.markdown(f"#### 1 · The input of layer {walk.layer}")
    config = loaded.config
    if config.num_hidden_groups > 1 or config.inner_group_num > 1:
        st.caption(f"Depth {walk.layer} runs shared layer {walk.inner_index} of hidden group {walk.group}.")
    if walk.layer == 0:
        embedding = walkthrough.embedding_walkthrough(loaded, capture, precision)
        st.write(f"Layer 0 reads the embeddings (word + position + token type, LayerNorm at E = "
                 f"{embedding.embedding_output.shape[1]}) lifted to H = {embedding.projected.shape[1]} by "
                 "`embedding_hidden_mapping_in`: x = e W_map + b_map.")
        st.caption(glossary.caption("embedding_hidden_mapping_in"))
        _table(embedding.embedding_output, rows, shown, "e")
        _check("Projected embeddings vs hidden_states[0]", embedding.max_abs_diff)
    else:
        st.write(f"Layer {walk.layer} reads the output of layer {walk.layer - 1}.")
    st.markdown(f"**x**, the layer's input (hidden_states[{walk.layer}]), first {shown} of "
                f"{walk.layer_input.shape[1]} dims:", help=glossary.explain("hidden_states"))
    _table(walk.layer_input, rows, shown, "x")


def _head_steps(walk: walkthrough.HeadWalkthrough, shown: int) -> None:
    rows = _token_labels(walk.tokens)
    st.markdown(f"#### 2 · Head {walk.head}'s slices of W_Q, W_K, W_V (d_k = {walk.d_k})")
    st.latex(rf"q_i = x_i W_Q^{{(h)}} + b_Q^{{(h)}},\quad W_Q^{{(h)}} = W_Q[:,\, {walk.head}\cdot{walk.d_k} : "
             rf"{walk.head + 1}\cdot{walk.d_k}]")
    for name, weight, bias in (("W_Q", walk.w_q, walk.b_q), ("W_K", walk.w_k, walk.b_k), ("W_V", walk.w_v, walk.b_v)):
        with st.expander(f"{name} slice, first {shown} rows × {shown} columns, and its bias"):
            _table(weight[:shown], [f"in {d}" for d in range(min(shown, weight.shape[0]))], shown, "out")
            _table(bias[None, :], ["bias"], shown, "out")
    st.markdown("#### 3 · Q, K, V")
    for column, (name, matrix) in zip(st.columns(3), (("Q", walk.q), ("K", walk.k), ("V", walk.v))):
        with column:
            st.write(f"**{name}** (first {shown} of {walk.d_k} dims)")
            _table(matrix, rows, shown, name.lower())
            st.download_button(f"Download all of {name} (CSV)", walkthrough.qkv_csv(walk, name),
                               file_name=f"layer{walk.layer}_head{walk.head}_{name}.csv", mime="text/csv",
                               key=f"wk_download_{name}")
    st.markdown("#### 4 · Scores, scaling, softmax")
    st.latex(rf"a_{{ij}} = \mathrm{{softmax}}_j\!\left(\frac{{q_i \cdot k_j}}{{\sqrt{{{walk.d_k}}}}}\right),"
             rf"\quad \sqrt{{{walk.d_k}}} = {np.sqrt(walk.d_k):.6f}")
    tabs = st.tabs(["q_i · k_j", f"÷ √{walk.d_k}", "softmax", "the model's own"])
    n = min(len(rows), SCORE_TABLE_TOKENS)  # [token, token] tables: 4 × 512² styled cells took ~11 s per run
    for tab, matrix in zip(tabs, (walk.scores, walk.scaled, walk.weights, walk.model_weights)):
        with tab:
            if n < len(rows):
                st.caption(f"The first {n} of {len(rows)} tokens; the map below shows them all.")
            st.dataframe(pd.DataFrame(matrix[:n, :n], index=rows[:n], columns=rows[:n]).style.format(precision=6))
    figures.show(attention_maps.attention_heatmap(walk.weights, walk.tokens,
                                                  f"Layer {walk.layer}, head {walk.head}, recomputed by hand"),
                 "wk_real_heatmap", f"worked_example_layer{walk.layer}_head{walk.head}")
    _one_score_in_full(walk)
    _check(f"Attention of layer {walk.layer}, head {walk.head} ({walk.precision})", walk.max_abs_diff)


def _one_score_in_full(walk: walkthrough.HeadWalkthrough) -> None:
    """One dot product with all d_k terms: the number a student can add up and find in the table above."""
    with st.expander("One score in full: q_i · k_j term by term"):
        labels = _token_labels(walk.tokens)
        left, right = st.columns(2)
        with left:
            i = labelled_selectbox("Query i", range(len(labels)), labels, key="wk_score_query")
        with right:
            j = labelled_selectbox("Key j", range(len(labels)), labels, key="wk_score_key")
        terms = walk.score_terms(i, j)
        st.dataframe(pd.DataFrame({"q_id": walk.q[i], "k_jd": walk.k[j], "q_id · k_jd": terms})
                     .style.format(precision=8))
        st.write(f"Σ_d q_id · k_jd = {terms.sum():.8f} (table: {walk.scores[i, j]:.8f}); "
                 f"÷ √{walk.d_k} = {walk.scaled[i, j]:.8f}; after the softmax over row i: a_ij = "
                 f"{walk.weights[i, j]:.8f}; the model's own a_ij = {walk.model_weights[i, j]:.8f}.")


def _layer_steps(walk: walkthrough.LayerWalkthrough, shown: int, tokens) -> None:
    rows = _token_labels(tokens)
    st.markdown(f"#### 5 · The rest of layer {walk.layer}")
    steps = [
        ("All heads concatenated: [o⁽⁰⁾ | o⁽¹⁾ | …]", walk.heads_concatenated),
        ("Output projection: dense(concat)", walk.projected),
        ("Residual: x + dense(concat)", walk.attention_residual),
        ("Attention LayerNorm", walk.attention_normed),
        (f"Feed-forward: ffn, then {walk.activation}", walk.ffn_activated),
        ("ffn_output, back to H", walk.ffn_output),
        ("Residual: LN output + ffn_output", walk.ffn_residual),
        ("Full-layer LayerNorm = the layer's output", walk.output),
        (f"The model's hidden_states[{walk.layer + 1}]", walk.model_output),
    ]
    for label, matrix in steps:
        with st.expander(label):
            _table(matrix, rows, shown, "h")
    _check(f"All heads of layer {walk.layer}", walk.max_attention_diff)
    _check(f"Layer {walk.layer}'s output vs hidden_states[{walk.layer + 1}] ({walk.precision})", walk.max_abs_diff)


# ---------------------------------------------------------------------------------------------
# Pretraining tasks
# ---------------------------------------------------------------------------------------------

def masked_word(loaded: LoadedModel, text: str) -> None:
    """MLM: mask a word and show the head's guesses."""
    st.subheader("Masked language model (MLM)")
    if not loaded.has_mlm_head:
        st.info("This model has no MLM head (it was saved without its pretraining heads). "
                "The bundled ALBERT-tiny and the official albert/albert-*-v2 checkpoints have one.")
        return
    left, right = st.columns([3, 1])
    word = widgets.limited_text_input(left, "Word to mask", WORD_CHARS, help=f"Or leave empty and write "
                                      f"{loaded.tokenizer.mask_token} in the sentence.",
                                      **_kept(MASK_WORD, DEFAULT_PRESET["mask"]))
    top_k = right.slider("Guesses", 3, 20, 10, key="wk_top_k")
    try:
        result = walkthrough.masked_word_predictions(loaded, text, word, top_k)
    except WalkthroughError as error:
        st.info(plain(str(error)))  # may quote the word the user typed
        return
    st.write("The model reads: " + plain(" ".join(result.tokens)))
    if glossary.splits_words(result.tokens, text):
        st.caption(glossary.explain("word pieces"))
    if len(result.predictions) > 1:
        st.caption("Each [MASK] is predicted on its own, from the same input: the guesses do not see each other.")
    how_often = _how_often(loaded, "mlm_top1", "of held-out masked words right on its first guess")
    for prediction in result.predictions:
        _prediction_table(prediction, how_often)


def _prediction_table(prediction: walkthrough.MaskPrediction, how_often: str) -> None:
    if (verdict := walkthrough.mask_verdict(prediction)) is not None:
        shown = st.success if prediction.original_rank == 1 else st.warning
        shown(plain(f"Position {prediction.position}. {verdict}") + how_often)
    table = pd.DataFrame({"guess": prediction.candidates, "probability": prediction.probabilities})
    st.dataframe(table, hide_index=True, column_config={"probability": st.column_config.ProgressColumn(
        "probability", format="%.4f", min_value=0.0, max_value=1.0)}, key=f"wk_mlm_{prediction.position}")


def sentence_order(loaded: LoadedModel) -> None:
    """SOP: the same two sentences in both orders."""
    st.subheader("Sentence-order prediction (SOP)")
    if not loaded.has_sop_head:
        st.info("This model has no SOP head (it was saved without its pretraining heads). "
                "The bundled ALBERT-tiny and the official albert/albert-*-v2 checkpoints have one.")
        return
    st.caption("ALBERT's second pretraining task: were these two segments given in their original order? "
               "Positive examples are consecutive segments in order; negatives are the same two swapped.")
    left, right = st.columns(2)
    first = widgets.limited_text_input(left, "Segment A", SEGMENT_CHARS,
                                       **_kept(SOP_FIRST, DEFAULT_PRESET["sop"][0]))
    second = widgets.limited_text_input(right, "Segment B", SEGMENT_CHARS,
                                        **_kept(SOP_SECOND, DEFAULT_PRESET["sop"][1]))
    try:
        result = walkthrough.sentence_order(loaded, first, second)
    except WalkthroughError as error:
        st.info(plain(str(error)))  # may quote the word the user typed
        return
    table = pd.DataFrame([result.given_order, result.swapped_order], index=["A then B", "B then A"],
                         columns=["P(in order)", "P(swapped)"])
    st.dataframe(table.style.format("{:.4f}"))
    verdict = walkthrough.sop_verdict(float(result.given_order[0]), float(result.swapped_order[0]))
    right = result.given_order[0] > 0.5 > result.swapped_order[0]
    (st.success if right else st.warning)(f"Taking A then B as the true order, the model {verdict}"
                                          + _how_often(loaded, "sop_acc", "of held-out pairs in the right order"))




def _how_often(loaded: LoadedModel, score: str, what: str) -> str:
    """' The bundled model gets 29% of …' from its training summary, with what full-size ALBERTs had; '' otherwise."""
    value = anatomy.bundled_heldout_score(score) if loaded.spec.source == "bundled" else None
    if value is None:
        return ""
    return (f" This small model gets {value:.0%} {what}; full-size ALBERTs were trained for 125,000 steps on "
            "batches of 4,096 sequences: load albert/albert-base-v2 in the sidebar, where there is internet, "
            "to compare.")
