"""A live class on the Lessons page in AppTest: the teacher opens one, students join, follow, answer, see the reveal;
and every bad case gets a message and changes nothing."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from albert_viz.model.loading import load_model
from albert_viz.teaching import lessons, live_class, quiz
from albert_viz.teaching.live_class import LiveClasses
from albert_viz.ui import live_class_panel
from tests.app.conftest import APP

PAGE = "pages/present.py"
PASSPHRASE = "correct horse"
LESSON = "self_attention"


@pytest.fixture(autouse=True)
def class_database(monkeypatch, tmp_path):
    """Each test its own SQLite database and the teacher's passphrase set."""
    monkeypatch.setenv("ALBERT_VIZ_DATABASE_URL", f"sqlite:///{tmp_path / 'classes.sqlite3'}")
    monkeypatch.setenv("ALBERT_VIZ_TEACHER_PASSPHRASE", PASSPHRASE)
    live_class_panel.get_classes.clear()
    yield
    live_class_panel.get_classes.clear()


def shown(at: AppTest) -> str:
    """Every text the page shows, as the reader sees it (plain() escapes with backslashes and word joiners)."""
    parts = [element.value for kind in ("markdown", "caption", "warning", "error", "info", "success", "header", "title",
                                        "text")
             for element in getattr(at, kind)]
    return " ".join(str(part) for part in parts).replace("\\", "").replace("\u2060", "")


