"""A live class: one teacher and N students on one app server, the teacher stepping through a lesson.

The app is served by `streamlit run` on 127.0.0.1 (tests/e2e/server.py), its SQLite store in a scratch folder,
ALBERT_VIZ_TEACHER_PASSPHRASE set. For each class size N the teacher, in headless Chromium (the projector is a
browser), opens a class for a lesson with question steps (default: pretraining, 10 steps, 4 of them questions),
waits for the class to join, and steps through the whole lesson, asking the class on its first three question
steps and revealing the answers. The students join by the join link (`/present?class=CODE`), with a name, and
then only follow: their screens change because their follower fragment (st.fragment(run_every=1 s)) polls.
--browsers K of them (default 3) are Chromium contexts; the rest are real Streamlit sessions driven over the
server's own websocket protocol (bench/wire_session.py), which polls each run_every fragment on a timer exactly as
the browser's frontend does (rerun_script with the fragment's id), and is shown only what its own reruns send.

Measured, on the same wall clock (time.time() here, Date.now() in the browsers):
- follow: the teacher's step change (the moment the teacher's screen shows the new step's heading: the click's
  rerun has stored the step by then) -> each student's screen showing that heading;
- answer -> count: a student pressing "Send my answer" -> the projector's "k of N answered" reaching the rank of
  that answer (answers are ranked by press time; answers come 0.5-4 s apart at random after the question shows);
- idle: the server process's CPU seconds per wall second (psutil) while the class sits on the last step for
  --idle-s seconds (20 by default), as % of one core: every follower polls each 1.5 s, the teacher's count
  each second (FOLLOW_POLL_S and POLL_S in albert_viz/ui/live_class_panel.py).
Also printed: question and reveal reaching the students' screens, full-page reruns while idle (should be 0),
and every error: timeouts, exceptions drawn, error messages drawn, page errors. Goals: p95 follow <= 3 s,
answer -> count p95 <= 2 s, idle <= 15% of one core at N = 30, 0 errors.
Bounded: a share of --budget-s per class size, and no wait longer than --wait-s.

On this 2-core machine the Chromium contexts cost more CPU than the server; in a class each browser runs on its
own device, which is what the websocket students stand for. A follower's page run costs the server ~17 ms of CPU
(py-spy on the server: it was ~40 ms while every run re-read and re-parsed all lesson files), an idle poll ~4 ms.

Last line: ratio=<p95 follow at the largest N> / <p95 follow at N=1> (goal <= 2).

    .venv/bin/python bench/live_class.py              # N = 1, 30 (about 3 minutes on the 2-core machine)
    .venv/bin/python bench/live_class.py --quick      # N = 1, 5 (about 3 minutes: the model loads first)
    .venv/bin/python bench/live_class.py --browsers 0 # every student over the websocket
    .venv/bin/python bench/live_class.py --lesson attention_heads --sizes 1 10
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # albert_viz from this checkout, without installing
from classroom import CpuMeter, percentiles
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright
from server import CHROMIUM_ARGS, chromium_path, running_app
from wire_session import WireSession, WireTimeout

from albert_viz.teaching import lessons
from albert_viz.teaching.live_class import PASSPHRASE_VARIABLE

PASSPHRASE = "bench passphrase"
QUESTIONS = 3
TEACHER_PAUSE_S = (1.0, 3.0)  # the teacher talks a little on each step; drawn at random, so that step changes
# fall at every phase of the students' one-second polls (a fixed pause locks onto one phase and flatters N=1)
FOLLOWING = "Following the teacher live"
ASKED, SENT, REVEALED = "Question from the teacher.", "Sent:", "Your answer:"

HAS_HEADING = """title => [...document.querySelectorAll('h1, h2, h3')].some(h => h.textContent.includes(title))
    ? Date.now() : false"""
HAS_TEXT = "text => document.body.textContent.includes(text) ? Date.now() : false"
# On the projector: every change of "k of N answered", with its time, kept in the page (50 ms polling).
COUNT_LOGGER = """() => {
    window.answeredLog = [];
    let last = null;
    setInterval(() => {
        const bar = document.querySelector('.st-key-live_joined');
        const found = bar && bar.textContent.match(/(\\d+) of \\d+ answered/);
        const count = found ? Number(found[1]) : null;
        if (count !== last) { window.answeredLog.push([Date.now(), count]); last = count; }
    }, 50);
}"""


class Late(Exception):
    """What was awaited did not show before its deadline."""


@dataclass
class Tally:
    """One class size: latencies in seconds by kind, idle CPU, and every error in words."""

    follow: dict[str, list[float]] = field(default_factory=lambda: {"chromium": [], "wire": []})
    asked: list[float] = field(default_factory=list)  # the question reaching the students' screens
    revealed: list[float] = field(default_factory=list)
    answer_count: list[float] = field(default_factory=list)
    joins: list[float] = field(default_factory=list)
    idle_core_percent: float = float("nan")
    idle_full_reruns: int = 0
    idle_polls_per_student_s: float = float("nan")
    errors: list[str] = field(default_factory=list)

    @property
    def all_follow(self) -> list[float]:
        return self.follow["chromium"] + self.follow["wire"]


def bounded(deadline: float, wait_s: float) -> float:
    """A wait's deadline (time.monotonic()): wait_s from now, never past the phase's deadline."""
    return min(deadline, time.monotonic() + wait_s)


# ---------------------------------------------------------------------------------------------------------------
# The students: the same four things, in Chromium or over the websocket
# ---------------------------------------------------------------------------------------------------------------

class BrowserStudent:
    kind = "chromium"

    def __init__(self, browser, url: str, index: int) -> None:
        self.browser, self.url, self.name, self.page = browser, url, f"Student {index}", None
        self.page_errors: list[str] = []

    async def join(self, code: str, deadline: float) -> None:
        context = await self.browser.new_context(viewport={"width": 1280, "height": 720})
        context.set_default_timeout(max(deadline - time.monotonic(), 1) * 1000)
        self.page = await context.new_page()
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error).splitlines()[0]))
        await self.page.goto(f"{self.url}/present?class={code}", wait_until="domcontentloaded")
        await self.page.get_by_label("Your name (optional, shown to the teacher)").fill(self.name)
        await self.page.get_by_role("button", name="Join").click()
        await self.shown(FOLLOWING, 0, deadline)

    async def _wait(self, expression: str, arg: str, deadline: float) -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Late(arg)
        try:
            handle = await self.page.wait_for_function(expression, arg=arg, timeout=remaining * 1000, polling=50)
        except PlaywrightError as error:
            raise Late(arg) from error
        return await handle.json_value() / 1000

    async def heading(self, title: str, since: float, deadline: float) -> float:
        return await self._wait(HAS_HEADING, title, deadline)

    async def shown(self, text: str, since: float, deadline: float) -> float:
        return await self._wait(HAS_TEXT, text, deadline)

    async def answer(self, rng: random.Random, since: float) -> float:
        options = self.page.locator(".st-key-live_question [data-testid=stRadioOption]")
        await options.nth(rng.randrange(await options.count())).click()
        pressed = time.time()
        await self.page.get_by_role("button", name="Send my answer").click()
        return pressed

    async def drawn_errors(self) -> list[str]:
        found = list(self.page_errors)
        if self.page is not None:
            with contextlib.suppress(PlaywrightError):
                if shown := await self.page.locator("[data-testid=stException]").count():
                    found.append(f"{shown} exception(s) drawn")
                if shown := await self.page.locator("[data-testid=stAlertContentError]").count():
                    found.append(f"{shown} error message(s) drawn")
        return found

    async def close(self) -> None:
        if self.page is not None:
            with contextlib.suppress(PlaywrightError):
                await self.page.context.close()


class WireStudent:
    kind = "wire"

    def __init__(self, url: str, index: int) -> None:
        self.url, self.name, self.session = url, f"Student {index}", None

    async def join(self, code: str, deadline: float) -> None:
        self.session = await WireSession(self.url, "present", f"class={code}").__aenter__()
        await self.session.widget("live_join", deadline)
        await self.session.click("live_join", texts={"live_name": self.name})
        await self.shown(FOLLOWING, 0, deadline)

    async def heading(self, title: str, since: float, deadline: float) -> float:
        return await self._first(title, since, deadline, "heading")

    async def shown(self, text: str, since: float, deadline: float) -> float:
        return await self._first(text, since, deadline, None)

    async def _first(self, text: str, since: float, deadline: float, kind: str | None) -> float:
        try:
            return await self.session.first_shown(text, since, deadline, kind=kind)
        except WireTimeout as error:
            raise Late(text) from error

    async def answer(self, rng: random.Random, since: float) -> float:
        """Pick a choice and press Send, once this question's radio and Send button (drawn after `since`) are there."""
        try:
            radio = await self.session.widget("live_answer_", time.monotonic() + 10, since)
            send = await self.session.widget(radio.replace("live_answer_", "live_send_"), time.monotonic() + 10, since)
        except WireTimeout as error:
            raise Late("the question's choices and Send button") from error
        choice = rng.randrange(len(self.session.radio_options(radio)))
        pressed = time.time()
        await self.session.click(send, radios={radio: choice})
        return pressed

    async def drawn_errors(self) -> list[str]:
        if self.session is None:
            return []
        return ([f"exception drawn: {text.splitlines()[0][:80]}" for text in self.session.exceptions]
                + [f"error drawn: {shown.text[:80]}" for shown in self.session.shown if shown.kind == "alert-error"])

    async def close(self) -> None:
        if self.session is not None:
            await self.session.__aexit__(None, None, None)


