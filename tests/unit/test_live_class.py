"""A live class, on SQLite and on the real PostgreSQL server: joining, following, answering, sentences, the teacher's
controls, and every bad case (wrong codes, forged tokens, closed questions, an ended class, a missing passphrase)."""
from __future__ import annotations

import re
import threading
from io import StringIO
from xml.etree import ElementTree

import pandas as pd
import pytest
import segno
import sqlalchemy as sa

from albert_viz.teaching import live_class
from albert_viz.teaching.live_class import (
    CLASS_IDLE_S,
    CODE_ALPHABET,
    CODE_LENGTH,
    JOIN_ATTEMPTS,
    JOIN_FAILURES_PER_MINUTE,
    JOIN_WINDOW_S,
    MAX_NAME,
    MAX_SENTENCE,
    PASSPHRASE_ATTEMPTS,
    PASSPHRASE_WINDOW_S,
    SENTENCES_PER_MINUTE,
    ClassError,
    LiveClasses,
    Member,
    TeacherHandle,
    clean_name,
    join_link,
    normalise_code,
    qr_svg,
)

PASSPHRASE = "owl-and-pussycat"
CHOICES = ("0: [CLS]", "1: the", "2: cat", "3: [SEP]")


@pytest.fixture(autouse=True)
def teacher_passphrase(monkeypatch):
    monkeypatch.setenv(live_class.PASSPHRASE_VARIABLE, PASSPHRASE)


@pytest.fixture
def live(database_url) -> LiveClasses:
    return LiveClasses(database_url)


@pytest.fixture
def teacher(live) -> TeacherHandle:
    return live.open_class("self_attention", PASSPHRASE)


def ask(teacher: TeacherHandle, model_choice: int = 2) -> int:
    return teacher.open_question("attention", "Which token will “it” attend to most?", CHOICES, model_choice,
                                 "“cat” gets 0.61 of the weight.", {"sentence": "the cat sat", "layer": 0, "head": 1})


class Clock:
    """A clock the test moves on (no sleeping): seconds since the epoch, like time.time."""

    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(database_url, clock) -> LiveClasses:
    """The classes on a clock the test moves on."""
    return LiveClasses(database_url, clock=clock)


def students(live, teacher, count: int) -> list[Member]:
    return [live.join(teacher.code, f"S{n}", f"session-{n}") for n in range(count)]


# Pure rules

def test_a_typed_code_is_normalised():
    assert normalise_code(" abc-d ef ") == "ABCDEF"


def test_a_name_keeps_html_and_markdown_as_plain_text():
    assert clean_name("  <script>alert(1)</script>  **bold** ") == "<script>alert(1)</script> **bold**"


def test_a_name_loses_control_and_direction_characters():
    assert clean_name("Ana\x00\u202e\u200b\tLee\n") == "Ana Lee"


def test_a_200_character_name_is_cut_to_the_limit():
    assert clean_name("x" * 200) == "x" * MAX_NAME


def test_a_name_of_only_spaces_is_anonymous():
    assert clean_name(" \t \u3000 ") == ""


def test_the_join_link_opens_the_lessons_page_with_the_code():
    assert join_link("http://10.0.0.5:8501/", "abc-def") == "http://10.0.0.5:8501/present?class=ABCDEF"


def dark_modules(svg: ElementTree.Element) -> set[tuple[int, int]]:
    """The (row, column) modules the SVG's stroked path draws: 'M x y' / 'm dx dy' moves, 'h n' runs of n modules."""
    path = next(p for p in svg.iter("{http://www.w3.org/2000/svg}path") if p.get("stroke"))
    x = y = 0.0
    dark = set()
    for command, *numbers in re.findall(r"([MmHh])(-?[\d.]+)(?:\s(-?[\d.]+))?", path.get("d")):
        values = [float(n) for n in numbers if n]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:  # h: a run of dark modules on row y - 0.5
            dark.update((int(y), int(x) + step) for step in range(int(values[0])))
            x += values[0]
    return dark


