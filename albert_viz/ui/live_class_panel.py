"""A live class on the Lessons page: the teacher leads a lesson, every student follows on their own device.

The URL carries `?class=CODE` (the join screen, then following) and `&student=TOKEN` (a joined student's reload).
The teacher's controls exist only in a session holding a TeacherHandle, which only the passphrase gives
(it is kept in st.session_state, never in the URL): no URL parameter or widget value makes a student a teacher.
Followers poll the class's one-row state every 1.5 s in a fragment and rerun the page only when what they
show (step, sentence, question) changed. Everything a student typed is shown as plain text.
"""
from __future__ import annotations

import dataclasses
import html
import os
import urllib.parse
import uuid
from typing import Callable, TypeVar

import streamlit as st

from albert_viz.figures import class_charts
from albert_viz.teaching import lessons, live_class, quiz
from albert_viz.teaching.lessons import Lesson, LessonStep
from albert_viz.teaching.live_class import ClassError, ClassState, DatabaseUnavailable, LiveClasses, Member, QuestionState
from albert_viz.ui import figures, model_facts, presenter, projector, state, widgets
from albert_viz.ui.text import plain

CLASS, STUDENT = "class", "student"  # URL parameters
TEACHER = "live_teacher"  # session: the TeacherHandle of the class this tab leads
MEMBER = "live_member"  # session: this student's Member
EXPLORING = "live_exploring"  # session: the student left to explore on their own
JOIN_SCREEN = "live_join_screen"  # session: the teacher's projector shows the join screen
BROWSER = "live_browser"  # session: the id join() seals the student's token with
NOTICE = "live_notice"  # session: a message from a callback, shown once on the next run
PUBLIC_URL = "ALBERT_VIZ_PUBLIC_URL"  # the address students' devices reach this server by, if not the browser's
POLL_S = 1.0  # the projector's live count
# A student's poll: each fragment rerun costs Streamlit ~4 ms of server CPU, so 30 followers at 1 s took 10-17% of a
# core (bench/live_class.py); at 1.5 s a step still reaches every screen well within two seconds.
FOLLOW_POLL_S = 1.5
SENTENCE_VIEWS = {view for view, settings in lessons.VIEWS.items() if "sentence" in settings}

JOIN_CSS = """
<style>
.live-code { font-family: ui-monospace, monospace; font-size: 7rem; font-weight: 700; letter-spacing: 0.6rem;
  line-height: 1.1; }
.st-key-live_joined p { font-size: 2rem; }
</style>
"""
T = TypeVar("T")


@st.cache_resource(show_spinner=False)
def get_classes() -> LiveClasses:
    """One set of class tables per server (SQLite here, or the shared PostgreSQL of ALBERT_VIZ_DATABASE_URL)."""
    return LiveClasses()


def _attempt(action: Callable[..., T], *args, where=st) -> T | None:
    """Run a class action; a refusal or an unreachable database becomes a message on the page (and None)."""
    try:
        return action(*args)
    except ClassError as error:
        where.warning(plain(str(error)))
    except DatabaseUnavailable as error:
        where.error(plain(f"{error} The class goes on when the database is back: reload this page then."))
    return None


def _done(action: Callable[..., object], *args, where=st) -> bool:
    """Run a class action that returns nothing; False (after a message) if it was refused or failed."""
    return _attempt(lambda: action(*args) or True, where=where) is not None


def _classes() -> LiveClasses | None:
    return _attempt(get_classes)


def _notice() -> None:
    if message := st.session_state.pop(NOTICE, None):
        st.warning(plain(message))


def browser_secret(xsrf_cookie: str) -> str:
    """The browser's one XSRF token inside Tornado's cookie. The cookie ("2|mask|token XOR mask|time") is written
    again with a fresh mask on every page load, so two tabs of one browser hold different cookies: unmasked, the
    same token. Any other form is used as it is."""
    parts = xsrf_cookie.split("|")
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            return xsrf_cookie
        if mask:
            return bytes(byte ^ mask[i % len(mask)] for i, byte in enumerate(masked)).hex()
    return xsrf_cookie