# ---------------------------------------------------------------------------------------------------------------
# The teacher, in Chromium
# ---------------------------------------------------------------------------------------------------------------

class Teacher:
    def __init__(self, page, lesson: lessons.Lesson) -> None:
        self.page, self.lesson = page, lesson

    async def open_class(self, url: str, deadline: float) -> str:
        await self.page.goto(f"{url}/present?lesson={self.lesson.name}&step=1", wait_until="domcontentloaded")
        await self.page.get_by_text("Teach this lesson live").click()
        await self.page.get_by_label("Teacher's passphrase").fill(PASSPHRASE)
        await self.page.get_by_role("button", name="Open a class").click()
        code = self.page.locator("[data-testid=live-code]")
        await code.wait_for()
        return (await code.inner_text()).strip()

    async def start(self, students: int, deadline: float) -> float:
        await self.page.get_by_text(re.compile(rf"\b{students} joined")).first.wait_for()
        await self.page.get_by_role("button", name="Start the lesson ▶").click()
        shown = await self.heading(self.lesson.steps[0].title, deadline)
        await self.page.evaluate(COUNT_LOGGER)
        return shown

    async def heading(self, title: str, deadline: float) -> float:
        remaining = max(deadline - time.monotonic(), 0.1)
        handle = await self.page.wait_for_function(HAS_HEADING, arg=title, timeout=remaining * 1000, polling=50)
        return await handle.json_value() / 1000

    async def next_step(self, index: int, deadline: float) -> float:
        """Press Next; the time the projector shows step `index`'s heading (its rerun has stored the step)."""
        await self.page.get_by_role("button", name="Next ▶").click()
        return await self.heading(self.lesson.steps[index].title, deadline)

    async def ask(self, deadline: float) -> tuple[float, float]:
        """Press Ask the class: (the time before the press, the time the projector shows the question)."""
        button = self.page.get_by_role("button", name="Ask the class")
        await button.wait_for()
        clicked = time.time()
        await button.click()
        handle = await self.page.wait_for_function(HAS_TEXT, arg="Question to the class.", polling=50,
                                                   timeout=max(deadline - time.monotonic(), 0.1) * 1000)
        return clicked, await handle.json_value() / 1000

    async def answered_log(self) -> list[tuple[float, int]]:
        return [(at / 1000, count) for at, count in await self.page.evaluate("window.answeredLog")
                if count is not None]

    async def all_answered(self, students: int, deadline: float) -> None:
        await self.page.get_by_text(re.compile(rf"\b{students} of {students} answered")).first.wait_for(
            timeout=max(deadline - time.monotonic(), 0.1) * 1000)

    async def reveal(self, deadline: float) -> tuple[float, float]:
        clicked = time.time()
        await self.page.get_by_role("button", name="Reveal the answers").click()
        handle = await self.page.wait_for_function(HAS_TEXT, arg="agreed with the model", polling=50,
                                                   timeout=max(deadline - time.monotonic(), 0.1) * 1000)
        return clicked, await handle.json_value() / 1000


