"""How long does the server take per page for a 512-token text, beside a short one?

Runs each page that reads the shared capture in Streamlit's AppTest (no browser) with the bundled
ALBERT-tiny: first a cold run (the model reads the text), then a warm run (the capture comes from the
cache), for a 512-token text and for a 32-token one. Prints seconds per page; the last line is
ratio=<slowest warm page at 512 tokens / the same page at 32 tokens>.

    .venv/bin/python bench/long_pages.py
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import streamlit.logger
from streamlit.testing.v1 import AppTest

from albert_viz.model.loading import ModelSpec
from albert_viz.ui import state

LONG = " ".join("abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(1000))  # ~1,000 tokens: cut to 512
SHORT = " ".join("abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(30))  # 32 tokens
# page, extra session state (the view that page opens with for a teacher)
PAGES = {
    "attention (one head)": ("pages/attention.py", {}),
    "attention (all heads)": ("pages/attention.py", {"attention_tab": "All heads of a layer"}),
    "attention (averages, rollout)": ("pages/attention.py", {"attention_tab": "Head average & rollout"}),
    "attention (bertviz)": ("pages/attention.py", {"attention_tab": "bertviz"}),
    "layer norm": ("pages/layer_norm.py", {}),
    "anatomy": ("pages/anatomy.py", {}),
    "explain (why)": ("pages/explain.py", {}),
    "explain (layers)": ("pages/explain.py", {"explain_section": "What each layer knows"}),
    "worked examples (real model)": ("pages/worked_examples.py", {"wk_mode": "real"}),
}


def timed_runs(page: str, extra: dict, text: str) -> tuple[float, float, bool]:
    """Seconds of a first and a second run of `page` for `text`, and whether it went wrong.

    Wrong: an exception, or a long text that was not read to 512 tokens (the page's warning says so).
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.session_state["model_spec"] = ModelSpec(device="cpu")
    at.session_state[state.SENTENCE] = text
    for key, value in extra.items():
        at.session_state[key] = value
    at.run()
    started = time.perf_counter()
    at.switch_page(page).run()
    cold = time.perf_counter() - started
    started = time.perf_counter()
    at.run()
    warm = time.perf_counter() - started
    not_read_to_512 = text == LONG and not any("reads at most 512" in warning.value for warning in at.warning)
    return cold, warm, bool(at.exception) or not_read_to_512


def main() -> None:
    streamlit.logger.set_log_level("error")  # AppTest warns of a missing ScriptRunContext on every run
    timed_runs(*PAGES["attention (one head)"], SHORT)  # load the model and import everything once
    warm_at = {}
    for name, (page, extra) in PAGES.items():
        row = []
        for label, text in (("512", LONG), ("32", SHORT)):
            cold, warm, failed = timed_runs(page, extra, text)
            warm_at[(name, label)] = warm
            row.append(f"{label} tokens: cold {cold:.2f} s, warm {warm:.2f} s{' (WENT WRONG)' if failed else ''}")
        print(f"{name}: " + "; ".join(row), flush=True)
    slowest = max(PAGES, key=lambda name: warm_at[(name, "512")])
    print(f"slowest warm page at 512 tokens: {slowest}")
    print(f"ratio={warm_at[(slowest, '512')] / max(warm_at[(slowest, '32')], 1e-9):.2f}")


if __name__ == "__main__":
    main()