def test_the_qr_code_is_an_svg_drawing_the_links_modules():
    link = "http://10.0.0.5:8501/present?class=ABCDEF"
    svg = ElementTree.fromstring(qr_svg(link))
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    matrix = segno.make(link, error="m").matrix  # rows of 0/1, without the 4-module quiet zone
    expected = {(row + 4, column + 4) for row, line in enumerate(matrix) for column, bit in enumerate(line) if bit}
    assert dark_modules(svg) == expected


def test_the_qr_code_scales():
    def width(scale: int) -> float:
        return float(ElementTree.fromstring(qr_svg("http://x/present?class=ABCDEF", scale=scale)).get("width"))
    assert width(10) == 2 * width(5)


# Opening a class: the teacher only

def test_a_class_gets_a_code_from_the_unambiguous_alphabet(teacher):
    assert len(teacher.code) == CODE_LENGTH and set(teacher.code) <= set(CODE_ALPHABET)
    assert not set("01OIL") & set(CODE_ALPHABET)


def test_codes_are_drawn_at_random(live):
    codes = {live.open_class("self_attention", PASSPHRASE).code for _ in range(5)}
    assert len(codes) == 5


def test_a_new_class_starts_at_step_0_with_nobody(live, teacher):
    state = live.state(teacher.code)
    assert (state.lesson, state.step, state.members, state.ended, state.question, state.sentence) == (
        "self_attention", 0, 0, False, None, None)


def test_without_a_passphrase_on_the_server_teacher_features_are_off(live, monkeypatch):
    monkeypatch.delenv(live_class.PASSPHRASE_VARIABLE)
    with pytest.raises(ClassError, match="ALBERT_VIZ_TEACHER_PASSPHRASE"):
        live.open_class("self_attention", "")


def test_a_wrong_passphrase_opens_nothing(live, teacher):
    with pytest.raises(ClassError, match="not the teacher's passphrase"):
        live.open_class("self_attention", "guess")
    with pytest.raises(ClassError, match="not the teacher's passphrase"):
        live.teacher(teacher.code, "guess")


def wrong_passphrases(live, session: str, count: int = PASSPHRASE_ATTEMPTS) -> None:
    for _ in range(count):
        with pytest.raises(ClassError, match="not the teacher's passphrase"):
            live.open_class("self_attention", "guess", session)


def test_wrong_passphrases_are_limited_per_session(live):
    wrong_passphrases(live, "guesser")
    with pytest.raises(ClassError, match="Too many wrong passphrases"):
        live.open_class("self_attention", PASSPHRASE, "guesser")  # even the right one, until the window passes
    assert live.open_class("self_attention", PASSPHRASE, "the-teacher").code  # other sessions are not affected


def test_the_passphrase_limit_covers_reopening_a_class_too(live, teacher):
    wrong_passphrases(live, "guesser")
    with pytest.raises(ClassError, match="Too many wrong passphrases"):
        live.teacher(teacher.code, PASSPHRASE, "guesser")


def test_the_passphrase_limit_holds_on_every_server_of_the_database(database_url):
    wrong_passphrases(LiveClasses(database_url), "guesser")
    with pytest.raises(ClassError, match="Too many wrong passphrases"):
        LiveClasses(database_url).open_class("self_attention", PASSPHRASE, "guesser")


def test_the_passphrase_limit_ends_after_its_window(timed, clock):
    wrong_passphrases(timed, "guesser")
    clock.wait(PASSPHRASE_WINDOW_S + 1)
    assert timed.open_class("self_attention", PASSPHRASE, "guesser").code


def test_a_teacher_handle_cannot_be_made_without_the_passphrase(live, teacher):
    with pytest.raises(ClassError):
        TeacherHandle(live, teacher.code, object())