# ---------------------------------------------------------------------------------------------------------------
# One class
# ---------------------------------------------------------------------------------------------------------------

async def each(students: list, tally: Tally, what: str, action) -> list[float | None]:
    """Run `action(student)` for every student at once; a late or failed one is an error, its result None."""
    async def one(number: int, student):
        try:
            return await action(student)
        except (Late, PlaywrightError, OSError, KeyError) as error:
            tally.errors.append(f"{student.kind} student {number}: {what}: {type(error).__name__} "
                                f"{str(error).splitlines()[0][:100] if str(error) else ''}")
            return None
    return await asyncio.gather(*(one(number, student) for number, student in enumerate(students)))


def answer_latencies(pressed: list[float], log: list[tuple[float, int]]) -> list[float]:
    """Press -> the projector's count reaching the answer's rank (answers ranked by press time)."""
    latencies = []
    for rank, at in enumerate(sorted(pressed), start=1):
        counted = next((when for when, count in log if count >= rank and when >= at), None)
        if counted is not None:
            latencies.append(counted - at)
    return latencies


async def ask_the_class(teacher: Teacher, students: list, tally: Tally, rng: random.Random, deadline: float,
                        wait_s: float) -> None:
    clicked, asked = await teacher.ask(bounded(deadline, wait_s))
    shown = await each(students, tally, "question shown",
                       lambda s: s.shown(ASKED, clicked, bounded(deadline, wait_s)))
    tally.asked += [at - asked for at in shown if at is not None]

    async def answer(student) -> float:
        await asyncio.sleep(rng.uniform(0.5, 4.0))
        pressed = await student.answer(rng, clicked)
        await student.shown(SENT, pressed, bounded(deadline, wait_s))
        return pressed

    pressed = [at for at in await each(students, tally, "answer", answer) if at is not None]
    try:
        await teacher.all_answered(len(students), bounded(deadline, wait_s))
    except PlaywrightError:
        tally.errors.append(f"projector: {len(students)} of {len(students)} answered not shown in time")
    await asyncio.sleep(0.2)  # the page's count logger samples every 50 ms: let it log what is on screen
    counted = answer_latencies(pressed, await teacher.answered_log())
    tally.errors += ["projector: an answer never counted"] * (len(pressed) - len(counted))
    tally.answer_count += counted
    clicked, revealed = await teacher.reveal(bounded(deadline, wait_s))
    shown = await each(students, tally, "reveal shown",
                       lambda s: s.shown(REVEALED, clicked, bounded(deadline, wait_s)))
    tally.revealed += [at - revealed for at in shown if at is not None]


