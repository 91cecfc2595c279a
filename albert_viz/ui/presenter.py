"""Presenter mode: a lesson one step per screen, large type, one figure, the step number in the URL.

The URL carries `?lesson=<file name>&step=<n>` (n from 1), so a teacher can bookmark a step, reload
without losing the place, and send every student the very same screen.
"""
from __future__ import annotations

import streamlit as st

from albert_viz.analysis import anatomy, attention, walkthrough

from albert_viz.figures import anatomy_charts, attention_maps, layernorm_charts

from albert_viz.analysis.layernorm import layer_norm_stats
from albert_viz.teaching import lessons, quiz
from albert_viz.teaching.lessons import Lesson, LessonStep
from albert_viz.ui import attention_modes, figures, finetune_panel, model_facts, projector, timeline_panel, widgets
from albert_viz.ui import quiz as quiz_cards
from albert_viz.ui.text import plain

# Large type for the back of the room; applies to this page's narration and step title only.
PRESENTER_CSS = """
<style>
.st-key-present_narration p { font-size: 1.55rem; line-height: 1.5; }
.st-key-present_title h2 { font-size: 2.4rem; }
.st-key-present_view [class*='st-key-quiz_card'] p { font-size: 1.3rem; }
</style>
"""


def lesson_from_url() -> Lesson | None:
    """The lesson the URL names, or None (with a note when the name is unknown)."""
    requested = st.query_params.get("lesson")
    if not requested:
        return None
    available, _ = lessons.available_lessons()
    found = next((lesson for lesson in available if lesson.name == requested), None)
    if found is None:
        st.warning(plain(f"There is no lesson called “{requested[:80]}” here; choose one below."))
    return found


def lesson_list() -> None:
    """Every lesson with a Present button, and a message naming the line of every broken lesson file."""
    available, problems = lessons.available_lessons()
    for problem in problems:
        st.error(plain(f"A lesson file has a problem and is not listed: {problem}"))
    for lesson in available:
        with st.container(border=True):
            st.subheader(plain(lesson.title))
            st.write(plain(lesson.description))
            st.button(f"Present ({len(lesson.steps)} steps)", key=f"present_{lesson.name}", type="primary",
                      on_click=_start, args=(lesson.name,))
    st.caption("Lessons are YAML files in `assets/lessons/`: copy one, edit it in a text editor, reload this page.")


def _start(lesson_name: str) -> None:
    """Present a lesson from its first step, in the projector layout (the sidebar toggle turns it off)."""
    projector.turn_on()
    _go_to(lesson_name, 1)


def _go_to(lesson_name: str | None, step: int) -> None:
    """Move to a step (1-based); None leaves the lesson."""
    if lesson_name is None:  # the lesson's own parameters only: a bound widget's (the projector toggle) stays
        for name in ("lesson", "step"):
            st.query_params.pop(name, None)
        return
    st.query_params["lesson"] = lesson_name
    st.query_params["step"] = str(step)


def present(lesson: Lesson, in_class: bool = False) -> int:
    """One step: title, narration, the one figure, and the buttons (arrow keys work too). Returns its 0-based index.

    in_class: a live class's teacher; the lesson list button is left out (the class stays on this lesson)."""
    index = lessons.step_index(st.query_params.get("step"), lesson)
    st.query_params["step"] = str(index + 1)  # a clamped or missing step shows in the URL as it really is
    _navigation(lesson, index, leave=not in_class)  # on top, so the buttons stay put whatever the figure measures
    show_step(lesson, index, in_class)
    return index


def show_step(lesson: Lesson, index: int, in_class: bool = False) -> None:
    """A step as the projector shows it, without the buttons (a live class's students see exactly this).

    in_class: a `quiz` step's question is asked by the live class panel, not by a card of this browser's own."""
    step = lesson.steps[index]
    st.markdown(PRESENTER_CSS, unsafe_allow_html=True)  # a constant: no user text goes through here
    st.caption(plain(lesson.title))
    with st.container(key="present_title"):
        st.header(plain(step.title))
    if step.narration:
        with st.container(key="present_narration"):
            st.markdown(plain(step.narration))
    if in_class and step.view == "quiz":
        return
    with st.container(key="present_view"):  # the step's one figure (the projector test finds it by this key)
        show_view(step)