def app(spec=None, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if spec is not None:
        at.session_state["model_spec"] = spec
    at.run()
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(PAGE).run()
    return at


def attention_step() -> int:
    lesson = lessons.load_lesson(lessons.LESSONS_DIR / f"{LESSON}.yaml")
    return next(i for i, step in enumerate(lesson.steps, 1) if step.view == "attention")


def open_class(spec=None) -> tuple[AppTest, str]:
    """The teacher presents the lesson, types the passphrase and opens a class: the join screen."""
    at = app(spec, lesson=LESSON, step="1")
    at.text_input(key="live_passphrase").input(PASSPHRASE)
    at.button(key="live_open").click().run()
    assert not at.exception
    return at, at.query_params["class"]


def join(code: str, name: str = "", spec=None, **more) -> AppTest:
    at = app(spec, **{"class": code, **more})
    if name:
        at.text_input(key="live_name").input(name)
    at.button(key="live_join").click().run()
    assert not at.exception
    return at


def rerun(at: AppTest) -> AppTest:
    """What the follower's poll does when the class changed: the page again."""
    at.run()
    assert not at.exception
    return at


def start_and_go_to(teacher: AppTest, step: int) -> None:
    teacher.button(key="live_start").click().run()
    teacher.query_params["step"] = str(step)
    teacher.run()
    assert not teacher.exception


def test_opening_a_class_shows_the_code_link_qr_and_the_number_joined():
    teacher, code = open_class()
    text = shown(teacher)
    assert code in text and "0 joined" in text
    assert any(f"/present?class={code}" in block.value for block in teacher.code)
    assert len(teacher.get("image")) == 1  # the QR code
    join(code, "Ana")
    assert "1 joined" in shown(rerun(teacher))


def test_a_student_joins_by_the_link_and_follows_the_teachers_step():
    teacher, code = open_class()
    student = join(code, "Ana")
    assert student.query_params["student"]  # a reload keeps the membership
    first = lessons.load_lesson(lessons.LESSONS_DIR / f"{LESSON}.yaml").steps
    assert first[0].title in shown(student)
    start_and_go_to(teacher, 3)
    assert first[2].title in shown(rerun(student))


def test_a_reload_with_the_token_keeps_the_membership_and_the_count():
    teacher, code = open_class()
    student = join(code, "Ana")
    again = app(**{"class": code, "student": student.query_params["student"]})
    assert "You are Ana." in shown(again)
    assert not any(button.key == "live_join" for button in again.button)
    assert LiveClasses().state(code).members == 1


def test_typing_the_code_on_the_lesson_list_opens_the_join_screen():
    _, code = open_class()
    at = app()
    at.text_input(key="live_code_typed").input(code.lower()[:3] + "-" + code.lower()[3:])
    at.button(key="live_code_go").click().run()
    assert at.query_params["class"] == code
    assert at.button(key="live_join")


def ask(teacher: AppTest) -> None:
    teacher.button(key="live_ask").click().run()
    assert not teacher.exception


def one_student_asked(spec) -> tuple[AppTest, AppTest, str, int]:
    """A class with one student, Ana, and the teacher's question open on the lesson's attention step."""
    teacher, code = open_class(spec)
    student = join(code, "Ana", spec)
    start_and_go_to(teacher, attention_step())
    ask(teacher)
    return teacher, student, code, LiveClasses().state(code).question.id


def test_students_answer_the_teacher_counts_them_and_everyone_sees_the_reveal(tiny_spec, plotly_chart):
    teacher, code = open_class(tiny_spec)
    students = [join(code, name, tiny_spec) for name in ("Ana", "Ben", "Chloé")]
    start_and_go_to(teacher, attention_step())
    ask(teacher)
    question = LiveClasses().state(code).question
    for student, choice in zip(students, (0, 1, 1)):
        rerun(student).radio(key=f"live_answer_{question.id}").set_value(choice)
        student.button(key=f"live_send_{question.id}").click().run()
    assert "3 of 3 answered" in shown(rerun(teacher))
    teacher.button(key="live_reveal").click().run()
    revealed = LiveClasses().state(code).question
    assert revealed.counts[0] == 1 and revealed.counts[1] == 2
    assert list(plotly_chart(teacher, -1)["data"][0]["x"])[:2] == [1, 2]  # the reveal: under the step's own map
    agreed = revealed.counts[revealed.model_choice]
    assert f"{agreed} of 3 agreed with the model" in shown(teacher)
    ana = shown(rerun(students[0]))
    assert f"Your answer: “{question.choices[0]}”" in ana and "agreed with the model" in ana


def test_a_lessons_quiz_step_asks_the_class_the_question_the_model_answers(tiny_spec):
    lesson = lessons.load_lesson(lessons.LESSONS_DIR / f"{LESSON}.yaml")
    number, step = next((i, step) for i, step in enumerate(lesson.steps, 1) if step.view == "quiz")
    teacher, code = open_class(tiny_spec)
    start_and_go_to(teacher, number)
    ask(teacher)
    teacher.button(key="live_reveal").click().run()
    asked = LiveClasses().state(code).question  # the model's choice is stored from the start, shown once revealed
    expected = quiz.question_for_step(step, load_model(tiny_spec))
    assert asked.choices == tuple(expected.choices) and asked.model_choice == expected.answer


def test_a_student_may_change_the_answer_until_the_question_is_closed(tiny_spec):
    teacher, student, code, question_id = one_student_asked(tiny_spec)
    rerun(student)
    for choice in (0, 2):
        student.radio(key=f"live_answer_{question_id}").set_value(choice)
        student.button(key=f"live_send_{question_id}").click().run()
    assert LiveClasses().state(code).question.answered == 1
    teacher.button(key="live_close").click().run()
    assert "closed this question" in shown(rerun(student))
    assert not any(button.key == f"live_send_{question_id}" for button in student.button)


def test_an_answer_sent_after_the_teacher_closed_the_question_is_refused_with_a_message(tiny_spec):
    teacher, student, code, question_id = one_student_asked(tiny_spec)
    rerun(student).radio(key=f"live_answer_{question_id}").set_value(1)
    teacher.button(key="live_close").click().run()  # closed while the student's screen still offers Send
    student.button(key=f"live_send_{question_id}").click().run()
    assert "closed this question" in shown(student)
    assert LiveClasses().state(code).question.answered == 0


def test_the_teacher_downloads_the_answers_as_csv(tiny_spec):
    teacher, student, code, question_id = one_student_asked(tiny_spec)
    rerun(student).radio(key=f"live_answer_{question_id}").set_value(1)
    student.button(key=f"live_send_{question_id}").click().run()
    rerun(teacher)
    assert any("answers (CSV)" in button.proto.label for button in teacher.get("download_button"))
    rows = LiveClasses().teacher(code, PASSPHRASE).answers_csv().splitlines()
    assert len(rows) == 2 and "Ana" in rows[1]  # the header and Ana's answer: what the button's file holds


def test_a_sentence_sent_by_a_student_goes_on_everyones_screen_when_the_teacher_projects_it():
    teacher, code = open_class()
    student = join(code, "<script>alert(1)</script>")
    start_and_go_to(teacher, 2)
    student = rerun(student)
    student.text_input(key="live_follow_sentence").input("**My** cat sat on the mat")
    student.button(key="live_follow_send").click().run()
    rerun(teacher)
    assert any(element.value == "<script>alert(1)</script>: **My** cat sat on the mat" for element in teacher.text)
    offer = next(button for button in teacher.button if button.key.startswith("live_project_"))
    offer.click().run()
    assert LiveClasses().state(code).sentence == "**My** cat sat on the mat"


def test_a_wrong_code_says_so_and_offers_no_join_button():
    open_class()
    at = app(**{"class": "ZZZZZZ"})
    assert "No class has the code ZZZZZZ" in shown(at)
    assert not any(button.key == "live_join" for button in at.button)


def test_an_ended_class_says_so_to_its_students():
    teacher, code = open_class()
    student = join(code, "Ana")
    start_and_go_to(teacher, 1)
    teacher.button(key="live_end").click().run()
    assert "This class has ended" in shown(rerun(student))
    assert "This class has ended" in shown(app(**{"class": code}))


def test_a_second_tab_with_the_same_link_is_the_same_student():
    _, code = open_class()
    first = join(code, "Ana")
    second = app(**{"class": code, "student": first.query_params["student"]})
    assert "You are Ana." in shown(second)
    assert LiveClasses().state(code).members == 1


def test_two_tabs_of_one_browser_are_one_browser_though_their_xsrf_cookies_differ():
    """Tornado writes the cookie again, freshly masked, on every page load (seen in Chromium: the e2e test)."""
    first = "2|95ed69ad|87d67e3f2ba83a1429ed4f64edcc8f90|1796194376"
    second = "2|de7a89c9|cc419e5b603fda70627aaf00a65b6ff4|1796194376"
    another_browser = "2|de7a89c9|00419e5b603fda70627aaf00a65b6ff4|1796194376"
    assert live_class_panel.browser_secret(first) == live_class_panel.browser_secret(second)
    assert live_class_panel.browser_secret(another_browser) != live_class_panel.browser_secret(first)


@pytest.mark.parametrize("typed, expected", [("<b>Ana</b>", "<b>Ana</b>"), ("**bold**", "**bold**"),
                                             ("x" * 200, "x" * 40), ("     ", "Student 1")])
def test_hostile_names_are_kept_as_plain_text_and_bounded(typed, expected):
    _, code = open_class()
    student = app(**{"class": code})
    student.session_state["live_name"] = typed  # a crafted widget value: max_chars is only the browser's limit
    student.button(key="live_join").click().run()
    assert f"You are {expected}." in shown(student)


def test_a_forged_token_is_refused_and_the_class_is_unchanged():
    _, code = open_class()
    at = app(**{"class": code, "student": "forged-token"})
    assert "does not belong to this class" in shown(at)
    assert LiveClasses().state(code).members == 0
    assert at.button(key="live_join")


def test_no_url_parameter_or_widget_value_gives_a_student_the_teachers_controls():
    teacher, code = open_class()
    start_and_go_to(teacher, 2)
    before = LiveClasses().state(code)
    student = app(**{"class": code, "lesson": LESSON, "step": "4", "teacher": "1"})
    for key in ("live_end", "live_reveal", "live_close", "live_ask", "live_start", "live_hide_1", "live_project_1"):
        student.session_state[key] = True  # what a crafted websocket message could claim for a widget
    student.run()
    assert not student.exception
    keys = {button.key for button in student.button}
    assert not keys & {"live_end", "live_reveal", "live_close", "live_ask", "live_start", "live_show_join"}
    assert LiveClasses().state(code) == before


def test_a_wrong_passphrase_opens_no_class():
    at = app(lesson=LESSON, step="1")
    at.text_input(key="live_passphrase").input("guess")
    at.button(key="live_open").click().run()
    assert "not the teacher's passphrase" in shown(at)
    assert "class" not in at.query_params


def test_the_teacher_reopens_the_class_from_its_link_after_the_tab_closed():
    _, code = open_class()
    again = app(**{"class": code})
    again.text_input(key="live_reopen_passphrase").input(PASSPHRASE)
    again.button(key="live_reopen").click().run()
    assert again.button(key="live_end")


def test_the_database_out_of_reach_mid_class_is_a_message_and_the_class_goes_on_after(monkeypatch):
    teacher, code = open_class()
    student = join(code, "Ana")
    classes = live_class_panel.get_classes()
    working = classes.tables.engine
    import sqlalchemy as sa
    monkeypatch.setattr(classes.tables, "engine", sa.create_engine("postgresql+psycopg://t:hunter2@127.0.0.1:1/x"))
    for screen in (rerun(student), rerun(teacher)):
        assert "ALBERT_VIZ_DATABASE_URL" in shown(screen) and "hunter2" not in shown(screen)
    monkeypatch.setattr(classes.tables, "engine", working)
    assert "You are Ana." in shown(rerun(student))


# The student leaves to explore, and comes back

def test_explore_on_my_own_opens_the_attention_page_with_the_steps_sentence(tiny_spec):
    """(The way back is in app.py's sidebar, which AppTest drops on reruns: the e2e test presses it.)"""
    teacher, code = open_class(tiny_spec)
    student = join(code, "Ana", tiny_spec)
    start_and_go_to(teacher, attention_step())
    step = lessons.load_lesson(lessons.LESSONS_DIR / f"{LESSON}.yaml").steps[attention_step() - 1]
    rerun(student).button(key="live_explore").click().run()
    assert not student.exception and student.title[0].value == "Attention"
    assert student.session_state["sentence"] == step.get("sentence")
    assert any(button.key == "live_attention_send" for button in student.button)  # still in the class: can send


def heatmap_tokens(at: AppTest, plotly_chart) -> list[str]:
    """The key tokens (x axis) of the step's attention map."""
    return list(plotly_chart(at, 0)["layout"]["xaxis"]["ticktext"])


def test_a_sentence_the_teacher_projects_becomes_the_students_steps_sentence(tiny_spec, plotly_chart):
    teacher, code = open_class(tiny_spec)
    student = join(code, "Ana", tiny_spec)
    start_and_go_to(teacher, attention_step())
    before = heatmap_tokens(rerun(student), plotly_chart)
    student.text_input(key="live_follow_sentence").input("The cat is tired")
    student.button(key="live_follow_send").click().run()
    rerun(teacher)
    next(button for button in teacher.button if button.key.startswith("live_project_")).click().run()
    after = heatmap_tokens(rerun(student), plotly_chart)
    assert before == ["[CLS]", "i", "love", "programming", "[SEP]"]  # the lesson's own sentence
    assert after == ["[CLS]", "the", "cat", "is", "tired", "[SEP]"]
    assert heatmap_tokens(teacher, plotly_chart) == after  # the projector shows the same


# The teacher's tab closes; the class goes on

def reopen(code: str, spec=None) -> AppTest:
    """A new tab on the class's link: the teacher types the passphrase and takes the controls."""
    again = app(spec, **{"class": code})
    again.text_input(key="live_reopen_passphrase").input(PASSPHRASE)
    again.button(key="live_reopen").click().run()
    assert not again.exception
    return again


def test_after_the_teachers_tab_closed_the_reopened_class_carries_on_for_its_students():
    teacher, code = open_class()
    student = join(code, "Ana")
    start_and_go_to(teacher, 2)
    del teacher  # the tab closed
    again = reopen(code)
    steps = lessons.load_lesson(lessons.LESSONS_DIR / f"{LESSON}.yaml").steps
    assert steps[1].title in shown(again)  # where the class was
    again.query_params["step"] = "3"
    rerun(again)
    assert steps[2].title in shown(rerun(student)) and LiveClasses().state(code).members == 1


@pytest.fixture
def downloads(monkeypatch):
    """The bytes behind the download buttons of the last run of any AppTest (its in-memory media files, kept)."""
    from streamlit.runtime import memory_media_file_storage
    from streamlit.testing.v1 import app_test

    stores = []

    class KeptStorage(memory_media_file_storage.MemoryMediaFileStorage):
        def __init__(self, endpoint):
            super().__init__(endpoint)
            stores.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", KeptStorage)
    return lambda: [file.content for file in stores[-1]._files_by_id.values()]


def test_an_ended_class_s_answers_download_after_the_teacher_reopens_the_page(tiny_spec, downloads):
    teacher, student, code, question_id = one_student_asked(tiny_spec)
    rerun(student).radio(key=f"live_answer_{question_id}").set_value(1)
    student.button(key=f"live_send_{question_id}").click().run()
    rerun(teacher).button(key="live_end").click().run()
    again = reopen(code, tiny_spec)
    assert "This class has ended" in shown(again)
    assert any("answers (CSV)" in button.proto.label for button in again.get("download_button"))
    csv = next(content for content in downloads() if content.startswith(b"question,kind,prompt"))
    rows = csv.decode("utf-8").splitlines()
    assert len(rows) == 2 and ",Ana," in rows[1]


# A code that expires; wrong passphrases

def age_class(code: str, seconds: float) -> None:
    """The class as it is `seconds` later with no teacher's action: its times moved back."""
    import sqlalchemy as sa

    with LiveClasses().tables.engine.begin() as connection:
        connection.execute(sa.text("UPDATE classes SET created = created - :s, teacher_at = teacher_at - :s "
                                   "WHERE code = :code"), {"s": seconds, "code": code})


def test_an_expired_code_says_so_distinctly_and_offers_no_join_button():
    _, code = open_class()
    age_class(code, live_class.CLASS_IDLE_S + 60)
    at = app(**{"class": code})
    assert "code no longer works" in shown(at) and "No class has the code" not in shown(at)
    assert not any(button.key == "live_join" for button in at.button)
    assert LiveClasses().state(code).members == 0


def test_the_teachers_next_step_brings_an_expired_class_back_to_its_students():
    teacher, code = open_class()
    student = join(code, "Ana")
    start_and_go_to(teacher, 2)
    age_class(code, live_class.CLASS_IDLE_S + 60)
    assert "code no longer works" in shown(rerun(student))
    teacher.query_params["step"] = "3"
    rerun(teacher)
    steps = lessons.load_lesson(lessons.LESSONS_DIR / f"{LESSON}.yaml").steps
    assert steps[2].title in shown(rerun(student)) and "You are Ana." in shown(student)


def test_the_teachers_screen_says_when_the_code_has_stopped_working():
    teacher, code = open_class()
    age_class(code, live_class.CLASS_IDLE_S + 60)
    assert "the code has stopped working" in shown(rerun(teacher))


def test_the_join_screen_says_how_long_the_code_works():
    teacher, _ = open_class()
    assert f"{live_class.CLASS_IDLE_HOURS} hours" in shown(teacher) and "ends the class" in shown(teacher)


def test_wrong_passphrases_are_limited_then_even_the_right_one_waits():
    at = app(lesson=LESSON, step="1")
    for _ in range(live_class.PASSPHRASE_ATTEMPTS):
        at.text_input(key="live_passphrase").input("guess")
        at.button(key="live_open").click().run()
        assert "not the teacher's passphrase" in shown(at)
    at.text_input(key="live_passphrase").input(PASSPHRASE)
    at.button(key="live_open").click().run()
    assert "Too many wrong passphrases" in shown(at) and "class" not in at.query_params


# More bad cases: a replayed token, the database out of reach or locked while students answer

def test_a_token_replayed_from_another_class_is_refused_and_neither_class_changes():
    _, code = open_class()
    _, other = open_class()
    ana = join(other, "Ana")
    at = app(**{"class": code, "student": ana.query_params["student"]})
    assert "does not belong to this class" in shown(at) and "You are Ana." not in shown(at)
    assert (LiveClasses().state(code).members, LiveClasses().state(other).members) == (0, 1)


def test_a_token_replayed_after_the_class_ended_is_refused():
    teacher, code = open_class()
    ana = join(code, "Ana")
    start_and_go_to(teacher, 1)
    teacher.button(key="live_end").click().run()
    at = app(**{"class": code, "student": ana.query_params["student"]})
    assert "This class has ended" in shown(at) and "You are Ana." not in shown(at)
    assert not any(button.key == "live_join" for button in at.button)


def out_of_reach(monkeypatch) -> None:
    """The class database stops answering (a server that went down), for every session of this app server."""
    import sqlalchemy as sa

    classes = live_class_panel.get_classes()
    monkeypatch.setattr(classes.tables, "engine", sa.create_engine("postgresql+psycopg://t:hunter2@127.0.0.1:1/x"))


def send_answer(student: AppTest, question_id: int, choice: int) -> AppTest:
    student.radio(key=f"live_answer_{question_id}").set_value(choice)
    student.button(key=f"live_send_{question_id}").click().run()
    assert not student.exception
    return student


def test_an_answer_sent_while_the_database_is_down_says_so_and_counts_once_when_sent_again(tiny_spec, monkeypatch):
    teacher, student, code, question_id = one_student_asked(tiny_spec)
    rerun(student)
    with monkeypatch.context() as outage:
        out_of_reach(outage)
        assert "ALBERT_VIZ_DATABASE_URL" in shown(send_answer(student, question_id, 1))
        assert "ALBERT_VIZ_DATABASE_URL" in shown(rerun(teacher))
    for _ in range(2):  # the database back: the student presses Send again (twice, impatient)
        send_answer(rerun(student), question_id, 1)
    assert "Sent:" in shown(student) and "1 of 1 answered" in shown(rerun(teacher))
    assert LiveClasses().state(code).question.answered == 1


def test_a_locked_database_is_a_message_to_the_student_and_the_answer_lands_once_after(tiny_spec, monkeypatch, tmp_path):
    import sqlite3

    from albert_viz.store import engine as store_engine

    monkeypatch.setattr(store_engine, "SQLITE_BUSY_S", 0.3)  # a lock held past this is a fault, not a wait
    _, student, code, question_id = one_student_asked(tiny_spec)
    send_answer(rerun(student), question_id, 0)
    holder = sqlite3.connect(tmp_path / "classes.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing, and stuck
    try:
        assert "locked" in shown(send_answer(student, question_id, 2))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    send_answer(rerun(student), question_id, 2)
    current = LiveClasses().state(code).question
    assert current.answered == 1 and LiveClasses().my_answer(live_class_panel.get_classes().member(
        code, student.query_params["student"]), question_id) == 2


def test_the_map_that_holds_the_answer_is_hidden_while_the_class_answers(tiny_spec):
    teacher, student, _, _ = one_student_asked(tiny_spec)
    for screen in (rerun(teacher), rerun(student)):
        assert not screen.get("plotly_chart") and "it would give the answer away" in shown(screen)
    teacher.button(key="live_reveal").click().run()
    for screen in (teacher, rerun(student)):
        titles = [chart.proto.spec for chart in screen.get("plotly_chart")]
        assert len(titles) == 2 and "Layer 0, head" in titles[0]  # the step's map is back, above the class's answers
