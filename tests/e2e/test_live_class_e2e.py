"""A live class in Chromium: the teacher and three students, each in their own browser context, follow a lesson,
answer a question and see the reveal; on one server (SQLite), and with the students on a second server (PostgreSQL)."""
from __future__ import annotations

import re

from server import REPO, running_app

from albert_viz.teaching import lessons

TIMEOUT_MS = 90_000
PASSPHRASE = "correct horse"
LESSON = lessons.load_lesson(lessons.LESSONS_DIR / "self_attention.yaml")
ATTENTION_STEP = next(i for i, step in enumerate(LESSON.steps, 1) if step.view == "attention")
SHOTS = REPO / "build" / "screenshots"


def _open_class(teacher_url: str, browser):
    """The teacher, at 1280x720, opens a class for the self-attention lesson: (their page, the class's code)."""
    teacher = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    teacher.goto(f"{teacher_url}/present?lesson=self_attention&step=1", wait_until="domcontentloaded")
    teacher.get_by_text("Teach this lesson live").click(timeout=TIMEOUT_MS)
    teacher.get_by_label("Teacher's passphrase").fill(PASSPHRASE)
    teacher.get_by_role("button", name="Open a class").click()
    code_box = teacher.locator("[data-testid=live-code]")
    code_box.wait_for(timeout=TIMEOUT_MS)
    return teacher, code_box.inner_text().strip()


def _join(page, student_url: str, code: str, name: str) -> None:
    page.goto(f"{student_url}/present?class={code}", wait_until="domcontentloaded")
    page.get_by_label("Your name (optional, shown to the teacher)").fill(name, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Join").click()
    page.wait_for_url(re.compile("student="), timeout=TIMEOUT_MS)


def _start_and_go_to_the_attention_step(teacher) -> None:
    teacher.get_by_role("button", name="Start the lesson ▶").click()
    for _ in range(ATTENTION_STEP - 1):
        teacher.get_by_role("button", name="Next ▶").click()
        teacher.wait_for_timeout(700)
    teacher.wait_for_url(re.compile(f"step={ATTENTION_STEP}"), timeout=TIMEOUT_MS)


def _class(teacher_url: str, student_url: str, browser, shots: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    teacher, code = _open_class(teacher_url, browser)
    students = []
    for number, name in enumerate(("Ana", "<b>Ben</b>", "")):
        phone = number == 0
        context = browser.new_context(viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 720})
        student = context.new_page()
        _join(student, student_url, code, name)
        students.append(student)
    teacher.get_by_text("3 joined").first.wait_for(timeout=TIMEOUT_MS)
    if shots:
        teacher.screenshot(path=str(SHOTS / "live_join_screen.png"))
    _start_and_go_to_the_attention_step(teacher)
    title = LESSON.steps[ATTENTION_STEP - 1].title
    for student in students:  # the poll brings the teacher's step without a touch
        student.get_by_role("heading", name=title).wait_for(timeout=TIMEOUT_MS)
    teacher.get_by_role("button", name="Ask the class").click(timeout=TIMEOUT_MS)
    for number, student in enumerate(students):
        student.get_by_text("Question from the teacher.").wait_for(timeout=TIMEOUT_MS)
        student.locator(".st-key-live_question [data-testid=stRadioOption]").nth(number % 2).click()
        student.get_by_role("button", name="Send my answer").click()
        student.get_by_text("Sent:").wait_for(timeout=TIMEOUT_MS)
    teacher.get_by_text("3 of 3 answered").first.wait_for(timeout=TIMEOUT_MS)
    teacher.get_by_role("button", name="Reveal the answers").click()
    teacher.get_by_text("of 3 agreed with the model").wait_for(timeout=TIMEOUT_MS)
    if shots:
        teacher.locator("[class*=st-key-live_question]").scroll_into_view_if_needed()
        teacher.screenshot(path=str(SHOTS / "live_revealed.png"))
    for student in students:
        student.get_by_text("Your answer:").wait_for(timeout=TIMEOUT_MS)
    assert "<b>Ben</b>" not in students[1].content().replace("&lt;b&gt;Ben&lt;/b&gt;", "")
    if shots:
        students[0].screenshot(path=str(SHOTS / "live_student_phone.png"), full_page=True)


def test_a_teacher_and_three_students_follow_a_lesson_answer_and_see_the_reveal(page, tmp_path):
    env = {"ALBERT_VIZ_TEACHER_PASSPHRASE": PASSPHRASE, "ALBERT_VIZ_DATA": str(tmp_path / "data")}
    with running_app(env=env) as url:
        _class(url, url, page.context.browser, shots=True)


def test_the_students_follow_on_a_second_server_on_the_same_postgresql(page, postgres, tmp_path):
    shared = {"ALBERT_VIZ_DATABASE_URL": postgres.new_database(), "ALBERT_VIZ_TEACHER_PASSPHRASE": PASSPHRASE,
              "ALBERT_VIZ_DATA": str(tmp_path / "data")}
    with running_app(env=shared) as first, running_app(env=shared) as second:
        _class(first, second, page.context.browser)


def test_a_student_explores_on_their_own_comes_back_and_a_second_tab_is_the_same_student(page, tmp_path):
    env = {"ALBERT_VIZ_TEACHER_PASSPHRASE": PASSPHRASE, "ALBERT_VIZ_DATA": str(tmp_path / "data")}
    with running_app(env=env) as url:
        browser = page.context.browser
        teacher, code = _open_class(url, browser)
        laptop = browser.new_context(viewport={"width": 1280, "height": 720})
        student = laptop.new_page()
        _join(student, url, code, "Ana")
        second_tab = laptop.new_page()  # the same link in another tab of the same browser: the same student
        _join(second_tab, url, code, "Someone else")
        second_tab.get_by_text("You are Ana.").wait_for(timeout=TIMEOUT_MS)
        teacher.get_by_text("1 joined").first.wait_for(timeout=TIMEOUT_MS)
        second_tab.close()
        _start_and_go_to_the_attention_step(teacher)
        step = LESSON.steps[ATTENTION_STEP - 1]
        student.get_by_role("heading", name=step.title).wait_for(timeout=TIMEOUT_MS)
        student.get_by_role("button", name="Explore on my own").click()
        student.wait_for_url(re.compile("/attention"), timeout=TIMEOUT_MS)
        box = student.get_by_label("Sentence", exact=True)
        box.wait_for(timeout=TIMEOUT_MS)
        assert box.input_value() == step.get("sentence")  # the step's sentence, on the app's own page
        student.get_by_role("button", name="Back to the class").click(timeout=TIMEOUT_MS)
        student.get_by_role("heading", name=step.title).wait_for(timeout=TIMEOUT_MS)
        teacher.get_by_role("button", name="Next ▶").click()  # following again: the teacher's next step arrives
        student.get_by_role("heading", name=LESSON.steps[ATTENTION_STEP].title).wait_for(timeout=TIMEOUT_MS)
        assert "You are Ana." in student.inner_text("body")
