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


def _class(teacher_url: str, student_url: str, browser, shots: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    teacher = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    teacher.goto(f"{teacher_url}/present?lesson=self_attention&step=1", wait_until="domcontentloaded")
    teacher.get_by_text("Teach this lesson live").click(timeout=TIMEOUT_MS)
    teacher.get_by_label("Teacher's passphrase").fill(PASSPHRASE)
    teacher.get_by_role("button", name="Open a class").click()
    code_box = teacher.locator("[data-testid=live-code]")
    code_box.wait_for(timeout=TIMEOUT_MS)
    code = code_box.inner_text().strip()
    students = []
    for number, name in enumerate(("Ana", "<b>Ben</b>", "")):
        phone = number == 0
        context = browser.new_context(viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 720})
        student = context.new_page()
        student.goto(f"{student_url}/present?class={code}", wait_until="domcontentloaded")
        student.get_by_label("Your name (optional, shown to the teacher)").fill(name, timeout=TIMEOUT_MS)
        student.get_by_role("button", name="Join").click()
        student.wait_for_url(re.compile("student="), timeout=TIMEOUT_MS)
        students.append(student)
    teacher.get_by_text("3 joined").first.wait_for(timeout=TIMEOUT_MS)
    if shots:
        teacher.screenshot(path=str(SHOTS / "live_join_screen.png"))
    teacher.get_by_role("button", name="Start the lesson ▶").click()
    for _ in range(ATTENTION_STEP - 1):
        teacher.get_by_role("button", name="Next ▶").click()
        teacher.wait_for_timeout(700)
    teacher.wait_for_url(re.compile(f"step={ATTENTION_STEP}"), timeout=TIMEOUT_MS)
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
