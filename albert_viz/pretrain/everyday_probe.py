"""Masked-word probe on everyday English, for comparing candidate bundles in the model card.

python -m albert_viz.pretrain.everyday_probe MODEL_DIR [MODEL_DIR ...]

Held-out MLM accuracy is measured on the training sources' own register (speeches, 1960s prose,
film snippets); a classroom types sentences like these, so a candidate must not get worse at them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer
from transformers.utils import logging as hf_logging

# (sentence with one [MASK], the word a person would write there)
EVERYDAY_SENTENCES = (
    ("she opened the [MASK] and let the cat into the house.", "door"),
    ("the children were playing in the [MASK] after school.", "park"),
    ("he drank a cup of [MASK] before going to work.", "coffee"),
    ("the sun rises in the [MASK] and sets in the west.", "east"),
    ("she wrote a [MASK] to her mother every week.", "letter"),
    ("we are going to the [MASK] to buy some bread.", "store"),
    ("the president of the united [MASK] gave a speech.", "states"),
    ("it was a cold winter [MASK] and the snow was falling.", "night"),
    ("they sat down at the table to eat [MASK].", "dinner"),
    ("he put the book back on the [MASK].", "shelf"),
    ("i [MASK] programming", "love"),
    ("the movie was [MASK] and i enjoyed every minute of it.", "great"),
)


@torch.no_grad()
def target_ranks(model_dir: Path) -> list[int]:
    """Rank (1 = top guess) of each sentence's target word among the model's predictions for [MASK]."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForMaskedLM.from_pretrained(model_dir).eval()
    ranks = []
    for sentence, word in EVERYDAY_SENTENCES:
        enc = tokenizer(sentence, return_tensors="pt")
        position = int((enc["input_ids"][0] == tokenizer.mask_token_id).nonzero()[0])
        logits = model(**enc).logits[0, position]  # [vocab]
        target = tokenizer.convert_tokens_to_ids(word)
        ranks.append(int((logits > logits[target]).sum()) + 1)
    return ranks


def main() -> None:
    """Print a table of ranks, one column per model, and how often each model ranks the word best."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dirs", type=Path, nargs="+")
    args = parser.parse_args()
    hf_logging.set_verbosity_error()  # the pooler and SOP head a masked-LM model does not use are expected leftovers
    columns = [target_ranks(folder) for folder in args.model_dirs]
    print("word | " + " | ".join(str(f) for f in args.model_dirs))
    for i, (_, word) in enumerate(EVERYDAY_SENTENCES):
        print(f"{word} | " + " | ".join(str(col[i]) for col in columns))
    for folder, col in zip(args.model_dirs, columns):
        best = sum(all(col[i] < other[i] for other in columns if other is not col) for i in range(len(col)))
        print(f"{folder}: best on {best} of {len(col)}; median rank {sorted(col)[len(col) // 2]}")


if __name__ == "__main__":
    main()