def _navigation(lesson: Lesson, index: int, leave: bool = True) -> None:
    back, where, forward, exit_column = st.columns([2, 3, 2, 2])
    back.button("◀ Previous", disabled=index == 0, on_click=_go_to, args=(lesson.name, index), shortcut="Left",
                key="present_previous", width="stretch")
    where.progress((index + 1) / len(lesson.steps), text=f"Step {index + 1} of {len(lesson.steps)} · ← → keys")
    forward.button("Next ▶", disabled=index + 1 == len(lesson.steps), on_click=_go_to,
                   args=(lesson.name, index + 2), shortcut="Right", key="present_next", type="primary",
                   width="stretch")
    if leave:
        exit_column.button("All lessons", on_click=_go_to, args=(None, 0), key="present_exit", width="stretch")


def show_view(step: LessonStep) -> None:
    """Draw the one figure a step asks for."""
    if step.view == "text":
        return
    if step.view == "toy":
        _toy(step)
    elif step.view == "parameters":
        _parameters(step)
    elif step.view == "quiz":
        _quiz(step)
    elif step.view == "timeline":  # this browser's own fine-tuning job, never another student's data
        timeline_panel.lesson_view(finetune_panel.current_job_id())
    elif step.view == "page":
        st.page_link(step.get("page"), label=step.get("label") or "Open the page", icon=":material/open_in_new:")
    else:
        _model_view(step)


def _parameters(step: LessonStep) -> None:
    """Every configuration's parameters stacked by component, or the loaded model's own embedding arithmetic."""
    if step.get("show", "stack") == "stack":
        counts = model_facts.get_parameter_table(widgets.current_spec())
        figures.show(anatomy_charts.parameter_stack(counts, log=True),
                     "present_parameters", "lesson_parameters", with_csv=False)
        return
    loaded = widgets.current_model()
    if loaded is None:
        return
    config = loaded.config  # V, E, H of the model on screen, not of a table
    factors = anatomy.Factorization(config.vocab_size, config.embedding_size, config.hidden_size)
    st.caption(plain(f"{loaded.spec.label}: V = {factors.vocab:,} vocabulary pieces, E = {factors.embedding}, "
                     f"H = {factors.hidden}. V·H = {factors.unfactorized:,}; V·E + E·H = {factors.factorized:,}."))
    figures.show(anatomy_charts.factorization_bars(factors), "present_factorization", "lesson_embedding_factorization",
                 with_csv=False)


def _quiz(step: LessonStep) -> None:
    """A *Predict, then reveal* card built from the loaded model; after the answer, the numbers behind it."""
    loaded = widgets.current_model()
    if loaded is None:
        return
    try:
        question = quiz.question_for_step(step, loaded)
    except quiz.QuestionError as error:
        st.info(plain(str(error)))  # may quote the lesson's sentence
        return
    reveal = (lambda: _quiz_heatmap(step)) if question.kind == "attention" else None
    quiz_cards.card(question, f"lesson_{question.kind}", "lesson", reveal=reveal, unit=quiz.UNITS[question.kind],
                    horizontal=True)


def _quiz_heatmap(step: LessonStep) -> None:
    """After an attention question: the head it asked about, on the question's sentence."""
    capture = model_facts.capture_or_message(step.get("sentence", ""), step.get("pair") or None)
    if capture is None:
        return
    layer = _clamped(step.get("layer", 0), capture.num_layers, "layer")
    head = _clamped(step.get("head", 0), capture.num_heads, "head")
    figures.show(attention_maps.attention_heatmap(capture.attentions[layer, head], capture.tokens,
                                                  f"Layer {layer}, head {head}"),
                 "present_quiz_heatmap", f"lesson_quiz_layer{layer}_head{head}", with_csv=False)


