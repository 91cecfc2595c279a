"""How much does norm-weighted attention add to a capture?

A base-sized ALBERT (random weights: vocab 30000, E 128, H 768, 12 layers, 12 heads) at 128
tokens. One side is `albert_viz.model.capture.capture(...)`; the other is the same capture followed by
`albert_viz.analysis.attention_modes.norm_weighted_attention(...)` on it (no second forward pass). The two run
interleaved in one process so machine noise hits both alike.
Last line: ratio=<capture+norm median / capture median> (goal <= 1.3).

    .venv/bin/python bench/norm_attention_overhead.py [--repeats 20] [--tokens 128]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import torch

from albert_viz.analysis.attention_modes import norm_weighted_attention
from albert_viz.model.capture import capture
from bench.capture_overhead import base_sized_model_and_sentence, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=128)
    args = parser.parse_args()

    loaded, text, _ = base_sized_model_and_sentence(args.tokens)

    def capture_only():
        return capture(loaded, text)

    def capture_and_norm():
        result = norm_weighted_attention(loaded, capture(loaded, text))
        if loaded.device.type == "cuda":
            torch.cuda.synchronize()
        return result

    report(loaded, args, "capture", capture_only, "capture_and_norm", capture_and_norm)


if __name__ == "__main__":
    main()
