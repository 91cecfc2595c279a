"""Held-out MLM and SOP figures of one or more model folders, on the chunks `make pretrain` evaluates.

python -m albert_viz.pretrain.report_models MODEL_DIR [MODEL_DIR ...]

The command line of heldout_report, apart from it so that the pipeline (which calls heldout_report)
and this command (which needs the pipeline's held-out chunks) do not import each other.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from transformers import AlbertForPreTraining, AutoTokenizer

from albert_viz.pretrain.heldout_report import report
from albert_viz.pretrain.pipeline import EVAL_SEED_OFFSET, PipelineConfig, heldout_pairs_of


def main() -> None:
    """Print one JSON line per model folder, on the same held-out chunks as `make pretrain` evaluates."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path)
    args = parser.parse_args()
    cfg = PipelineConfig()
    torch.set_num_threads(cfg.train.threads)
    tokenizer = AutoTokenizer.from_pretrained(args.models[0])
    pairs = heldout_pairs_of(cfg, tokenizer)
    for folder in args.models:
        # float32 whatever the folder stores (a float16 bundle would otherwise load as float16 on the CPU);
        # eager attention as in training, so the first draw repeats the running evaluation's figure exactly
        model = AlbertForPreTraining.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
        figures = report(model, str(folder), pairs, tokenizer, cfg.data, EVAL_SEED_OFFSET + cfg.train.seed)
        print(json.dumps(figures.summary()), flush=True)


if __name__ == "__main__":
    main()