def test_the_teacher_reopens_the_class_after_the_tab_closed(database_url, teacher):
    teacher.set_step(3)
    again = LiveClasses(database_url).teacher(teacher.code.lower(), PASSPHRASE)  # a new session, the link's code
    again.set_step(4)
    assert LiveClasses(database_url).state(teacher.code).step == 4


# Joining

def test_a_student_joins_and_the_class_counts_them(live, teacher):
    member = live.join(teacher.code, "Ana", "session-1")
    assert (member.code, member.name) == (teacher.code, "Ana") and live.state(teacher.code).members == 1


def test_joining_twice_from_one_session_returns_the_same_member(live, teacher):
    first = live.join(teacher.code, "Ana", "session-1")
    assert live.join(teacher.code, "Someone else", "session-1") == first
    assert live.state(teacher.code).members == 1


def test_names_clashing_get_a_number(live, teacher):
    names = [live.join(teacher.code, name, f"session-{n}").name for n, name in enumerate(["Ana", "Ana", "ana"])]
    assert names == ["Ana", "Ana (2)", "ana (3)"]


def test_a_long_name_clashing_stays_within_the_limit(live, teacher):
    live.join(teacher.code, "x" * 200, "session-1")
    assert live.join(teacher.code, "x" * 200, "session-2").name == "x" * (MAX_NAME - 4) + " (2)"


def test_a_name_with_markup_is_stored_verbatim(live, teacher):
    assert live.join(teacher.code, "<b>Ana</b> *x*", "session-1").name == "<b>Ana</b> *x*"


def test_a_student_without_a_name_is_student_n(live, teacher):
    live.join(teacher.code, "Ana", "session-1")
    assert live.join(teacher.code, "   ", "session-2").name == "Student 2"


def test_a_wrong_code_is_refused_with_a_plain_message(live, teacher):
    with pytest.raises(ClassError, match="No class has the code ZZZZZZ"):
        live.join("zzzzzz", "Ana", "session-1")
    assert live.state(teacher.code).members == 0


def test_failed_joins_are_limited_per_session(live, teacher):
    for _ in range(JOIN_ATTEMPTS):
        with pytest.raises(ClassError, match="No class has the code"):
            live.join("ZZZZZZ", "Ana", "guesser")
    with pytest.raises(ClassError, match="Too many wrong class codes"):
        live.join(teacher.code, "Ana", "guesser")  # even the right code, until the window passes
    assert live.join(teacher.code, "Ana", "honest").name == "Ana"  # other sessions are not affected


def test_an_ended_class_refuses_joins(live, teacher):
    teacher.end()
    with pytest.raises(ClassError, match="ended"):
        live.join(teacher.code, "Ana", "session-1")


def test_the_state_of_an_unknown_code_is_a_class_error(live):
    with pytest.raises(ClassError, match="No class has the code"):
        live.state("ABCDEF")


def test_failed_joins_wait_out_their_window(timed, clock):
    teacher = timed.open_class("self_attention", PASSPHRASE)
    for _ in range(JOIN_ATTEMPTS):
        with pytest.raises(ClassError, match="No class has the code"):
            timed.join("ZZZZZZ", "Ana", "guesser")
    clock.wait(JOIN_WINDOW_S + 1)
    assert timed.join(teacher.code, "Ana", "guesser").name == "Ana"


def test_a_class_of_thirty_with_typos_all_join(live, teacher):
    """Two typos each, all within a minute: well under the server-wide cap on failed joins."""
    for number in range(30):
        for typo in ("ZZZZZZ", "ZZZZZY"):
            with pytest.raises(ClassError, match="No class has the code"):
                live.join(typo, "", f"session-{number}")
    for number in range(30):
        live.join(teacher.code, "", f"session-{number}")
    assert live.state(teacher.code).members == 30


