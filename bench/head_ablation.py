"""The importance map's cost: every head switched off alone, scored on validation rows, the app's way vs a naive loop.

Task: the masked-word question on held-out movie-review sentences (one ordinary token each replaced by
[MASK], seeded), read up to --max-tokens tokens. The naive loop runs one row and one ablation per forward
pass through the whole model. The app's way (albert_viz.analysis.ablation.head_importance) computes the
layers below the switched-off depth once per row and runs rows × ablations together above it. Both give
the same numbers (asserted). Last line: ratio=<naive seconds / app seconds> (goal >= 2.5 on 2 cores). The
pruning curve the app draws after the map (least important head off first) is timed too, outside the ratio.

    .venv/bin/python bench/head_ablation.py                # bundled model (6 depths x 12 heads), 200 rows
    .venv/bin/python bench/head_ablation.py --rows 40 --model random
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from albert_viz.analysis import ablation  # noqa: E402
from albert_viz.analysis.attribution import MASKED_WORD  # noqa: E402
from albert_viz.finetune.cli import model_spec  # noqa: E402
from albert_viz.finetune.data import SAMPLES_DIR  # noqa: E402
from albert_viz.model.interventions import heads_switched_off  # noqa: E402
from albert_viz.model.loading import load_model  # noqa: E402


@torch.no_grad()
def naive_importance(loaded, task: ablation.AblationTask) -> tuple[np.ndarray, np.ndarray]:
    """One row and one pattern per forward pass, the whole model each time; (accuracy, probability) per pattern."""
    keeps = torch.cat([ablation.keep_mask(loaded)[None], ablation.single_head_patterns(loaded)])
    accuracy, probability = np.zeros(len(keeps)), np.zeros(len(keeps))
    for index, keep in enumerate(keeps):
        with heads_switched_off(loaded, keep):
            for row in range(len(task)):
                length = int(task.attention_mask[row].sum())  # the row alone, unpadded
                ids = torch.as_tensor(task.input_ids[row:row + 1, :length])
                segments = torch.as_tensor(task.token_type_ids[row:row + 1, :length])
                hidden = loaded.encoder(input_ids=ids, token_type_ids=segments).last_hidden_state
                if task.kind == MASKED_WORD:
                    hidden = hidden[:, task.positions[row]]
                probabilities = ablation._probabilities(loaded, task.kind, hidden)[0]
                probability[index] += float(probabilities[task.answers[row]]) / len(task)
                accuracy[index] += float(int(probabilities.argmax()) == task.answers[row]) / len(task)
    return accuracy, probability


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    loaded = load_model(model_spec(args.model, "cpu"))
    texts = pd.read_csv(SAMPLES_DIR / "movie_reviews_test.csv")["text"].dropna().tolist()[:args.rows]
    task = ablation.masked_word_task(loaded, texts, seed=0, max_tokens=args.max_tokens)
    lengths = task.attention_mask.sum(axis=1)
    print(f"model={loaded.spec.label} depths x heads={ablation.depth_count(loaded.config)} x "
          f"{loaded.config.num_attention_heads} rows={len(task)} tokens per row: median {int(np.median(lengths))}, "
          f"max {int(lengths.max())} threads={args.threads}", flush=True)

    started, cpu = time.perf_counter(), time.process_time()
    importance = ablation.head_importance(loaded, task)
    ours, ours_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"app's way: {ours:.1f} s ({ours_cpu:.1f} s of CPU)", flush=True)
    started = time.perf_counter()
    curve = ablation.pruning_curve(loaded, task, importance)
    pruning = time.perf_counter() - started
    print(f"pruning curve ({len(curve.accuracy)} points, not part of the ratio): {pruning:.1f} s; the app's whole "
          f"'Which heads matter' section (map + curve): {ours + pruning:.1f} s", flush=True)

    started, cpu = time.perf_counter(), time.process_time()
    accuracy, probability = naive_importance(loaded, task)
    naive, naive_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"naive loop: {naive:.1f} s ({naive_cpu:.1f} s of CPU)", flush=True)

    assert np.allclose(probability[1:], importance.ablated_probability.ravel(), atol=1e-5)
    assert np.isclose(probability[0], importance.probability, atol=1e-5)
    assert np.abs(accuracy[1:] - importance.ablated_accuracy.ravel()).max() < 0.5 / len(task)
    biggest = np.unravel_index(importance.probability_drop.argmax(), importance.probability_drop.shape)
    print(f"same numbers: yes (untouched accuracy {importance.accuracy:.3f}; biggest drop when "
          f"{ablation.head_name(*biggest)} is off: {importance.probability_drop[biggest]:.3f} probability, "
          f"{importance.accuracy_drop[biggest]:.3f} accuracy)")
    print(f"app_s={ours:.1f}")
    print(f"naive_s={naive:.1f}")
    print(f"cpu_ratio={naive_cpu / ours_cpu:.2f}")  # less moved by other processes on a shared machine
    print(f"ratio={naive / ours:.2f}")


if __name__ == "__main__":
    main()
