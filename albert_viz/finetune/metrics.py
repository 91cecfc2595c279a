"""How well a fine-tuned classifier does on held-out rows: scikit-learn's metrics, frozen for the page."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


SMALL_SAMPLE = 100  # below this many rows an accuracy is shown with its 95% Wilson interval
TOO_FEW_ROWS = 30  # below this many rows the page warns that an accuracy says little


def wilson_interval(correct: int, rows: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion correct / rows: sound for few rows and at 0% or 100%."""
    if rows == 0:
        return 0.0, 1.0
    share, spread = correct / rows, z * z / rows
    centre = (share + spread / 2) / (1 + spread)
    half = z * math.sqrt(share * (1 - share) / rows + spread / (4 * rows)) / (1 + spread)
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy_text(accuracy: float, rows: int) -> str:
    """'87.5% of 8 rows (95% interval 53%–98%)': the count always, the interval when the rows are few."""
    text = f"{accuracy:.1%} of {rows:,} rows"
    if rows < SMALL_SAMPLE:
        low, high = wilson_interval(round(accuracy * rows), rows)
        text += f" (95% interval {low:.0%}–{high:.0%})"
    return text


def too_few_rows_note(rows: int, what: str = "This accuracy") -> str | None:
    """A warning below TOO_FEW_ROWS rows: one row more or less moves the figure by a lot."""
    if rows >= TOO_FEW_ROWS:
        return None
    step = 1 / max(rows, 1)
    counted = f"{rows} validation {'row' if rows == 1 else 'rows'}"
    return (f"{what} is measured on only {counted}: each row moves it by {step:.0%}, so read it "
            f"loosely. A file with more rows (or a larger validation fraction) gives a steadier figure.")


@dataclass(frozen=True)
class ClassScore:
    """Precision, recall and F1 of one class, and how many held-out rows have it."""

    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Misclassified:
    """A held-out row the model got wrong; `index` is its position in the validation split."""

    index: int
    text: str
    true_label: str
    predicted_label: str
    confidence: float  # the probability the model gave its (wrong) prediction


@dataclass(frozen=True, eq=False)
class EvaluationReport:
    """Accuracy, macro-F1, per-class scores, the confusion matrix [true, predicted], the rows it got wrong."""

    label_names: tuple[str, ...]
    accuracy: float
    macro_f1: float
    per_class: tuple[ClassScore, ...]
    confusion: np.ndarray  # [true class, predicted class] counts
    misclassified: tuple[Misclassified, ...]
    size: int


def quick_scores(true_ids: Sequence[int], predicted_ids: Sequence[int]) -> dict[str, float]:
    """Accuracy and macro-F1, for the evaluations during training."""
    return {"accuracy": float(accuracy_score(true_ids, predicted_ids)),
            "macro_f1": float(f1_score(true_ids, predicted_ids, average="macro", zero_division=0))}


def evaluate(texts: Sequence[str], true_ids: Sequence[int], probabilities: np.ndarray,
             label_names: Sequence[str]) -> EvaluationReport:
    """The full report from the model's class probabilities [row, class] on held-out rows."""
    predicted = probabilities.argmax(axis=1)
    classes = list(range(len(label_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        true_ids, predicted, labels=classes, zero_division=0)
    per_class = tuple(ClassScore(name, float(p), float(r), float(f), int(s))
                      for name, p, r, f, s in zip(label_names, precision, recall, f1, support))
    wrong = tuple(Misclassified(int(i), texts[i], label_names[true_ids[i]], label_names[predicted[i]],
                                float(probabilities[i, predicted[i]]))
                  for i in np.flatnonzero(predicted != np.asarray(true_ids)))
    return EvaluationReport(
        label_names=tuple(label_names), accuracy=float(accuracy_score(true_ids, predicted)),
        macro_f1=float(f1_score(true_ids, predicted, labels=classes, average="macro", zero_division=0)),
        per_class=per_class, confusion=confusion_matrix(true_ids, predicted, labels=classes),
        misclassified=tuple(sorted(wrong, key=lambda row: -row.confidence)), size=len(texts),
    )