async def sit_idle(students: list, tally: Tally, idle_s: float) -> None:
    """The class on its last step, nothing changing: the server's CPU per wall second, full reruns counted."""
    wire = [s.session for s in students if s.kind == "wire" and s.session is not None]
    meter = CpuMeter()
    await asyncio.sleep(2)  # the last step's reruns are over
    meter.sample()
    before_cpu, before_wall = meter.totals()["server"], time.monotonic()
    before_runs = [(session.runs_finished, session.fragment_runs_finished) for session in wire]
    await asyncio.sleep(idle_s)
    meter.sample()
    wall = time.monotonic() - before_wall
    tally.idle_core_percent = 100 * (meter.totals()["server"] - before_cpu) / wall
    tally.idle_full_reruns = sum(session.runs_finished - runs for session, (runs, _) in zip(wire, before_runs))
    if wire:
        polls = sum(session.fragment_runs_finished - fragments for session, (_, fragments) in zip(wire, before_runs))
        tally.idle_polls_per_student_s = polls / len(wire) / wall


async def one_class(browser, url: str, lesson: lessons.Lesson, size: int, in_chromium: int, budget_s: float,
                    wait_s: float, idle_s: float) -> Tally:
    tally, rng = Tally(), random.Random(size)
    deadline = time.monotonic() + budget_s
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(wait_s * 1000)
    teacher_page = await context.new_page()
    teacher_page.on("pageerror", lambda error: tally.errors.append(f"projector: page error {error}"))
    teacher = Teacher(teacher_page, lesson)
    students = [BrowserStudent(browser, url, i) if i < in_chromium else WireStudent(url, i) for i in range(size)]
    try:
        code = await teacher.open_class(url, bounded(deadline, 180))

        async def join(student) -> float:
            await asyncio.sleep(0.3 * students.index(student))  # a class arrives over a few seconds, not at once
            started = time.monotonic()
            await student.join(code, bounded(deadline, 120))
            return time.monotonic() - started

        took = await each(students, tally, "join", join)
        joined = [student for student, seconds in zip(students, took) if seconds is not None]
        tally.joins = [seconds for seconds in took if seconds is not None]
        await teacher.start(len(joined), bounded(deadline, wait_s))
        questions = 0
        for index in range(1, len(lesson.steps)):
            if time.monotonic() > deadline:
                tally.errors.append(f"phase deadline passed before step {index + 1}")
                break
            await asyncio.sleep(rng.uniform(*TEACHER_PAUSE_S))
            title = lesson.steps[index].title
            clicked = time.time()
            changed = await teacher.next_step(index, bounded(deadline, wait_s))
            seen = await each(joined, tally, f"step {index + 1} shown",
                              lambda s, title=title, clicked=clicked: s.heading(title, clicked, bounded(deadline, wait_s)))
            for student, at in zip(joined, seen):
                if at is not None:
                    tally.follow[student.kind].append(at - changed)
            if lesson.steps[index].view == "quiz" and questions < QUESTIONS:
                questions += 1
                await ask_the_class(teacher, joined, tally, rng, deadline, wait_s)
        await sit_idle(joined, tally, idle_s)
        for number, student in enumerate(students):
            tally.errors += [f"{student.kind} student {number}: {error}" for error in await student.drawn_errors()]
        if shown := await teacher_page.locator("[data-testid=stException]").count():
            tally.errors.append(f"projector: {shown} exception(s) drawn")
    except PlaywrightError as error:
        tally.errors.append(f"projector: {str(error).splitlines()[0][:120]}")
    finally:
        await asyncio.gather(*(student.close() for student in students))
        with contextlib.suppress(PlaywrightError):
            await context.close()
    return tally


