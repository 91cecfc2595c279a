"""A class at once: N real Chromium sessions on one app server while a fine-tuning job trains.

The app is served by `streamlit run` on 127.0.0.1 (tests/e2e/server.py). For each class size N,
N browser contexts of one headless Chromium (each its own Streamlit session) start together; each
student opens the attention page, types a sentence of their own, moves the layer slider and the
head slider five times each, then visits the layer-norm and worked-examples pages. Meanwhile
`python -m albert_viz finetune` trains the bundled model on the sample movie reviews in a
subprocess (restarted if it finishes), as a student's job would.

Latency is input -> updated heatmap, measured in the browser: the time from the key press until the
one-head heatmap shows the new sentence's tokens or the new "Layer L, head H" title. Errors are
interactions that did not finish in time, exceptions drawn on a page and JavaScript page errors.
Everything is bounded: one deadline per class size, and the whole run within --budget-s.

Each class size also prints the CPU time the server, the Chromium processes and the training job used
per measured interaction (CpuMeter). On this 2-core machine the browsers are the largest consumer by far:
Chromium spends ~0.4 CPU-s per slider move and ~5 CPU-s per page load (an empty Streamlit page with one
slider and one plotly heatmap: ~0.3 s and ~4 s), the server ~0.02 s per move. With the whole class's
browsers on the server's own cores, latency at N=30 is bounded below by the browsers' queue, not the
server's: in a real class each browser runs on its own device. --browsers K keeps K students in Chromium
(their latencies are the ones reported and in the ratio) and drives the others through Streamlit's agent
API (POST /_stcore/agent/interact: a real session, the browser's rerun path, nothing drawn), switched on for
this run's own loopback server only. --pause-s adds a student's look at the map between actions (0 by
default: the next action at once).

Last line: ratio=<p95 at the largest N> / <p95 at N=1> (goal <= 5 with zero errors, N = 30).

    .venv/bin/python bench/classroom.py            # N = 1, 10, 30 (up to 10 minutes; heavy)
    .venv/bin/python bench/classroom.py --quick    # N = 1, 5
    .venv/bin/python bench/classroom.py --pause-s 2  # each student looks at the map ~2 s between actions
    .venv/bin/python bench/classroom.py --browsers 3 # 3 students in Chromium, the rest on their own devices
    .venv/bin/python bench/classroom.py --ray        # the fine-tuning job as a Ray task (requirements-cluster.txt)
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import json
import urllib.request

import numpy as np
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from server import CHROMIUM_ARGS, chromium_path, running_app  # noqa: E402

from playwright.async_api import Error as PlaywrightError  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

MOVES = 5  # layer moves and head moves per student (the bundled model has 6 layers, 12 heads)
WORDS = [  # each one WordPiece token of the bundled tokenizer, so it shows as one tick of the heatmap
         "zebra", "violin", "harbour", "pepper", "glacier", "lantern", "meadow", "rocket", "tiger", "walnut",
         "canyon", "falcon", "marble", "orchid", "parrot", "quartz", "saddle", "thunder", "velvet", "willow",
         "anchor", "basket", "candle", "dolphin", "engine", "feather", "garlic", "helmet", "island", "jacket",
         "kettle", "ladder", "mirror", "needle", "oyster", "pillow", "rabbit", "spider", "tomato", "button"]

HEATMAP_HAS_TOKENS = """words => {
    const ticks = [...document.querySelectorAll('.main-svg .xtick text')].map(tick => tick.textContent);
    return words.every(word => ticks.includes(word));
}"""
HEATMAP_TITLED = """title => {
    const first = document.querySelector('.main-svg .gtitle');
    return first !== null && first.textContent === title;
}"""


@dataclass
class Tally:
    """What one class size measured: latencies in seconds, page loads, and every error in words."""

    latencies: list[float] = field(default_factory=list)  # measured in Chromium: what a student sees
    api_latencies: list[float] = field(default_factory=list)  # request -> finished rerun, students on the agent API
    api_sentence_latencies: list[float] = field(default_factory=list)  # the part of them that sent a sentence
    page_loads: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    finetune_starts: int = 0
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds per role during the phase (CpuMeter)


class CpuMeter:
    """CPU seconds used by this bench's descendants, by role: the app server, Chromium, the training job.

    A job trained as a Ray task runs in a worker of the Ray head, not below this process: with --ray the
    training figure is the CLI's own share only.

    Sampled twice a second, keeping each process's last reading, so a renderer that exits with its browser
    context still counts up to its last sample. Load on the machine from elsewhere does not enter it, so the
    per-interaction figures compare across runs better than latencies do.
    """

    ROLES = ("server", "chromium", "training")

    def __init__(self) -> None:
        self.seconds: dict[int, tuple[str, float]] = {}

    @staticmethod
    def role(process: psutil.Process) -> str | None:
        command = " ".join(process.cmdline())
        if "streamlit" in command and " run " in command:
            return "server"
        if "chrom" in process.name().lower():
            return "chromium"
        if "albert_viz" in command and "finetune" in command:
            return "training"
        return None

    def sample(self) -> None:
        processes = psutil.Process().children(recursive=True)
        roles = {}
        for process in processes:
            with contextlib.suppress(psutil.Error):
                roles[process.pid] = self.role(process)
        for process in processes:  # the job's own training process is a child of the CLI (the local runner)
            if roles.get(process.pid) == "training":
                with contextlib.suppress(psutil.Error):
                    roles.update({child.pid: "training" for child in process.children(recursive=True)})
        for process in processes:
            with contextlib.suppress(psutil.Error):
                if (role := roles.get(process.pid)) is not None:
                    times = process.cpu_times()
                    self.seconds[process.pid] = (role, times.user + times.system)

    def totals(self) -> dict[str, float]:
        return {role: sum(s for r, s in self.seconds.values() if r == role) for role in self.ROLES}

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.5)
        self.sample()


class PhaseOver(Exception):
    """The class size's deadline passed: what is left is counted as not finished."""


