"""Where does a model's sentence-order skill stop: at its SOP head, or in the body that feeds it?

python -m albert_viz.pretrain.sop_probe MODEL_DIR [MODEL_DIR ...] [--train-pairs N]

Two questions, each answered on sentence pairs shown both in order and swapped (a guess scores 50%):
- Does the model order its *training* pairs better than held-out ones? A gap means it has learned
  which sentence comes first in these documents, not sentence order in general.
- Does a pooler + SOP classifier refitted on the frozen final `[CLS]` states do better than the head
  it was trained with? If not, the head is not what limits SOP.
On the bundle: 77% on 2,000 training pairs, 63% held out, 63% held out with a refitted head.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import AlbertForPreTraining, AutoTokenizer

from albert_viz.pretrain import data
from albert_viz.pretrain.heldout_report import cls_states, order_accuracy, order_logits


def refit_order_head(model, states: torch.Tensor, labels: torch.Tensor, epochs: int = 10,
                     lr: float = 1e-3, seed: int = 0) -> tuple[torch.nn.Linear, torch.nn.Linear]:
    """Copies of the model's pooler and SOP classifier, trained further on frozen [CLS] states.

    It starts from the trained head, not from random weights: a refit that is no better on held-out
    pairs then says that the head was not what limited SOP.
    """
    generator = torch.Generator().manual_seed(seed)
    pooler, classifier = copy.deepcopy(model.albert.pooler), copy.deepcopy(model.sop_classifier.classifier)
    params = [*pooler.parameters(), *classifier.parameters()]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=generator)
        for start in range(0, len(labels), 256):
            idx = order[start : start + 256]
            loss = F.cross_entropy(order_logits(pooler, classifier, states[idx]), labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return pooler, classifier


def probe(model, name: str, train_pairs: list[data.Pair], heldout_pairs: list[data.Pair], tokenizer) -> dict:
    """SOP on training vs held-out pairs as trained, and held-out after refitting the head on the training pairs."""
    train_states, train_labels = cls_states(model, train_pairs, tokenizer)
    heldout_states, heldout_labels = cls_states(model, heldout_pairs, tokenizer)
    trained = model.albert.pooler, model.sop_classifier.classifier  # the SOP head's dropout is off in eval mode
    refitted = refit_order_head(model, train_states, train_labels)
    return {
        "model": name,
        "sop_train_pairs": round(100 * order_accuracy(*trained, train_states, train_labels), 2),
        "sop_heldout": round(100 * order_accuracy(*trained, heldout_states, heldout_labels), 2),
        "refit_head_train_pairs": round(100 * order_accuracy(*refitted, train_states, train_labels), 2),
        "refit_head_heldout": round(100 * order_accuracy(*refitted, heldout_states, heldout_labels), 2),
        "train_pairs": sum(1 for p in train_pairs if p.second),
        "heldout_pairs": sum(1 for p in heldout_pairs if p.second),
    }


def main() -> None:
    """One JSON line per model folder: training pairs from the four original sources, the usual held-out set."""
    from albert_viz.pretrain.pipeline import PipelineConfig, build_corpus, held_out_texts, heldout_chunks

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--train-pairs", type=int, default=2000,
                        help="training pairs to sample (about a minute per 2,000 on 2 CPU cores)")
    args = parser.parse_args()
    cfg = PipelineConfig()
    cfg = replace(cfg, corpus=replace(cfg.corpus, extra_sources=False))  # every bundle trained on these four
    torch.set_num_threads(cfg.train.threads)
    tokenizer = AutoTokenizer.from_pretrained(args.models[0])
    corpus = build_corpus(held_out_texts(), cfg.corpus)
    train_pairs = [p for p in data.document_pairs(corpus.train, tokenizer, cfg.data, cfg.train.seed) if p.second]
    random.Random(0).shuffle(train_pairs)
    heldout_pairs = heldout_chunks(corpus, tokenizer, cfg)
    for folder in args.models:
        model = AlbertForPreTraining.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
        print(json.dumps(probe(model, str(folder), train_pairs[: args.train_pairs], heldout_pairs, tokenizer)), flush=True)


if __name__ == "__main__":
    main()