def test_a_guesser_opening_new_sessions_pauses_joins_for_a_minute(timed, clock):
    teacher = timed.open_class("self_attention", PASSPHRASE)
    for number in range(JOIN_FAILURES_PER_MINUTE):
        with pytest.raises(ClassError, match="No class has the code"):
            timed.join("ZZZZZZ", "", f"fresh-session-{number}")
    with pytest.raises(ClassError, match="joining is paused"):
        timed.join(teacher.code, "Ana", "a-real-student")  # a right code too: else the guesser learns from it
    assert timed.state(teacher.code).members == 0
    clock.wait(61)
    assert timed.join(teacher.code, "Ana", "a-real-student").name == "Ana"


# A code that expires

def test_a_code_expires_after_hours_without_the_teacher(timed, clock):
    teacher = timed.open_class("self_attention", PASSPHRASE)
    clock.wait(CLASS_IDLE_S + 1)
    assert timed.state(teacher.code).expired
    with pytest.raises(ClassError, match="code no longer works") as refused:
        timed.join(teacher.code, "Ana", "session-1")
    assert "No class has" not in str(refused.value) and timed.state(teacher.code).members == 0


def test_the_teachers_actions_keep_the_code_working(timed, clock):
    teacher = timed.open_class("self_attention", PASSPHRASE)
    for step in (1, 2):
        clock.wait(CLASS_IDLE_S * 0.9)
        teacher.set_step(step)
    clock.wait(CLASS_IDLE_S * 0.9)
    assert timed.join(teacher.code, "Ana", "session-1").name == "Ana"


def test_the_teachers_next_action_brings_an_expired_class_back(timed, clock):
    teacher = timed.open_class("self_attention", PASSPHRASE)
    clock.wait(CLASS_IDLE_S + 1)
    timed.teacher(teacher.code, PASSPHRASE).set_step(0)  # back after a long break: the same step, the class alive
    assert not timed.state(teacher.code).expired
    assert timed.join(teacher.code, "Ana", "session-1").name == "Ana"


def test_an_expired_class_refuses_answers_and_keeps_the_old_one(timed, clock):
    teacher = timed.open_class("self_attention", PASSPHRASE)
    member, question = timed.join(teacher.code, "Ana", "s1"), ask(teacher)
    timed.answer(member, question, 1)
    clock.wait(CLASS_IDLE_S + 1)
    with pytest.raises(ClassError, match="code no longer works"):
        timed.answer(member, question, 2)
    assert timed.my_answer(member, question) == 1 and timed.state(teacher.code).question.answered == 1


def test_a_joined_student_keeps_the_membership_of_an_expired_class(timed, clock):
    teacher = timed.open_class("self_attention", PASSPHRASE)
    member = timed.join(teacher.code, "Ana", "s1")
    clock.wait(CLASS_IDLE_S + 1)
    assert timed.member(teacher.code, member.token) == member  # when the teacher is back, the page carries on


def test_an_expired_code_is_not_counted_as_a_guess(timed, clock):
    teacher = timed.open_class("self_attention", PASSPHRASE)
    clock.wait(CLASS_IDLE_S + 1)
    for _ in range(JOIN_ATTEMPTS):
        with pytest.raises(ClassError, match="code no longer works"):
            timed.join(teacher.code, "Ana", "s1")
    teacher.set_step(1)
    assert timed.join(teacher.code, "Ana", "s1").name == "Ana"


# Reloads and tokens

def test_a_reload_brings_the_membership_back(database_url, live, teacher):
    member = live.join(teacher.code, "Ana", "session-1")
    assert LiveClasses(database_url).member(teacher.code, member.token) == member


def test_a_made_up_token_is_refused(live, teacher):
    live.join(teacher.code, "Ana", "session-1")
    with pytest.raises(ClassError, match="does not belong to this class"):
        live.member(teacher.code, "made-up-token")


def test_a_token_from_another_class_is_refused(live, teacher):
    other = live.open_class("self_attention", PASSPHRASE)
    member = live.join(other.code, "Ana", "session-1")
    with pytest.raises(ClassError, match="does not belong to this class"):
        live.member(teacher.code, member.token)


