"""What a larger maximum length costs: the page's predicted ratio (tokens read) vs training time measured.

Long texts are made by joining movie-review snippets (about 150-250 tokens each); the page's own job trains
--steps steps at the default maximum length and at the one the page suggests, alternating the two so background
load hits both alike. The page predicts the ratio from the token counts alone (albert_viz.finetune.data.
truncation_advice); the last line is `ratio=<measured/predicted>` (1.0 = the page's estimate is exact).

    python bench/truncation_cost.py                  # bundled model, 2 rounds of 10 steps
    python bench/truncation_cost.py --steps 5 --rounds 1 --device cpu
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from albert_viz.finetune.cli import model_spec  # noqa: E402
from albert_viz.finetune.data import SAMPLES_DIR, LabelledDataset, load_csv_file, truncation_advice  # noqa: E402
from albert_viz.finetune.job import DONE, MAX_LENGTH_LIMIT, FinetuneConfig, FinetuneJob, token_lengths  # noqa: E402
from albert_viz.model.loading import load_model  # noqa: E402


def long_texts(dataset: LabelledDataset, joined: int) -> LabelledDataset:
    """Each new text joins `joined` snippets of the same label, so most texts run past 64 tokens."""
    texts, labels = [], []
    for label in dataset.label_names:
        same = [text for text, own in zip(dataset.texts, dataset.labels) if own == label]
        for start in range(0, len(same) - joined + 1, joined):
            texts.append(" ".join(same[start:start + joined]))
            labels.append(label)
    return replace(dataset, texts=tuple(texts), labels=tuple(labels))


def seconds(base, dataset, config: FinetuneConfig) -> float:
    job = FinetuneJob(base, dataset, config)
    job.run()
    if job.snapshot().state != DONE:
        raise RuntimeError(job.snapshot().error)
    return job.result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--joined", type=int, default=8, help="snippets per long text")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    base = load_model(model_spec(args.model, args.device))
    dataset = long_texts(load_csv_file(SAMPLES_DIR / "movie_reviews.csv"), args.joined)
    short = FinetuneConfig(max_steps=args.steps, evaluations=0, device=args.device)
    advice = truncation_advice(token_lengths(base, dataset.texts), short.max_length,
                               min(MAX_LENGTH_LIMIT, base.max_tokens))
    if advice is None:
        raise SystemExit("fewer than half the texts are cut: nothing to compare")
    long = replace(short, max_length=advice.suggested)
    print(f"model={base.spec.label} rows={len(dataset)} cut={advice.cut}/{advice.total} "
          f"max_length {short.max_length} -> {advice.suggested} predicted_ratio={advice.time_ratio:.2f}")
    measured = []
    for round_number in range(1, args.rounds + 1):
        at_short, at_long = seconds(base, dataset, short), seconds(base, dataset, long)
        measured.append(at_long / at_short)
        print(f"round {round_number}: {at_short:.1f} s at {short.max_length}, {at_long:.1f} s at {advice.suggested} "
              f"(x{measured[-1]:.2f})", flush=True)
    ratio = statistics.median(measured)
    print(f"measured_ratio={ratio:.2f}")
    print(f"ratio={ratio / advice.time_ratio:.2f}")


if __name__ == "__main__":
    main()
