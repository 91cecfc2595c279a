"""How well a fine-tuned classifier does on held-out rows: scikit-learn's metrics, frozen for the page."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


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