def test_a_token_of_an_ended_class_is_refused(live, teacher):
    member = live.join(teacher.code, "Ana", "session-1")
    teacher.end()
    with pytest.raises(ClassError, match="ended"):
        live.member(teacher.code, member.token)


def test_a_token_is_random_and_stored_only_as_its_hash(live, teacher):
    tokens = [member.token for member in students(live, teacher, 2)]
    with live.tables.engine.connect() as connection:
        stored = " ".join(map(str, connection.execute(sa.text("SELECT * FROM class_members")).all()))
    assert tokens[0] != tokens[1] and len(tokens[0]) >= 32
    assert tokens[0] not in stored and tokens[1] not in stored


def test_a_forged_member_cannot_answer(live, teacher):
    question = ask(teacher)
    with pytest.raises(ClassError, match="does not belong to this class"):
        live.answer(Member(teacher.code, "forged", "Ana"), question, 1)
    assert live.state(teacher.code).question.answered == 0


def test_the_token_is_not_in_a_members_repr(live, teacher):
    member = live.join(teacher.code, "Ana", "session-1")
    assert member.token not in repr(member)


# Following

def test_every_change_bumps_the_version(live, teacher):
    versions = [live.state(teacher.code).version]
    for change in (lambda: teacher.set_step(1), lambda: live.join(teacher.code, "Ana", "s1"), lambda: ask(teacher)):
        change()
        versions.append(live.state(teacher.code).version)
    assert versions == sorted(set(versions))


def test_setting_the_same_step_again_changes_nothing(live, teacher):
    teacher.set_step(2)
    version = live.state(teacher.code).version
    teacher.set_step(2)
    assert live.state(teacher.code).version == version


def test_two_app_servers_on_one_database_see_each_others_changes(database_url):
    teachers_server, students_server = LiveClasses(database_url), LiveClasses(database_url)
    teacher = teachers_server.open_class("self_attention", PASSPHRASE)
    member = students_server.join(teacher.code, "Ana", "session-1")
    question = ask(teacher)
    students_server.answer(member, question, 1)
    teacher.set_step(5)
    seen = students_server.state(teacher.code)
    assert teachers_server.state(teacher.code) == seen and seen.step == 5 and seen.members == 1


# Questions and answers

def test_an_answer_counts_once_and_can_change_while_open(live, teacher):
    member, question = live.join(teacher.code, "Ana", "session-1"), ask(teacher)
    live.answer(member, question, 1)
    live.answer(member, question, 1)  # a retry after a lost connection
    live.answer(member, question, 3)  # a change of mind
    assert live.state(teacher.code).question.answered == 1 and live.my_answer(member, question) == 3


def test_before_the_reveal_the_class_sees_no_counts_and_no_model_answer(live, teacher):
    question = ask(teacher)
    live.answer(live.join(teacher.code, "Ana", "s1"), question, 2)
    shown = live.state(teacher.code).question
    assert (shown.state, shown.counts, shown.model_choice, shown.explanation) == ("open", None, None, None)


def test_the_reveal_shows_the_class_counts_and_the_models_answer(live, teacher):
    question = ask(teacher, model_choice=2)
    for member, choice in zip(students(live, teacher, 4), (2, 2, 1, 3)):
        live.answer(member, question, choice)
    teacher.reveal(question)
    shown = live.state(teacher.code).question
    assert shown.state == "revealed" and shown.counts == (0, 1, 2, 1) and shown.model_choice == 2
    assert shown.explanation == "“cat” gets 0.61 of the weight." and shown.spec["head"] == 1


def test_an_answer_to_a_closed_question_is_refused_and_changes_nothing(live, teacher):
    member, question = live.join(teacher.code, "Ana", "s1"), ask(teacher)
    live.answer(member, question, 1)
    teacher.close_question(question)
    with pytest.raises(ClassError, match="closed this question"):
        live.answer(member, question, 2)
    assert live.my_answer(member, question) == 1 and live.state(teacher.code).question.state == "closed"