def _browser_id() -> str:
    """Per browser where Streamlit's XSRF cookie is there (two tabs join once), else per session."""
    cookie = st.context.cookies.get("_streamlit_xsrf") if st.context.cookies else None
    return st.session_state.setdefault(BROWSER, browser_secret(cookie) if cookie else uuid.uuid4().hex)


def _lesson(name: str) -> Lesson | None:
    available, _ = lessons.available_lessons()
    found = next((lesson for lesson in available if lesson.name == name), None)
    if found is None:
        st.error(plain(f"This class follows the lesson “{name[:80]}”, which this server does not have."))
    return found


def _with_sentence(lesson: Lesson, index: int, sentence: str | None) -> Lesson:
    """The lesson with a student's sentence (put on the projector) as this step's sentence."""
    step = lesson.steps[index]
    if not sentence or step.view not in SENTENCE_VIEWS:
        return lesson
    changed = dataclasses.replace(step, settings={**step.settings, "sentence": sentence})
    return dataclasses.replace(lesson, steps=lesson.steps[:index] + (changed,) + lesson.steps[index + 1:])


ANSWER_VIEWS = {"attention"}  # a step whose figure shows the answer of the question asked on it
MAP_HIDDEN = "The map is hidden while the class answers (it would give the answer away); it comes back with the answers."


def _answer_on_screen(lesson: Lesson, index: int, current: ClassState) -> bool:
    """The step's figure would show the answer of the question the class is answering now."""
    question = current.question
    return (question is not None and question.state != "revealed" and lesson.steps[index].view in ANSWER_VIEWS)


def _for_class(lesson: Lesson, index: int, current: ClassState) -> Lesson:
    """The lesson as the class sees this step: a projected sentence in it, its map held back while it is asked."""
    shown = _with_sentence(lesson, index, current.sentence)
    if not _answer_on_screen(lesson, index, current):
        return shown
    step = dataclasses.replace(shown.steps[index], view="text")  # title and narration only
    return dataclasses.replace(shown, steps=shown.steps[:index] + (step,) + shown.steps[index + 1:])


def class_in_url() -> str | None:
    """The class code the URL names (normalised), or None."""
    typed = st.query_params.get(CLASS)
    return live_class.normalise_code(typed)[:20] if typed else None


def class_page(code: str) -> None:
    """The class's page: the teacher's controls in the session that holds the handle, the student's view elsewhere."""
    _notice()
    handle = st.session_state.get(TEACHER)
    if handle is not None and handle.code == code:
        _teacher_page(handle)
    else:
        _student_page(code)


# ---------------------------------------------------------------------------------------------------------------
# Anyone: join by code, the teacher's box to open a class
# ---------------------------------------------------------------------------------------------------------------

def join_by_code() -> None:
    """On the lesson list: type the code on the projector to join the class."""
    with st.container(border=True):
        st.markdown("**Join a live class.** Type the code on the teacher's screen.")
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        typed = left.text_input("Class code", key="live_code_typed", max_chars=20, placeholder="e.g. K7P2QX")
        if right.button("Go to the class", key="live_code_go", type="primary") and typed.strip():
            st.query_params.clear()
            st.query_params[CLASS] = live_class.normalise_code(typed)[:20]
            st.rerun()


def _passphrase_set() -> bool:
    return bool(os.environ.get(live_class.PASSPHRASE_VARIABLE))


def open_class_box(lesson: Lesson) -> None:
    """Under a presented lesson, for the teacher: open a live class for it (only where a passphrase is set)."""
    if not _passphrase_set():
        return
    _notice()  # a refused passphrase, from the button's callback
    with st.expander("Teach this lesson live: students follow on their own devices"):
        st.text_input("Teacher's passphrase", type="password", key="live_passphrase")
        st.button("Open a class", key="live_open", type="primary", on_click=_open_class, args=(lesson.name,))


def _open_class(lesson_name: str) -> None:
    passphrase = st.session_state.pop("live_passphrase", "")
    try:
        handle = get_classes().open_class(lesson_name, passphrase, _browser_id())
    except (ClassError, DatabaseUnavailable) as error:
        st.session_state[NOTICE] = str(error)
        return
    st.session_state[TEACHER] = handle
    st.session_state[JOIN_SCREEN] = True
    projector.turn_on()
    st.query_params.update({CLASS: handle.code, "lesson": lesson_name, "step": "1"})


