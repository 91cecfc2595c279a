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
