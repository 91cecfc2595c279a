"""Quiz cards: the student commits to an answer first, then the model's answer (and its numbers) appear."""
from __future__ import annotations

from typing import Callable

import streamlit as st

from albert_viz.analysis import walkthrough

from albert_viz.figures import attention_maps

from albert_viz.analysis.walkthrough import WalkthroughError
from albert_viz.model.capture import Capture
from albert_viz.model.loading import LoadedModel
from albert_viz.teaching import quiz
from albert_viz.teaching.quiz import Question
from albert_viz.ui import figures, walkthrough_panel
from albert_viz.ui.text import plain

SCORE = "quiz_score"  # quiz name -> {"asked": n, "right": m}, for this browser session
ANSWERED = "quiz_answered"  # question key -> the choice the student committed to
# Each page has one quiz, and its cards count there only: the attention quiz's answers never show on Worked examples.
QUIZ_NAMES = {"attention": "the attention quiz", "pretraining": "the pretraining quiz",
              "lesson": "the lessons' questions"}


def _scores() -> dict[str, dict[str, int]]:
    return st.session_state.setdefault(SCORE, {})


def score_line(quiz_name: str) -> str:
    """What this page's quiz counts: the cards answered here in this session, and the session's total apart."""
    scores = _scores()
    here = scores.get(quiz_name, {"asked": 0, "right": 0})
    line = (f"Your score on {QUIZ_NAMES[quiz_name]} (this page, this session): {here['right']} right of "
            f"{here['asked']} answered." if here["asked"] else
            f"Your score on {QUIZ_NAMES[quiz_name]} (this page, this session): nothing answered yet.")
    elsewhere = {name: score for name, score in scores.items() if name != quiz_name and score["asked"]}
    if elsewhere:
        others = "; ".join(f"{QUIZ_NAMES[name]} {score['right']} of {score['asked']}"
                           for name, score in elsewhere.items())
        line += f" Other pages: {others}."
    return line


def _commit(question: Question, widget_key: str, quiz_name: str) -> None:
    chosen = st.session_state.get(widget_key)
    answered = st.session_state.setdefault(ANSWERED, {})
    if chosen is None or question.key in answered:
        return
    answered[question.key] = chosen
    score = _scores().setdefault(quiz_name, {"asked": 0, "right": 0})
    score["asked"] += 1
    score["right"] += int(question.is_right(chosen))


def card(question: Question, key: str, quiz_name: str, reveal: Callable[[], None] | None = None,
         unit: str = "weight") -> None:
    """Ask; after the student commits, say whether the model agrees, show every choice's number, then `reveal`."""
    widget_key = f"quiz_choice_{key}_{abs(hash(question.key))}"
    committed = st.session_state.get(ANSWERED, {}).get(question.key)
    with st.container(border=True):
        st.markdown("**Predict, then reveal.** " + plain(question.prompt))
        st.radio("Your answer", range(len(question.choices)), format_func=lambda i: question.choices[i],
                 index=None, key=widget_key, disabled=committed is not None)
        if committed is None:
            st.button("Lock in my answer", key=f"{widget_key}_commit", on_click=_commit, args=(question, widget_key, quiz_name),
                      disabled=st.session_state.get(widget_key) is None, type="primary")
            st.caption(score_line(quiz_name))
            return
        _verdict(question, committed, unit)
        st.caption(score_line(quiz_name))
        if reveal is not None:
            reveal()


DECIMALS = 3  # every number on a card, sentence and table alike (rounding per value showed 0.28 beside 0.0516)


def _verdict(question: Question, committed: int, unit: str) -> None:
    model_choice = question.choices[question.answer]
    if question.is_right(committed):
        st.success(plain(f"Right: the model's answer is “{model_choice}” too."))
    else:
        model_score, your_score = question.scores[question.answer], question.scores[committed]
        st.error(plain(f"The model's answer is “{model_choice}” ({unit} {model_score:.{DECIMALS}f}); "
                       f"you chose “{question.choices[committed]}” ({unit} {your_score:.{DECIMALS}f})."))
    st.dataframe({"choice": list(question.choices), unit: [float(s) for s in question.scores]}, hide_index=True,
                 column_config={unit: st.column_config.NumberColumn(format=f"%.{DECIMALS}f")})


ROUND = "quiz_round"  # bumps when the student asks for another word


def _next_round() -> None:
    st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1


def attention_quiz(capture: Capture, layer: int, head: int) -> None:
    """Which token will this word attend to most? The heatmap appears only after the answer is locked in."""
    question = quiz.attention_question(capture, layer, head, st.session_state.get(ROUND, 0))

    def reveal() -> None:
        figures.show(attention_maps.attention_heatmap(capture.attentions[layer, head], capture.tokens,
                                                      f"Layer {layer}, head {head}"),
                     "quiz_heatmap", f"quiz_layer{layer}_head{head}")

    card(question, "attention", "attention", reveal=reveal)
    st.button("Ask about another word", on_click=_next_round, key="quiz_another")


def pretraining_quiz(loaded: LoadedModel, text: str) -> None:
    """The masked word and the sentence order as questions; the full tables appear after each answer."""
    word = st.session_state.get(walkthrough_panel.MASK_WORD, walkthrough_panel.DEFAULT_PRESET["mask"])
    first, second = (st.session_state.get(key, default) for key, default in
                     zip((walkthrough_panel.SOP_FIRST, walkthrough_panel.SOP_SECOND), walkthrough_panel.DEFAULT_PRESET["sop"]))
    try:
        masked = walkthrough.masked_word_predictions(loaded, text, word, top_k=10)
        card(quiz.mask_question(masked.predictions[0]), "mask", "pretraining", unit="probability",
             reveal=lambda: walkthrough_panel.masked_word(loaded, text))
        card(quiz.order_question(walkthrough.sentence_order(loaded, first, second)), "order", "pretraining",
             unit="P(in order)",
             reveal=lambda: walkthrough_panel.sentence_order(loaded))
    except WalkthroughError as error:
        st.info(plain(str(error)))
