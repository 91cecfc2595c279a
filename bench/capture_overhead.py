"""How much does the app's capture cost over a bare transformers forward pass?

A base-sized ALBERT (random weights: vocab 30000, E 128, H 768, 12 layers, 12 heads) at 128
tokens. The bare side is `model(**inputs, output_attentions=True, output_hidden_states=True)`;
the capture side is `albert_viz.model.capture.capture(...)` (tokenizing, LayerNorm hooks, copying
everything to numpy). The two run interleaved in one process so machine noise hits both alike.
Last line: ratio=<capture median / bare median> (target <= 1.15).

    .venv/bin/python bench/capture_overhead.py [--repeats 30] [--tokens 128]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import torch

from albert_viz.model.capture import capture, tokenize
from albert_viz.model.loading import ModelSpec, load_model
from albert_viz.model.random_tiny import save_random_albert

BASE_SIZE = dict(vocab_size=30000, embedding_size=128, hidden_size=768, num_hidden_layers=12,
                 num_attention_heads=12, intermediate_size=3072, max_position_embeddings=512)


def sentence_of(tokens: int) -> str:
    """Text that tokenizes to exactly `tokens` tokens with the tiny tokenizer ([CLS] + words + [SEP])."""
    return " ".join((["the", "cat", "loved", "movie"] * tokens)[: tokens - 2])


def base_sized_model_and_sentence(tokens: int):
    """A random albert-base-shaped model, a sentence of exactly `tokens` tokens, and its encoding."""
    folder = save_random_albert(tempfile.mkdtemp(prefix="bench_albert_base_"), **BASE_SIZE)
    loaded = load_model(ModelSpec("local", str(folder), "auto"))
    text = sentence_of(tokens)
    encoded, _ = tokenize(loaded, text)
    assert encoded["input_ids"].shape[1] == tokens, encoded["input_ids"].shape
    return loaded, text, encoded


def report(loaded, args, base_name: str, base, name: str, measured) -> None:
    """Time `base` and `measured` interleaved; print both medians and, last, ratio = measured / base."""
    base_median, median = interleaved_medians(base, measured, args.repeats)
    print(f"device={loaded.device} threads={torch.get_num_threads()} tokens={args.tokens} repeats={args.repeats}")
    print(f"{base_name}_median_ms={base_median * 1e3:.1f}")
    print(f"{name}_median_ms={median * 1e3:.1f}")
    print(f"ratio={median / base_median:.3f}")


def interleaved_medians(first, second, repeats: int, warm_up: int = 3) -> tuple[float, float]:
    """Median seconds of two functions timed turn about, after warming both up (allocator, hooks)."""
    for _ in range(warm_up):
        first(), second()
    first_times, second_times = [], []
    for repeat in range(repeats):
        # alternate which side goes first, so a slow patch of the machine does not favour one side
        if repeat % 2 == 0:
            first_times.append(timed(first))
            second_times.append(timed(second))
        else:
            second_times.append(timed(second))
            first_times.append(timed(first))
    return statistics.median(first_times), statistics.median(second_times)


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--tokens", type=int, default=128)
    args = parser.parse_args()

    loaded, text, encoded = base_sized_model_and_sentence(args.tokens)
    inputs = {key: value.to(loaded.device) for key, value in encoded.items()}

    def bare():
        with torch.inference_mode():
            output = loaded.encoder(**inputs, output_attentions=True, output_hidden_states=True)
        if loaded.device.type == "cuda":
            torch.cuda.synchronize()
        return output

    def app_capture():
        return capture(loaded, text)

    report(loaded, args, "bare_forward", bare, "capture", app_capture)


if __name__ == "__main__":
    main()