def _toy(step: LessonStep) -> None:
    preset = walkthrough.TOY_PRESETS[step.get("preset", "article")]()
    result = walkthrough.toy_attention(preset.x, preset.w_q, preset.w_k, preset.w_v, tokens=walkthrough.TOY_TOKENS)
    show = step.get("show", "weights")
    if show == "weights":
        toy_map = attention_maps.attention_heatmap(result.weights, result.tokens, "A = softmax(QKᵀ / √d_k), row by row")
        figures.show(toy_map, "present_toy", "lesson_toy_attention", with_csv=False)
        return
    formulas = {
        "scores": rf"QK^\top = {walkthrough.latex_matrix(result.scores)}",
        "scaled": rf"\frac{{QK^\top}}{{\sqrt{{{result.d_k}}}}} = {walkthrough.latex_matrix(result.scaled)}",
        "output": rf"O = AV = {walkthrough.latex_matrix(result.output)}",
    }
    st.latex(formulas[show])


def _model_view(step: LessonStep) -> None:
    """Views that need the loaded model: tokens, one attention map, the heads of a layer, the overview, LayerNorm,
    sharing."""
    if widgets.current_model() is None:
        return
    capture = model_facts.capture_or_message(step.get("sentence", ""), step.get("pair") or None)
    if capture is None:
        return
    layer = _clamped(step.get("layer", 0), capture.num_layers, "layer")
    if step.view == "tokens":
        st.dataframe({"position": list(range(capture.num_tokens)), "token": list(capture.tokens),
                      "id": capture.token_ids.tolist()}, hide_index=True)
    elif step.view == "attention":
        head = _clamped(step.get("head", 0), capture.num_heads, "head")
        matrix, title = _attention_map(capture, layer, head, step.get("map", "head"))
        sizes = step.get("map") == "norm"  # lengths, not shares of 1: the map's own scale, as on the attention page
        figure = attention_maps.attention_heatmap(matrix, capture.tokens, title,
                                                  zmax=None if sizes else attention_maps.FULL_SCALE,
                                                  colour_title="size of<br>what moves" if sizes else None)
        figures.show(figure, "present_attention", "lesson_attention", with_csv=False)
    elif step.view == "heads":
        figures.show(attention_maps.heads_grid(capture.attentions[layer], capture.tokens,
                                               f"Layer {layer}: all {capture.num_heads} heads"),
                     "present_heads", "lesson_all_heads", with_csv=False)
    elif step.view == "overview":
        figures.show(attention_maps.head_overview(attention.head_statistics(capture), "What each head mostly looks at"),
                     "present_overview", "lesson_head_patterns", with_csv=False)
    elif step.view == "layernorm":
        stats = layer_norm_stats(capture)
        hidden = [i for i, site in enumerate(stats.sites) if site != "embeddings"]
        figures.show(layernorm_charts.stats_lines(stats, capture.tokens, hidden,
                                                  "Mean and spread going into and out of each LayerNorm"),
                     "present_layernorm", "lesson_layernorm", with_csv=False)
    elif step.view == "sharing":
        loaded = widgets.current_model()
        figures.show(anatomy_charts.layer_change(anatomy.sharing(loaded, capture)),
                     "present_sharing", "lesson_cross_layer_sharing", with_csv=False)


def _attention_map(capture, layer: int, head: int, kind: str):
    if kind == "mean":
        return attention.head_mean(capture.attentions)[layer], f"Layer {layer}: mean over heads"
    if kind == "rollout":
        return attention.rollout(capture.attentions)[layer], f"Rollout up to layer {layer}"
    if kind == "norm":  # Kobayashi et al. 2020: lengths, not shares; the attention page's own cached computation
        norms = attention_modes.norm_weighted(capture)
        return norms.weights[layer, head], f"Layer {layer}, head {head}: norm-weighted ‖α·f(x)‖"
    return capture.attentions[layer, head], f"Layer {layer}, head {head}"


def _clamped(value: int, count: int, what: str) -> int:
    """A lesson written for a bigger model still shows something: the last layer/head, with a note."""
    if value < count:
        return value
    st.info(f"This lesson asks for {what} {value}, but the loaded model has {count} {what}s (0 to {count - 1}); "
            f"showing {what} {count - 1}.")
    return count - 1