def sentence_for(student: int) -> tuple[str, str]:
    """A sentence of the student's own, and the word in it that marks its heatmap."""
    word = WORDS[student % len(WORDS)]
    return f"the {word} sat by the river all day", word


async def timed_wait(page, expression: str, arg, deadline: float) -> float:
    """Seconds until `expression(arg)` holds in the page; PhaseOver when the deadline passes first."""
    started = time.perf_counter()
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise PhaseOver
    try:
        await page.wait_for_function(expression, arg=arg, timeout=remaining * 1000, polling="raf")
    except PlaywrightError as error:
        raise PhaseOver from error
    return time.perf_counter() - started


async def move_slider(page, label: str, expected_title: str, deadline: float) -> float:
    """Press → on a slider; seconds until the one-head heatmap carries the new title."""
    slider = page.locator(f"input[type=range][aria-label='{label}']")
    await slider.focus()
    started = time.perf_counter()
    await slider.press("ArrowRight")
    await timed_wait(page, HEATMAP_TITLED, expected_title, deadline)
    return time.perf_counter() - started


async def visit(page, link: str, marker: str, deadline: float) -> None:
    """Follow a sidebar link (same session) and wait until the page shows `marker`."""
    await page.locator("[data-testid='stSidebar'] a[data-testid='stPageLink-NavLink']", has_text=link).click()
    await timed_wait(page, "text => document.body.textContent.includes(text)", marker, deadline)