def _reopen_box(code: str, label: str = "I am the teacher of this class") -> None:
    """The teacher whose tab closed: the class link plus the passphrase give the controls back."""
    if not _passphrase_set():
        return
    with st.expander(label):
        st.text_input("Teacher's passphrase", type="password", key="live_reopen_passphrase")
        st.button("Take the teacher's controls", key="live_reopen", on_click=_reopen, args=(code,))


def _reopen(code: str) -> None:
    passphrase = st.session_state.pop("live_reopen_passphrase", "")
    try:
        st.session_state[TEACHER] = get_classes().teacher(code, passphrase, _browser_id())
    except (ClassError, DatabaseUnavailable) as error:
        st.session_state[NOTICE] = str(error)
        return
    projector.turn_on()


# ---------------------------------------------------------------------------------------------------------------
# The teacher
# ---------------------------------------------------------------------------------------------------------------

def _teacher_page(handle: live_class.TeacherHandle) -> None:
    classes = _classes()
    current = classes and _attempt(classes.state, handle.code)
    if current is None:
        return
    lesson = _lesson(current.lesson)
    if lesson is None:
        return
    if current.ended:
        _ended_for_teacher(handle)
        return
    if st.session_state.get(JOIN_SCREEN):
        _join_screen(handle.code, lesson)
        return
    if st.query_params.get("lesson") != lesson.name:  # the class's lesson, whatever a crafted URL says
        st.query_params["lesson"] = lesson.name
    if "step" not in st.query_params:
        st.query_params["step"] = str(current.step + 1)
    _teacher_bar(handle.code)
    index = lessons.step_index(st.query_params.get("step"), lesson)
    if not _done(handle.set_step, index):
        return
    shown = _attempt(classes.state, handle.code)
    if shown is None:
        return
    presenter.present(_for_class(lesson, index, shown), in_class=True)
    if _answer_on_screen(lesson, index, shown):
        st.caption(MAP_HIDDEN)
    _teacher_question(handle, lesson.steps[index], index, shown)
    _sentences(handle)
    _teacher_tools(handle)


def _teacher_bar(code: str) -> None:
    left, right = st.columns([4, 1], vertical_alignment="center")
    with left:
        _live_count(code)
    right.button("Show the join screen", key="live_show_join", width="stretch",
                 on_click=lambda: st.session_state.update({JOIN_SCREEN: True}))


@st.fragment(run_every=POLL_S)
def _live_count(code: str) -> None:
    """Joined and answered, live: one read of the class's state a second."""
    try:
        current = get_classes().state(code)
    except (ClassError, DatabaseUnavailable) as error:
        st.warning(plain(str(error)))
        return
    line = f"Class **{code}** · {current.members} joined"
    if current.question is not None:
        line += f" · {current.question.answered} of {current.members} answered ({current.question.state})"
    with st.container(key="live_joined"):
        st.markdown(line)
    if current.expired:
        st.warning(f"No step for over {live_class.CLASS_IDLE_HOURS} hours, so the code has stopped working: "
                   "change the step (or press any control) and the class carries on.")


