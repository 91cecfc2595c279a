"""What does one follower's poll, LiveClasses.state(code), cost on SQLite?

A database with many classes (default 200, 30 students each, a question each with 20 answers), so the
indexes matter. The poll is timed against a baseline measured in the same run on the same engine: the
cheapest read there is, the class's row by its primary key. Interleaved rounds, medians.
Last line: ratio=<state() median / primary-key read median>.

    .venv/bin/python bench/live_class_state.py [--classes 200] [--calls 2000] [--url sqlite:///...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import sqlalchemy as sa

from albert_viz.store.classes import classes
from albert_viz.teaching import live_class
from albert_viz.teaching.live_class import LiveClasses

PASSPHRASE = "bench"


def fill(live: LiveClasses, count: int) -> list[str]:
    codes = []
    for number in range(count):
        teacher = live.open_class("self_attention", PASSPHRASE)
        members = [live.join(teacher.code, f"S{n}", f"{number}-{n}") for n in range(30)]
        question = teacher.open_question("mask", "What goes in [MASK]?", ("cat", "dog", "mat", "hat"), 0, "", {})
        for n, member in enumerate(members[:20]):
            live.answer(member, question, n % 4)
        codes.append(teacher.code)
    return codes


def per_call_us(function, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--classes", type=int, default=200)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    os.environ[live_class.PASSPHRASE_VARIABLE] = PASSPHRASE
    live = LiveClasses(args.url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")
    codes = fill(live, args.classes)
    code = codes[len(codes) // 2]
    by_key = sa.select(classes).where(classes.c.code == code)

    def primary_key_read():
        with live.tables.engine.connect() as connection:
            return connection.execute(by_key).first()

    polls, baselines = [], []
    for _ in range(args.rounds):
        baselines.append(per_call_us(primary_key_read, args.calls))
        polls.append(per_call_us(lambda: live.state(code), args.calls))
    poll, baseline = statistics.median(polls), statistics.median(baselines)
    print(f"backend={live.tables.backend} classes={args.classes} students=30 each calls={args.calls}x{args.rounds}")
    print(f"state() per call: {poll:.0f} us (median of rounds {', '.join(f'{p:.0f}' for p in polls)})")
    print(f"primary-key read per call: {baseline:.0f} us")
    print(f"30 followers polling once a second: {30 * poll / 1e6 * 100:.2f}% of one core")
    print(f"ratio={poll / baseline:.2f}")


if __name__ == "__main__":
    main()