async def student(browser, url: str, index: int, deadline: float, tally: Tally, pause_s: float = 0.0) -> None:
    """One student's lesson; every step's outcome lands in the tally.

    pause_s: the student's mean look at the map after each measured action (between half and one and a
    half of it, drawn per student), as a class does; 0 sends the next action at once.
    """
    student_rng = random.Random(index)

    async def look_at_the_map() -> None:
        if pause_s > 0:
            await asyncio.sleep(pause_s * student_rng.uniform(0.5, 1.5))

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(max(deadline - time.monotonic(), 1) * 1000)  # the phase's deadline, not 30 s
    page = await context.new_page()
    page.on("pageerror", lambda error: tally.errors.append(f"student {index}: page error {error}"))
    steps_left = 1 + 2 * MOVES + 2  # sentence, moves, two pages: what is unfinished if time runs out
    try:
        started = time.perf_counter()
        await page.goto(f"{url}/attention", wait_until="domcontentloaded")
        await timed_wait(page, HEATMAP_TITLED, "Layer 0, head 0", deadline)
        tally.page_loads.append(time.perf_counter() - started)

        text, word = sentence_for(index)
        box = page.get_by_label("Sentence", exact=True)
        await box.fill(text)
        started = time.perf_counter()
        await box.press("Enter")
        await timed_wait(page, HEATMAP_HAS_TOKENS, [word], deadline)
        tally.latencies.append(time.perf_counter() - started)
        steps_left -= 1
        await look_at_the_map()

        layer = head = 0
        for _ in range(MOVES):
            layer += 1
            tally.latencies.append(await move_slider(page, "Layer", f"Layer {layer}, head {head}", deadline))
            await look_at_the_map()
            head += 1
            tally.latencies.append(await move_slider(page, "Head", f"Layer {layer}, head {head}", deadline))
            await look_at_the_map()
            steps_left -= 2

        await visit(page, "Layer norm", "Mean and spread of each token", deadline)
        steps_left -= 1
        await visit(page, "Worked examples", "Self-attention on the board", deadline)
        steps_left -= 1
        if shown := await page.locator("[data-testid='stException']").count():
            tally.errors.append(f"student {index}: {shown} exception(s) drawn on the page")
    except PhaseOver:
        tally.errors.extend([f"student {index}: step not finished before the deadline"] * steps_left)
    except PlaywrightError as error:
        tally.errors.extend([f"student {index}: {str(error).splitlines()[0]}"] * steps_left)
    finally:
        with contextlib.suppress(PlaywrightError):
            await context.close()