def _public_base() -> str:
    """Where students reach this app: ALBERT_VIZ_PUBLIC_URL, else the address in the teacher's browser."""
    configured = os.environ.get(PUBLIC_URL, "").strip()
    if configured:
        return configured.rstrip("/")
    parts = urllib.parse.urlsplit(st.context.url or "http://localhost:8501")
    path = parts.path.rstrip("/")
    if path.endswith("/present"):
        path = path[: -len("/present")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def _join_screen(code: str, lesson: Lesson) -> None:
    """For the projector: the code in very large type, the link, its QR code, how many have joined."""
    link = live_class.join_link(_public_base(), code)
    st.markdown(JOIN_CSS, unsafe_allow_html=True)  # a constant
    words, picture = st.columns([3, 2], vertical_alignment="center")
    with words:
        st.header(plain(f"Join the class: {lesson.title}"))
        st.markdown(f'<div class="live-code" data-testid="live-code">{html.escape(code)}</div>', unsafe_allow_html=True)
        st.markdown("Open this link (or scan the code), or type the code on the app's **Lessons** page:")
        st.code(link, language=None)
        if urllib.parse.urlsplit(link).hostname in ("localhost", "127.0.0.1"):
            st.caption(f"This address works on this computer only: open the app by its network address "
                       f"(or set {PUBLIC_URL}) so students' devices can reach it.")
        _live_count(code)
        st.caption(f"The code works until the teacher ends the class (or leaves it without a step for "
                   f"{live_class.CLASS_IDLE_HOURS} hours).")
        st.button("Start the lesson ▶", key="live_start", type="primary",
                  on_click=lambda: st.session_state.update({JOIN_SCREEN: False}))
    picture.image(live_class.qr_svg(link), width=380)


def _ask_question(step: LessonStep) -> quiz.Question | None:
    """The question the teacher can ask on this step, built from the loaded model (None: nothing to ask)."""
    loaded = widgets.current_model()
    if loaded is None:
        return None
    if step.view == "quiz":  # a lesson's question step (teaching/lessons.py's quiz view)
        try:
            return quiz.question_for_step(step, loaded)
        except ValueError as error:  # QuestionError: this model cannot ask it
            st.info(plain(str(error)))
            return None
    if step.view != "attention":
        return None
    capture = model_facts.capture_or_message(step.get("sentence", ""), step.get("pair") or None)
    if capture is None:
        return None
    layer = min(step.get("layer", 0), capture.num_layers - 1)
    head = min(step.get("head", 0), capture.num_heads - 1)
    return quiz.attention_question(capture, layer, head)


UNITS = {"attention": "weight", "mask": "probability", "order": "P(in order)"}


def _explanation(question: quiz.Question) -> str:
    """The model's numbers in words: its answer first, then the next few choices by score."""
    unit = UNITS.get(question.kind, "score")
    order = sorted(range(len(question.choices)), key=lambda i: -float(question.scores[i]))
    top = ", ".join(f"“{question.choices[i]}” {float(question.scores[i]):.3f}" for i in order[:5])
    return f"The model's answer: “{question.choices[question.answer]}”. Its {unit}s, largest first: {top}."


def _teacher_question(handle, step: LessonStep, index: int, current: ClassState) -> None:
    """Ask the class about this step, then Close and Reveal; the reveal shows the class beside the model."""
    question = current.question
    if question is None:
        built = _ask_question(step)
        if built is not None and st.button("Ask the class", key="live_ask", type="primary"):
            spec = {"step": index, "sentence": step.get("sentence"), "layer": step.get("layer"),
                    "head": step.get("head")}
            if _done(handle.open_question, built.kind, built.prompt, built.choices, built.answer,
                     _explanation(built), spec):
                st.rerun()
        return
    with st.container(border=True, key="live_question"):
        st.markdown("**Question to the class.** " + plain(question.prompt))
        if question.state == "revealed":
            _reveal(question)
            return
        close, reveal = st.columns(2)
        if question.state == "open" and close.button("Close the question", key="live_close", width="stretch"):
            if _done(handle.close_question, question.id):
                st.rerun()
        if reveal.button("Reveal the answers", key="live_reveal", type="primary", width="stretch"):
            if _done(handle.reveal, question.id):
                st.rerun()


def _reveal(question: QuestionState, mine: int | None = None) -> None:
    """The class's answers as bars next to the model's answer and numbers, and the share who agreed."""
    counts = question.counts or ()
    total = sum(counts)
    agreed = counts[question.model_choice] if total else 0
    figures.show(class_charts.answer_distribution(question.choices, counts, question.model_choice,
                                                  "The class's answers"),
                 f"live_reveal_{question.id}", f"class_answers_question_{question.id}", with_csv=False)
    st.markdown(plain(f"{agreed} of {total} agreed with the model ({agreed / total:.0%})." if total
                      else "Nobody answered this question."))
    if mine is not None:
        verdict = "the same as the model's" if mine == question.model_choice else "not the model's"
        st.markdown(plain(f"Your answer: “{question.choices[mine]}” ({verdict})."))
    if question.explanation:
        st.markdown(plain(question.explanation))


def _sentences(handle) -> None:
    with st.expander("The class's sentences"):
        _sentence_list(handle)


@st.fragment(run_every=2.0)
def _sentence_list(handle) -> None:
    """What students sent, newest first, as plain text; hide one, or put it on everyone's screen."""
    offers = _attempt(handle.sentences)
    if offers is None:
        return
    if not offers:
        st.caption("No sentences yet: students send them from the class screen or the Attention page.")
    for offer in offers[:30]:
        text, hide, project = st.columns([6, 1, 2], vertical_alignment="center")
        text.text(f"{offer.name}: {offer.text}")
        if hide.button("Hide", key=f"live_hide_{offer.id}") and _done(handle.hide_sentence, offer.id, where=text):
            st.rerun(scope="app")
        if project.button("Put on the projector", key=f"live_project_{offer.id}") and _done(
                handle.project_sentence, offer.id, where=text):
            st.rerun(scope="app")


def _teacher_tools(handle) -> None:
    csv_column, end_column = st.columns(2)
    csv = _attempt(handle.answers_csv, where=csv_column)
    if csv is not None:
        csv_column.download_button("Download the class's answers (CSV)", csv, file_name=f"class_{handle.code}.csv",
                                   mime="text/csv", key="live_csv", on_click="ignore", icon=":material/download:")
    if end_column.button("End the class", key="live_end") and _done(handle.end, where=end_column):
        st.rerun()


def _ended_for_teacher(handle) -> None:
    st.info("This class has ended. Its answers can still be downloaded.")
    csv = _attempt(handle.answers_csv)
    if csv is not None:
        st.download_button("Download the class's answers (CSV)", csv, file_name=f"class_{handle.code}.csv",
                           mime="text/csv", key="live_csv", on_click="ignore", icon=":material/download:")
    if st.button("Back to the lessons", key="live_leave"):
        st.session_state.pop(TEACHER, None)
        st.query_params.clear()
        st.rerun()


# ---------------------------------------------------------------------------------------------------------------
# The student
# ---------------------------------------------------------------------------------------------------------------

def _student_page(code: str) -> None:
    classes = _classes()
    current = classes and _attempt(classes.state, code)
    if current is None:
        _back_to_lessons()
        return
    if current.ended:
        st.info(live_class.ENDED)
        st.session_state.pop(MEMBER, None)
        _back_to_lessons()
        _reopen_box(code, "I am the teacher: download the class's answers")  # the tab closed after the end
        return
    if current.expired:  # the teacher away for hours: no joining, no answers; the poll notices the teacher's return
        st.info(live_class.EXPIRED)
        _follow_poll(code, _shown(current))
        _back_to_lessons()
        return
    member = _member(classes, code)
    if member is None:
        _join_form(classes, current)
        _reopen_box(code)
        return
    if st.session_state.get(EXPLORING):  # after "Explore on my own": the app's main view, the step's sentence
        st.switch_page("pages/attention.py")
    _follow(classes, member, current)


def _back_to_lessons() -> None:
    if st.button("Back to the lessons", key="live_leave"):
        st.query_params.clear()
        st.rerun()


def _member(classes: LiveClasses, code: str) -> Member | None:
    """This session's membership, or the one the URL's token brings back (a reload); None: not joined."""
    member = st.session_state.get(MEMBER)
    if member is not None and member.code == code:
        if st.query_params.get(STUDENT) != member.token:
            st.query_params[STUDENT] = member.token
        return member
    token = st.query_params.get(STUDENT)
    if not token:
        return None
    member = _attempt(classes.member, code, token)
    if member is None:
        st.query_params.pop(STUDENT, None)
        return None
    st.session_state[MEMBER] = member
    return member


def _join_form(classes: LiveClasses, current: ClassState) -> None:
    st.title("Join the class")
    st.markdown(plain(f"Class {current.code} · {current.members} joined so far."))
    name = st.text_input("Your name (optional, shown to the teacher)", key="live_name",
                         max_chars=live_class.MAX_NAME, placeholder="Leave empty to be “Student 7”")
    if st.button("Join", key="live_join", type="primary"):
        member = _attempt(classes.join, current.code, name, _browser_id())
        if member is not None:
            st.session_state[MEMBER] = member
            st.query_params[STUDENT] = member.token
            st.rerun()


def _shown(current: ClassState) -> tuple:
    """What a follower's screen depends on: a change of any of these redraws the page, nothing else does."""
    question = current.question
    return (current.step, current.sentence, current.ended, current.expired,
            None if question is None else (question.id, question.state))


@st.fragment(run_every=FOLLOW_POLL_S)
def _follow_poll(code: str, drawn: tuple) -> None:
    """Every 1.5 s: one read of the class's state; the page reruns only when the teacher changed something."""
    try:
        current = get_classes().state(code)
    except (ClassError, DatabaseUnavailable) as error:
        st.warning(plain(f"{error} (trying again in a moment)"))
        return
    if _shown(current) != drawn:
        st.rerun(scope="app")
    st.caption(f"Following the teacher live · class {code} · {current.members} in the class")


def _follow(classes: LiveClasses, member: Member, current: ClassState) -> None:
    """The teacher's current step, as on the projector; the question, if one is asked; send a sentence; explore."""
    lesson = _lesson(current.lesson)
    if lesson is None:
        return
    _follow_poll(current.code, _shown(current))
    st.caption(plain(f"You are {member.name}."))
    index = min(current.step, len(lesson.steps) - 1)
    presenter.show_step(_for_class(lesson, index, current), index, in_class=True)
    if _answer_on_screen(lesson, index, current):
        st.caption(MAP_HIDDEN)
    if current.question is not None:
        _student_question(classes, member, current.question)
    _send_sentence_box(classes, member, "live_follow")
    st.button("Explore on my own", key="live_explore", on_click=_explore, args=(lesson.steps[index], current))


def _student_question(classes: LiveClasses, member: Member, question: QuestionState) -> None:
    mine = _attempt(classes.my_answer, member, question.id)
    with st.container(border=True, key="live_question"):
        st.markdown("**Question from the teacher.** " + plain(question.prompt))
        if question.state == "revealed":
            _reveal(question, mine)
            return
        if question.state == "closed":
            st.info("The teacher has closed this question; the answers come next."
                    + ("" if mine is None else f" Your answer: “{question.choices[mine]}”."))
            return
        choice = st.radio("Your answer", range(len(question.choices)), format_func=lambda i: question.choices[i],
                          index=mine, key=f"live_answer_{question.id}")
        if st.button("Send my answer", key=f"live_send_{question.id}", type="primary"):
            if choice is None:
                st.warning("Pick one of the choices first.")
            elif _done(classes.answer, member, question.id, choice):
                st.rerun()
        if mine is not None:
            st.success(plain(f"Sent: “{question.choices[mine]}”. You can change it until the teacher closes the question."))


def _send_sentence_box(classes: LiveClasses, member: Member, key: str, text: str | None = None) -> None:
    """A sentence of one's own for the teacher's list (the teacher may put it on everyone's screen)."""
    with st.expander("Send the teacher a sentence"):
        typed = text if text is not None else st.text_input("Your sentence", key=f"{key}_sentence",
                                                            max_chars=live_class.MAX_SENTENCE)
        if st.button("Send to the teacher", key=f"{key}_send"):
            try:
                classes.send_sentence(member, typed)
            except (ClassError, DatabaseUnavailable) as error:
                st.warning(plain(str(error)))
            else:
                st.success("Sent: the teacher sees it in the class's list.")


def _explore(step: LessonStep, current: ClassState) -> None:
    """Leave the class's screen for the rest of the app, with the step's sentence (Back to the class returns)."""
    st.session_state[EXPLORING] = True
    sentence = current.sentence or step.get("sentence")
    if sentence:
        st.session_state[state.SENTENCE] = sentence


def exploring_sidebar() -> None:
    """In the sidebar of every page while a student explores: the one button back to the class."""
    member = st.session_state.get(MEMBER)
    if member is None or not st.session_state.get(EXPLORING):
        return
    st.caption(plain(f"You left class {member.code} to explore."))
    if st.button("Back to the class", key="live_back", type="primary"):
        st.session_state[EXPLORING] = False
        st.switch_page("pages/present.py", query_params={CLASS: member.code, STUDENT: member.token})


def send_from_attention(text: str) -> None:
    """On the Attention page, for a student in a class: send this sentence to the teacher."""
    member = st.session_state.get(MEMBER)
    if member is None:
        return
    classes = _classes()
    if classes is not None:
        _send_sentence_box(classes, member, "live_attention", text=text)
