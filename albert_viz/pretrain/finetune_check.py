"""Quality check for the model card: fine-tune on the sample sentiment split vs TF-IDF + logistic regression.

python -m albert_viz.pretrain.finetune_check [MODEL_DIR] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from transformers import (AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding,
                          Trainer, TrainingArguments)

from albert_viz.pretrain.pipeline import BUNDLE_DIR
from albert_viz.pretrain.samples import DATASETS_DIR


@dataclass(frozen=True)
class FinetuneCheckConfig:
    """A few minutes on 2 CPU cores."""

    epochs: int = 3
    batch_size: int = 16
    learning_rate: float = 1e-4
    max_length: int = 64
    seed: int = 0


def load_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fixed sample train/test split."""
    return (pd.read_csv(DATASETS_DIR / "movie_reviews_train.csv"),
            pd.read_csv(DATASETS_DIR / "movie_reviews_test.csv"))


def tfidf_accuracy(train: pd.DataFrame, test: pd.DataFrame) -> float:
    """The classic baseline on the same split."""
    clf = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(max_iter=1000))
    clf.fit(train["text"], train["label"])
    return float((clf.predict(test["text"]) == test["label"]).mean())


class _Encoded(torch.utils.data.Dataset):
    """Tokenized texts with integer labels; padded per batch by DataCollatorWithPadding (snippets are short)."""

    def __init__(self, frame: pd.DataFrame, tokenizer, labels: list[str], max_length: int):
        self.enc = tokenizer(frame["text"].tolist(), truncation=True, max_length=max_length)
        self.labels = [labels.index(x) for x in frame["label"]]

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        return {**{k: v[i] for k, v in self.enc.items()}, "labels": self.labels[i]}


def classifier_to_finetune(folder: Path, num_labels: int, random_init: bool = False):
    """The folder's ALBERT with a fresh classification head (or the same architecture from random weights), in float32.

    float32 even from a float16 file: transformers' dtype "auto" would fine-tune in half precision on the CPU.
    """
    config = AutoConfig.from_pretrained(folder, num_labels=num_labels)
    if random_init:
        return AutoModelForSequenceClassification.from_config(config)
    return AutoModelForSequenceClassification.from_pretrained(folder, config=config, dtype=torch.float32)


def finetune_accuracy(folder: Path, train: pd.DataFrame, test: pd.DataFrame, cfg: FinetuneCheckConfig,
                      random_init: bool = False) -> float:
    """Fine-tune the model in `folder` (or the same architecture from random weights) and score the test split."""
    torch.manual_seed(cfg.seed)
    labels = sorted(train["label"].unique())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = classifier_to_finetune(folder, len(labels), random_init)
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, num_train_epochs=cfg.epochs, per_device_train_batch_size=cfg.batch_size,
                                 learning_rate=cfg.learning_rate, warmup_steps=0.1, seed=cfg.seed, report_to="none",
                                 save_strategy="no", logging_steps=50, use_cpu=not torch.cuda.is_available())
        trainer = Trainer(model=model, args=args, data_collator=DataCollatorWithPadding(tokenizer),
                          train_dataset=_Encoded(train, tokenizer, labels, cfg.max_length))
        trainer.train()
        logits = trainer.predict(_Encoded(test, tokenizer, labels, cfg.max_length)).predictions
    return float((np.argmax(logits, axis=-1) == np.array([labels.index(x) for x in test["label"]])).mean())


def main() -> None:
    """Print the accuracies as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", nargs="?", type=Path, default=BUNDLE_DIR)
    parser.add_argument("--with-random-init", action="store_true", help="also fine-tune the same shape from random weights")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="fine-tune once per seed (on 400 test rows one seed's standard error is about 2 points)")
    args = parser.parse_args()
    folder = args.model
    torch.set_num_threads(2)
    cfg = FinetuneCheckConfig()
    train, test = load_split()
    per_seed = {seed: finetune_accuracy(folder, train, test, replace(cfg, seed=seed)) for seed in args.seeds}
    result = {"config": asdict(cfg), "test_rows": len(test), "tfidf_logreg": tfidf_accuracy(train, test),
              "albert_tiny_finetuned": float(np.mean(list(per_seed.values()))), "per_seed": per_seed}
    if args.with_random_init:
        result["same_architecture_random_init"] = finetune_accuracy(folder, train, test, cfg, random_init=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