def test_an_answer_to_a_revealed_question_is_refused(live, teacher):
    member, question = live.join(teacher.code, "Ana", "s1"), ask(teacher)
    teacher.reveal(question)
    with pytest.raises(ClassError, match="closed this question"):
        live.answer(member, question, 2)
    assert live.state(teacher.code).question.counts == (0, 0, 0, 0)


def test_an_answer_to_a_question_no_longer_current_is_refused(live, teacher):
    member, first = live.join(teacher.code, "Ana", "s1"), ask(teacher)
    second = ask(teacher)
    with pytest.raises(ClassError, match="no longer on the teacher's screen"):
        live.answer(member, first, 1)
    assert live.state(teacher.code).question.id == second


def test_opening_a_question_closes_the_one_before(live, teacher):
    ask(teacher)
    ask(teacher)
    assert [question["state"] for question in live.tables.questions(teacher.code)] == ["closed", "open"]


@pytest.mark.parametrize("choice", [-1, 4, 1.0, True, "1"])
def test_an_answer_outside_the_choices_is_refused(live, teacher, choice):
    member, question = live.join(teacher.code, "Ana", "s1"), ask(teacher)
    with pytest.raises(ClassError, match="Pick one of the 4 choices"):
        live.answer(member, question, choice)
    assert live.my_answer(member, question) is None


def test_a_new_step_takes_the_question_away(live, teacher):
    member, question = live.join(teacher.code, "Ana", "s1"), ask(teacher)
    teacher.set_step(1)
    assert live.state(teacher.code).question is None
    with pytest.raises(ClassError, match="no longer on the teacher's screen"):
        live.answer(member, question, 1)


def test_thirty_students_answering_at_once_are_each_counted_once(live, teacher):
    members, question = students(live, teacher, 30), ask(teacher)
    start = threading.Barrier(len(members))

    def answer(member: Member, choice: int) -> None:
        start.wait()
        live.answer(member, question, choice)
        live.answer(member, question, choice)

    threads = [threading.Thread(target=answer, args=(m, n % 4)) for n, m in enumerate(members)]
    [thread.start() for thread in threads]
    [thread.join(60) for thread in threads]
    teacher.reveal(question)
    shown = live.state(teacher.code).question
    assert shown.answered == 30 and shown.counts == (8, 8, 7, 7)


def test_a_question_from_another_class_is_not_the_teachers(live, teacher):
    other = live.open_class("self_attention", PASSPHRASE)
    foreign = ask(other)
    with pytest.raises(ClassError, match="not one of this class's"):
        teacher.reveal(foreign)
    assert live.state(other.code).question.state == "open"


def test_a_question_whose_model_answer_is_not_a_choice_is_refused(teacher):
    with pytest.raises(ClassError, match="one of the choices"):
        teacher.open_question("mask", "What goes in [MASK]?", ("cat", "dog"), 2, "", {})


# The class's sentences

def test_sentences_reach_the_teacher_newest_first_with_names(live, teacher):
    ana, ben = students(live, teacher, 2)
    live.send_sentence(ana, "The cat sat on the mat.")
    live.send_sentence(ben, "  It was   tired.\n")
    assert [(offer.name, offer.text) for offer in teacher.sentences()] == [
        ("S1", "It was tired."), ("S0", "The cat sat on the mat.")]


def test_a_sentence_is_kept_as_plain_text_and_cut_to_the_limit(live, teacher):
    live.send_sentence(live.join(teacher.code, "Ana", "s1"), "<img src=x onerror=alert(1)> " + "a" * 400)
    text = teacher.sentences()[0].text
    assert text.startswith("<img src=x onerror=alert(1)> ") and len(text) == MAX_SENTENCE


