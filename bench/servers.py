"""The class protocol against one app server and against two on the same machine, both on PostgreSQL.

30 sessions (students) each open the attention page, type a sentence of their own, move the layer and
head sliders five times each and visit two more pages (bench/classroom.py's lesson), all at once. They
drive the servers through Streamlit's agent API (a real session and rerun, nothing drawn: in a class each
browser is on its own device), so this machine's cores belong to the app servers; no training job runs.
With two servers the sessions are dealt round-robin to the two ports, as a sticky proxy would. Both
setups use one PostgreSQL (a throwaway server, as the tests start) for the shared state.

Prints p50/p95 of input -> finished rerun for each setup and the CPU seconds each server used; last line
ratio=<p95 one server> / <p95 two servers>.

    .venv/bin/python bench/servers.py               # 30 sessions (a few minutes on 2 cores)
    .venv/bin/python bench/servers.py --sessions 10
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from classroom import Tally, api_student, percentiles  # noqa: E402
from server import running_app  # noqa: E402

from tests.postgres import remove, start_postgres  # noqa: E402


def server_process(url: str) -> psutil.Process:
    port = url.rsplit(":", 1)[1]
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if "streamlit" in command and port in command:
            return process
    raise RuntimeError(f"no server process for {url}")


def cpu_s(process: psutil.Process) -> float:
    """CPU seconds of a server and its children (none here: no job trains)."""
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = member.cpu_times()
            total += times.user + times.system
    return total


async def one_run(urls: list[str], sessions: int, budget_s: float) -> tuple[Tally, list[float]]:
    """All sessions at once, dealt round-robin to the servers; the tally and each server's CPU seconds."""
    processes = [server_process(url) for url in urls]
    for index, url in enumerate(urls):  # warm-up: each server loads the model before the class arrives
        await api_student(url, 10_000 + index, time.monotonic() + 180, Tally())
    before = [cpu_s(process) for process in processes]
    tally, deadline = Tally(), time.monotonic() + budget_s
    await asyncio.gather(*(api_student(urls[i % len(urls)], i, deadline, tally) for i in range(sessions)))
    return tally, [cpu_s(process) - start for process, start in zip(processes, before)]


def report(name: str, tally: Tally, cpu: list[float], wall_s: float) -> float:
    per_server = " ".join(f"server{n + 1}={seconds:.1f}s" for n, seconds in enumerate(cpu))
    print(f"{name}: samples={len(tally.api_latencies)} {percentiles(tally.api_latencies)} errors={len(tally.errors)}"
          f" wall={wall_s:.0f}s CPU: {per_server}", flush=True)
    for error in sorted(set(tally.errors))[:3]:
        print(f"  error: {error}", flush=True)
    return float(np.percentile(tally.api_latencies, 95)) if tally.api_latencies else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--budget-s", type=float, default=240, help="time limit of each setup's class")
    args = parser.parse_args()
    postgres = start_postgres()
    p95s = {}
    try:
        with tempfile.TemporaryDirectory(prefix="albert_viz_servers_") as scratch:
            env = {"ALBERT_VIZ_DATABASE_URL": postgres.new_database(), "ALBERT_VIZ_DATA": scratch}
            agent_api = ["--server.enableAgentApi", "true"]
            for count in (1, 2):
                with contextlib.ExitStack() as stack:
                    urls = [stack.enter_context(running_app(extra_args=agent_api, env=env)) for _ in range(count)]
                    started = time.monotonic()
                    tally, cpu = asyncio.run(one_run(urls, args.sessions, args.budget_s))
                    p95s[count] = report(f"{count} server(s), {args.sessions} sessions", tally, cpu,
                                         time.monotonic() - started)
    finally:
        remove(postgres)
    print(f"ratio = p95(one server) / p95(two servers) on {psutil.cpu_count()} core(s)")
    print(f"ratio={p95s[1] / p95s[2]:.2f}")


if __name__ == "__main__":
    main()