class ApiStudent:
    """A student whose browser is elsewhere: the same lesson through Streamlit's agent API.

    POST /_stcore/agent/interact drives a real AppSession through the browser's own rerun path (widget
    values in, the finished app's element tree out); only the drawing is left out, which in a class
    happens on each student's own device. The bench turns the API on for its own loopback server only.
    """

    def __init__(self, url: str, index: int, deadline: float) -> None:
        self.endpoint, self.index, self.deadline = f"{url}/_stcore/agent/interact", index, deadline
        self.session_id: str | None = None

    def _post(self, body: dict) -> str:
        if self.session_id:
            body = {"session_id": self.session_id, **body}
        timeout = self.deadline - time.monotonic()
        if timeout <= 0:
            raise PhaseOver
        request = urllib.request.Request(self.endpoint, json.dumps(body).encode(), {"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = response.read().decode()
        snapshot = json.loads(answer)
        self.session_id = snapshot.get("session_id", self.session_id)
        if snapshot.get("status") != "ready":
            raise RuntimeError(f"the app answered with status {snapshot.get('status')!r}")
        if '"type": "exception"' in answer or '"type":"exception"' in answer:
            raise RuntimeError("an exception was drawn on the page")
        return answer

    async def step(self, body: dict, expected: str) -> float:
        """Seconds from sending `body` until the finished rerun, which must show `expected`."""
        started = time.perf_counter()
        try:
            answer = await asyncio.to_thread(self._post, body)
        except (OSError, ValueError) as error:  # URLError, timeouts and bad JSON
            raise RuntimeError(str(error)) from error
        if expected not in answer:
            raise RuntimeError(f"the page did not show {expected!r}")
        return time.perf_counter() - started


async def api_student(url: str, index: int, deadline: float, tally: Tally, pause_s: float = 0.0) -> None:
    """The lesson of `student`, through the agent API; latencies go to tally.api_latencies."""
    student_rng, api = random.Random(index), ApiStudent(url, index, deadline)

    async def look_at_the_map() -> None:
        if pause_s > 0:
            await asyncio.sleep(pause_s * student_rng.uniform(0.5, 1.5))

    steps_left = 1 + 2 * MOVES + 2
    try:
        tally.page_loads.append(await api.step({"page": "attention"}, "Layer 0, head 0"))
        text, word = sentence_for(index)
        tally.api_sentence_latencies.append(await api.step({"widget_state": {"_widget_sentence": text}}, word))
        tally.api_latencies.append(tally.api_sentence_latencies[-1])
        steps_left -= 1
        await look_at_the_map()
        layer = head = 0
        for _ in range(MOVES):
            layer += 1
            tally.api_latencies.append(await api.step({"widget_state": {"layer": layer}}, f"Layer {layer}, head {head}"))
            await look_at_the_map()
            head += 1
            tally.api_latencies.append(await api.step({"widget_state": {"head": head}}, f"Layer {layer}, head {head}"))
            await look_at_the_map()
            steps_left -= 2
        await api.step({"page": "layer_norm"}, "Mean and spread of each token")
        steps_left -= 1
        await api.step({"page": "worked_examples"}, "Self-attention on the board")
        steps_left -= 1
    except PhaseOver:
        tally.errors.extend([f"API student {index}: step not finished before the deadline"] * steps_left)
    except RuntimeError as error:
        tally.errors.extend([f"API student {index}: {error}"] * steps_left)


async def keep_one_job_training(out_dir: Path, stop: asyncio.Event, tally: Tally) -> None:
    """One fine-tuning job of the sample set in a subprocess, restarted when it ends, until `stop`.

    The CLI goes through the app's job runner: a process of its own here, or a Ray task when
    ALBERT_VIZ_RAY_ADDRESS is set (--ray). Its job store lives in the scratch folder, not the user's.
    """
    command = [sys.executable, "-m", "albert_viz", "finetune", "--model", "bundled",
               "--csv", str(REPO / "assets" / "datasets" / "movie_reviews.csv"), "--max-steps", "300"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", ALBERT_VIZ_DATA=str(out_dir.parent / "job_store"))
    while not stop.is_set():
        job = subprocess.Popen(command + ["--out", str(out_dir / f"job{tally.finetune_starts}")], cwd=REPO,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tally.finetune_starts += 1
        try:
            while job.poll() is None and not stop.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
        finally:
            if job.poll() is None:
                job.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    job.wait(timeout=10)
                if job.poll() is None:
                    job.kill()
                    job.wait()


async def one_class(browser, url: str, students: int, budget_s: float, scratch: Path, pause_s: float,
                    browsers: int | None = None) -> Tally:
    """`students` sessions at once, with a job training beside them, all within budget_s.

    browsers: how many of them drive a real Chromium (all when None); the others use the agent API.
    """
    in_chromium = students if browsers is None else min(browsers, students)
    tally = Tally()
    stop, meter = asyncio.Event(), CpuMeter()
    trainer = asyncio.create_task(keep_one_job_training(scratch / f"class{students}", stop, tally))
    await asyncio.sleep(5)  # let the job load its model and start training before the class arrives
    metering = asyncio.create_task(meter.run(stop))
    meter.sample()
    before = meter.totals()
    deadline = time.monotonic() + budget_s
    try:
        await asyncio.gather(*(student(browser, url, i, deadline, tally, pause_s) for i in range(in_chromium)),
                             *(api_student(url, i, deadline, tally, pause_s) for i in range(in_chromium, students)))
    finally:
        meter.sample()
        tally.cpu_s = {role: seconds - before[role] for role, seconds in meter.totals().items()}
        stop.set()
        await asyncio.gather(trainer, metering)
    return tally


def percentiles(latencies: list[float]) -> str:
    if not latencies:
        return "p50=n/a p95=n/a max=n/a"
    p50, p95 = np.percentile(latencies, [50, 95])
    return f"p50={p50:.2f}s p95={p95:.2f}s max={max(latencies):.2f}s"


def summary(students: int, tally: Tally, wall_s: float) -> str:
    loads = f"page_load_max={max(tally.page_loads):.1f}s" if tally.page_loads else "page_load_max=n/a"
    interactions = max(len(tally.latencies) + len(tally.api_latencies), 1)
    cpu = " ".join(f"{role}={1000 * seconds / interactions:.0f}ms" for role, seconds in tally.cpu_s.items())
    api = (f"\n       API students: samples={len(tally.api_latencies)} {percentiles(tally.api_latencies)} "
           f"(request -> finished rerun; new sentence alone: {percentiles(tally.api_sentence_latencies)})"
           if tally.api_latencies else "")
    return (f"N={students:<3d} samples={len(tally.latencies):<4d} {percentiles(tally.latencies)} "
            f"errors={len(tally.errors)} {loads} finetune_jobs_started={tally.finetune_starts} wall={wall_s:.0f}s"
            f"{api}\n       CPU per interaction (page loads and visits included): {cpu}")


def p95(tally: Tally) -> float:
    return float(np.percentile(tally.latencies, 95)) if tally.latencies else float("nan")


async def warm_up(browser, url: str, deadline: float) -> None:
    """One unmeasured visit, so the model is loaded before the class arrives (the teacher's first look)."""
    tally = Tally()
    await student(browser, url, len(WORDS) - 1, deadline, tally)
    if tally.errors:
        print(f"warm-up: {tally.errors[0]}", flush=True)


async def main_async(sizes: list[int], budget_s: float, pause_s: float, browsers: int | None) -> None:
    started = time.monotonic()
    # Each class size gets a share of what is left in proportion to its size plus 10 (N=1: a sixth).
    weights = [size + 10 for size in sizes]
    results: dict[int, Tally] = {}
    agent_api = ["--server.enableAgentApi", "true"] if browsers is not None else []
    with running_app(extra_args=agent_api) as url, tempfile.TemporaryDirectory(prefix="albert_viz_classroom_") as scratch:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS,
                                                       headless=True)
            try:
                await warm_up(browser, url, time.monotonic() + min(120, budget_s / 5))
                for size, weight in zip(sizes, weights):
                    left = budget_s - (time.monotonic() - started) - 30  # keep time to stop everything
                    share = left * weight / sum(weights[sizes.index(size):])
                    phase_started = time.monotonic()
                    results[size] = await one_class(browser, url, size, share, Path(scratch), pause_s, browsers)
                    print(summary(size, results[size], time.monotonic() - phase_started), flush=True)
                    for error in sorted(set(results[size].errors))[:5]:
                        print(f"  error: {error}", flush=True)
            finally:
                await browser.close()
    print(f"total wall={time.monotonic() - started:.0f}s; ratio = p95(N={sizes[-1]}) / p95(N={sizes[0]})")
    print(f"ratio={p95(results[sizes[-1]]) / p95(results[sizes[0]]):.2f}")


@contextlib.contextmanager
def ray_head(enabled: bool):
    """With --ray: a one-CPU Ray head on this machine for the jobs (ALBERT_VIZ_RAY_ADDRESS=auto), stopped after."""
    if not enabled:
        yield
        return
    ray = [str(Path(sys.executable).with_name("ray"))]
    subprocess.run(ray + ["start", "--head", "--num-cpus=1", "--include-dashboard=false"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    os.environ["ALBERT_VIZ_RAY_ADDRESS"] = "auto"
    try:
        yield
    finally:
        os.environ.pop("ALBERT_VIZ_RAY_ADDRESS", None)
        subprocess.run(ray + ["stop", "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 1, 5 instead of 1, 10, 30")
    parser.add_argument("--sizes", type=int, nargs="+", help="class sizes to run, smallest first (first is the base)")
    parser.add_argument("--budget-s", type=float, default=600, help="the whole run's time limit (default 600)")
    parser.add_argument("--pause-s", type=float, default=0.0,
                        help="a student's mean pause to look at the map between actions (default 0: none)")
    parser.add_argument("--ray", action="store_true", help="train the job as a Ray task (a local one-CPU Ray head)")
    parser.add_argument("--browsers", type=int, default=None,
                        help="students in Chromium on this machine (default: all); the others, as if on their own "
                             "devices, drive the server through Streamlit's agent API (enabled for this run only)")
    args = parser.parse_args()
    in_chromium = "all" if args.browsers is None else f"{args.browsers} (the rest through the agent API)"
    print(f"students in Chromium: {in_chromium}; pause between actions: {args.pause_s:.1f} s on average; "
          f"the job trains {'as a Ray task' if args.ray else 'in a process of its own'}", flush=True)
    sizes = args.sizes or ([1, 5] if args.quick else [1, 10, 30])
    with ray_head(args.ray):
        asyncio.run(main_async(sizes, args.budget_s, args.pause_s, args.browsers))


if __name__ == "__main__":
    main()