def p95(latencies: list[float]) -> float:
    return float(np.percentile(latencies, 95)) if latencies else float("nan")


def summary(size: int, tally: Tally, wall_s: float) -> str:
    lines = [(f"N={size:<3d} follow: samples={len(tally.all_follow)} {percentiles(tally.all_follow)} "
              f"(Chromium {percentiles(tally.follow['chromium'])}; websocket {percentiles(tally.follow['wire'])})"),
             f"       answer -> projector's count: samples={len(tally.answer_count)} {percentiles(tally.answer_count)}",
             (f"       question shown: {percentiles(tally.asked)}; reveal shown: {percentiles(tally.revealed)}; "
              f"join: {percentiles(tally.joins)}"),
             (f"       idle: server {tally.idle_core_percent:.1f}% of one core; full reruns while idle: "
              f"{tally.idle_full_reruns}; polls per websocket student per s: {tally.idle_polls_per_student_s:.2f}"),
             f"       errors={len(tally.errors)} wall={wall_s:.0f}s"]
    return "\n".join(lines)


async def warm_up(browser, url: str, lesson: lessons.Lesson, wait_s: float) -> None:
    """One unmeasured look at the lesson's first question step, so the model is loaded before the first class."""
    index = next((i for i, step in enumerate(lesson.steps) if step.view == "quiz"), 0)
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = await context.new_page()
        await page.goto(f"{url}/present?lesson={lesson.name}&step={index + 1}", wait_until="domcontentloaded")
        await page.wait_for_function(HAS_HEADING, arg=lesson.steps[index].title, timeout=wait_s * 1000)
        await page.locator("[data-testid=stRadio], [data-testid=stAlertContainer]").first.wait_for(
            timeout=wait_s * 1000)  # the question card, built from the loaded model
    except PlaywrightError as error:
        print(f"warm-up: {str(error).splitlines()[0]}", flush=True)
    finally:
        await context.close()