def test_an_empty_sentence_is_refused(live, teacher):
    with pytest.raises(ClassError, match="Type a sentence"):
        live.send_sentence(live.join(teacher.code, "Ana", "s1"), "  \n ")


def test_sentences_are_limited_per_minute(live, teacher):
    member = live.join(teacher.code, "Ana", "s1")
    for number in range(SENTENCES_PER_MINUTE):
        live.send_sentence(member, f"Sentence {number}.")
    with pytest.raises(ClassError, match="wait a moment"):
        live.send_sentence(member, "One more.")
    assert len(teacher.sentences()) == SENTENCES_PER_MINUTE


def test_a_hidden_sentence_leaves_the_list(live, teacher):
    live.send_sentence(live.join(teacher.code, "Ana", "s1"), "Rude words.")
    offer = teacher.sentences()[0]
    teacher.hide_sentence(offer.id)
    assert teacher.sentences() == [] and teacher.sentences(include_hidden=True)[0].hidden


def test_a_projected_sentence_is_everyones_until_the_next_step(live, teacher):
    live.send_sentence(live.join(teacher.code, "Ana", "s1"), "The dog chased its tail.")
    teacher.project_sentence(teacher.sentences()[0].id)
    assert live.state(teacher.code).sentence == "The dog chased its tail."
    teacher.set_step(1)
    assert live.state(teacher.code).sentence is None


def test_hiding_the_projected_sentence_takes_it_off_the_projector(live, teacher):
    live.send_sentence(live.join(teacher.code, "Ana", "s1"), "Oops.")
    offer = teacher.sentences()[0]
    teacher.project_sentence(offer.id)
    teacher.hide_sentence(offer.id)
    assert live.state(teacher.code).sentence is None
    with pytest.raises(ClassError, match="hidden"):
        teacher.project_sentence(offer.id)


def test_a_sentence_from_another_class_cannot_be_projected(live, teacher):
    other = live.open_class("self_attention", PASSPHRASE)
    live.send_sentence(live.join(other.code, "Ana", "s1"), "Elsewhere.")
    with pytest.raises(ClassError, match="not one of this class's"):
        teacher.project_sentence(other.sentences()[0].id)


# The end and the record

def test_an_ended_class_refuses_answers_sentences_and_teacher_actions(live, teacher):
    member, question = live.join(teacher.code, "Ana", "s1"), ask(teacher)
    teacher.end()
    assert live.state(teacher.code).ended
    with pytest.raises(ClassError, match="ended"):
        live.answer(member, question, 1)
    with pytest.raises(ClassError, match="ended"):
        live.send_sentence(member, "Hello.")
    with pytest.raises(ClassError, match="ended"):
        teacher.set_step(2)


def test_the_csv_has_every_question_and_every_members_answer(live, teacher):
    ana, ben = students(live, teacher, 2)
    first = ask(teacher, model_choice=2)
    live.answer(ana, first, 2)
    ask(teacher, model_choice=1)
    live.answer(ben, ask(teacher, model_choice=1), 3)
    teacher.end()
    table = pd.read_csv(StringIO(live.teacher(teacher.code, PASSPHRASE).answers_csv()), keep_default_na=False)
    assert len(table) == 3 * 2 and table["question"].tolist() == [1, 1, 2, 2, 3, 3]
    assert table.loc[0, ["student", "answer", "agrees with the model"]].tolist() == ["S0", "2: cat", "yes"]
    assert table.loc[5, ["answer", "model's answer", "agrees with the model"]].tolist() == ["3: [SEP]", "1: the", "no"]
    assert table.loc[1, "answer"] == ""


def test_a_name_that_looks_like_a_formula_is_not_one_in_the_csv(live, teacher):
    live.answer(live.join(teacher.code, "=1+2", "s1"), ask(teacher), 1)
    assert re.search(r"^1,attention,[^,]*,'=1\+2,1: the,", teacher.answers_csv(), flags=re.MULTILINE)
