"""Distillation and pretraining losses; every loss is a scalar tensor in fp32."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from albert_viz.pretrain.data import SOP_UNLABELLED


def attention_kl(teacher_att: torch.Tensor, student_att: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """KL(teacher || student) over keys, mean over heads and real query positions. att: [batch, head, query, key]."""
    t, s = teacher_att.float(), student_att.float()
    kl = (t * (t.clamp_min(1e-9).log() - s.clamp_min(1e-9).log())).sum(-1)  # [batch, head, query]
    weights = mask[:, None, :].float().expand_as(kl)
    return (kl * weights).sum() / weights.sum()


def hidden_mse(teacher_h: torch.Tensor, student_h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Relative squared error over real positions: MSE / the teacher's mean square. h: [batch, seq, hidden].

    Normalising per layer matters: the teacher's last layer has ~4x less energy than its middle
    layers, so a plain MSE lets the student ignore exactly the layer the MLM head reads.
    """
    t, s = teacher_h.float(), student_h.float()
    err = (t - s).pow(2).mean(-1)  # [batch, seq]
    energy = t.pow(2).mean(-1)  # [batch, seq]
    return (err * mask).sum() / (energy * mask).sum()


def sentence_cosine(teacher_last: torch.Tensor, student_cls: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """1 - cosine between the student's [CLS] state and the teacher's sentence embedding, mean over the batch.

    The teacher (all-MiniLM-L6-v2) was trained so that the mean of its last-layer states over the real
    tokens is a sentence embedding; pointing [CLS] the same way hands that sentence meaning to the vector
    a classifier reads. Only the direction is matched, so [CLS] keeps room (its norm and a small
    orthogonal part) for the sentence order the teacher's order-blind average cannot say.
    teacher_last: [batch, seq, hidden], student_cls: [batch, hidden], mask: [batch, seq].
    """
    m = mask[:, :, None].float()  # [batch, seq, 1]
    sentence = (teacher_last.float() * m).sum(1) / m.sum(1)  # [batch, hidden]
    return 1 - F.cosine_similarity(student_cls.float(), sentence, dim=-1).mean()


def masked_lm(student, sequence: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """MLM loss and top-1 hits on masked positions only (vocabulary logits elsewhere would be wasted)."""
    where = labels != -100  # [batch, seq]
    logits = student.predictions(sequence[where]).float()  # [n_masked, vocab]
    targets = labels[where]
    return F.cross_entropy(logits, targets), (logits.argmax(-1) == targets).sum()


def sentence_order(student, pooled: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """SOP loss and hits from the pooled [CLS] vector, over the examples that have two segments."""
    labelled = labels != SOP_UNLABELLED
    logits = student.sop_classifier(pooled[labelled]).float()  # [labelled, 2]
    if not labelled.any():  # only single-sentence examples: zero loss that still belongs to the graph
        return logits.sum(), torch.zeros((), dtype=torch.long)
    return F.cross_entropy(logits, labels[labelled]), (logits.argmax(-1) == labels[labelled]).sum()