async def main_async(sizes: list[int], browsers: int, lesson: lessons.Lesson, budget_s: float, wait_s: float,
                     idle_s: float) -> None:
    started = time.monotonic()
    weights = [size + 20 for size in sizes]  # N=1 gets 30% of what is left, N=30 the rest
    results: dict[int, Tally] = {}
    with tempfile.TemporaryDirectory(prefix="albert_viz_live_class_") as scratch:
        env = {PASSPHRASE_VARIABLE: PASSPHRASE, "ALBERT_VIZ_DATA": str(Path(scratch) / "data")}
        with running_app(env=env) as url:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS,
                                                           headless=True)
                try:
                    await warm_up(browser, url, lesson, 180)
                    for position, size in enumerate(sizes):
                        left = budget_s - (time.monotonic() - started) - 30  # keep time to stop everything
                        share = left * weights[position] / sum(weights[position:])
                        phase_started = time.monotonic()
                        results[size] = await one_class(browser, url, lesson, size, min(browsers, size), share,
                                                        wait_s, idle_s)
                        print(summary(size, results[size], time.monotonic() - phase_started), flush=True)
                        for error in sorted(set(results[size].errors))[:8]:
                            print(f"  error: {error}", flush=True)
                finally:
                    await browser.close()
    errors = sum(len(tally.errors) for tally in results.values())
    print(f"total wall={time.monotonic() - started:.0f}s errors={errors}; "
          f"ratio = p95 follow (N={sizes[-1]}) / p95 follow (N={sizes[0]})")
    print(f"ratio={p95(results[sizes[-1]].all_follow) / p95(results[sizes[0]].all_follow):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 1, 5 instead of 1, 30")
    parser.add_argument("--sizes", type=int, nargs="+", help="class sizes, smallest first (the first is the base)")
    parser.add_argument("--browsers", type=int, default=3, help="students in Chromium (default 3); the rest over "
                                                                 "the server's websocket protocol")
    parser.add_argument("--lesson", default="pretraining", help="a lesson with question steps (default pretraining)")
    parser.add_argument("--budget-s", type=float, default=600, help="the whole run's time limit (default 600)")
    parser.add_argument("--wait-s", type=float, default=30, help="the longest any one wait may take (default 30)")
    parser.add_argument("--idle-s", type=float, default=20, help="how long the class sits idle for the CPU figure")
    args = parser.parse_args()
    lesson = lessons.load_lesson(lessons.LESSONS_DIR / f"{args.lesson}.yaml")
    sizes = args.sizes or ([1, 5] if args.quick else [1, 30])
    print(f"lesson {lesson.name}: {len(lesson.steps)} steps; teacher in Chromium; students in Chromium: "
          f"{args.browsers}, the rest over the websocket protocol", flush=True)
    asyncio.run(main_async(sizes, args.browsers, lesson, args.budget_s, args.wait_s, args.idle_s))


if __name__ == "__main__":
    main()
