"""The training loop: teacher-distillation (attention KL + hidden MSE per layer) plus ALBERT's MLM and SOP."""

from __future__ import annotations

import contextlib
import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from albert_viz.pretrain import losses
from albert_viz.pretrain.data import SOP_UNLABELLED


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and schedule; the run is bounded by wall-clock time, so the LR schedule is too."""

    budget_minutes: float = 90.0
    batch_size: int = 16
    peak_lr: float = 5e-4
    head_lr_multiplier: float = 3.0  # the heads (MLM head pre-fitted, SOP and pooler) adapt faster than the body
    final_lr_fraction: float = 0.05
    warmup_fraction: float = 0.03
    weight_decay: float = 0.01
    w_attention: float = 1.0
    w_hidden: float = 1.0
    w_mlm: float = 1.0
    # SOP at weight 1 gave it ~1% of the gradient MLM got. At 20 the bundle's head learned within
    # minutes -- but on segments cut mid-sentence, where a full stop before the first [SEP] gives the
    # order away. On whole sentences (what data.py now builds) a fresh 60-minute run stayed at chance
    # for 45 minutes, then reached 58%.
    w_sop: float = 20.0
    # Attention KL per depth: only depths 0 and 1, where the teacher's previous-token (L0H2) and
    # next-token (L1H8) heads live; depth 1 counts 6x, which lifted the student's next-token head
    # from 0.46 to 0.59. Deeper depths are free: one shared layer cannot imitate six teacher layers.
    attention_layer_weights: tuple[float, ...] = (1.0, 6.0, 0.0, 0.0, 0.0, 0.0)
    # Hidden states matched (0 = embedding output, i = after depth i): the early ones feed the
    # positional heads, the last one is what the MLM head reads. Depths 3-5 are left free.
    hidden_layers: tuple[int, ...] = (0, 1, 2, 6)
    # [CLS] (position 0) is left out of distillation so that SOP, not the order-blind teacher, shapes it.
    distill_cls: bool = False
    # Sentence-level distillation: the last [CLS] state points where the teacher's mean-pooled sentence
    # embedding points (losses.sentence_cosine). The bundle's last 80 minutes (a continuation) used 10:
    # it won back the sentiment fine-tuning that SOP training on a free [CLS] had cost (MODEL_CARD).
    # Off by default: from the teacher it halves early MLM progress (10.9% -> 5.7% top-1 after 5 minutes).
    w_sentence: float = 0.0
    eval_every_minutes: float = 5.0
    checkpoint_every_minutes: float = 5.0
    log_every_steps: int = 20
    bf16: bool = True
    threads: int = 2
    seed: int = 0
    device: str = "cpu"


@dataclass(frozen=True)
class StepResult:
    """What one batch produced (Python floats for logging)."""

    total: float
    attention: float
    hidden: float
    mlm: float
    sop: float
    sentence: float


def lr_at(elapsed: float, budget: float, cfg: TrainConfig) -> float:
    """Linear warm-up then linear decay, both measured in seconds rather than steps."""
    frac = min(elapsed / budget, 1.0)
    if frac < cfg.warmup_fraction:
        return cfg.peak_lr * frac / cfg.warmup_fraction
    decay = (frac - cfg.warmup_fraction) / (1 - cfg.warmup_fraction)
    return cfg.peak_lr * (1 - (1 - cfg.final_lr_fraction) * decay)


def autocast(cfg: TrainConfig):
    """bf16 autocast on the training device (about 1.5x faster than fp32 on these CPUs)."""
    return torch.autocast(cfg.device.split(":")[0], dtype=torch.bfloat16) if cfg.bf16 else contextlib.nullcontext()


def to_device(batch: dict, device: str) -> dict:
    """Move every tensor of a batch to the training device."""
    return {k: v.to(device) for k, v in batch.items()}


def distillation_mask(attention_mask: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    """Positions whose states and attention rows are matched to the teacher's: real tokens, minus [CLS] unless asked."""
    mask = attention_mask.clone()  # [batch, seq]
    if not cfg.distill_cls:
        mask[:, 0] = 0
    return mask


def distillation_losses(t_out, s_out, mask: torch.Tensor, cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention KL weighted per depth, and the mean relative hidden MSE over the chosen hidden states."""
    att = torch.stack([losses.attention_kl(t, s, mask) for t, s in zip(t_out.attentions, s_out.attentions)])
    weights = torch.tensor(cfg.attention_layer_weights, device=att.device)
    hid = torch.stack([losses.hidden_mse(t_out.hidden_states[i], s_out.hidden_states[i], mask)
                       for i in cfg.hidden_layers])
    return (att * weights).sum() / len(weights), hid.mean()


def matches_layers(cfg: TrainConfig) -> bool:
    """Whether per-layer attention or hidden states are distilled (both need every depth's outputs)."""
    return bool(cfg.w_attention or cfg.w_hidden)


def uses_teacher(cfg: TrainConfig) -> bool:
    """Whether any distillation term is on; without one the teacher's forward pass (and its cost) is skipped."""
    return matches_layers(cfg) or bool(cfg.w_sentence)


def forward_losses(student, teacher, batch: dict, cfg: TrainConfig) -> tuple[torch.Tensor, StepResult]:
    """One batch: teacher sees the unmasked text, student the masked one; depth i is matched to layer i."""
    mask = batch["attention_mask"]
    with autocast(cfg):
        s_out = student.albert(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"],
                               attention_mask=mask, output_attentions=matches_layers(cfg),
                               output_hidden_states=matches_layers(cfg))
        mlm, _ = losses.masked_lm(student, s_out.last_hidden_state, batch["labels"])
        sop, _ = losses.sentence_order(student, s_out.pooler_output, batch["sentence_order_label"])
    att = hid = sentence = torch.zeros((), device=mlm.device)
    if uses_teacher(cfg):
        att, hid, sentence = teacher_losses(teacher, s_out, batch, cfg)
    total = (cfg.w_attention * att + cfg.w_hidden * hid + cfg.w_mlm * mlm + cfg.w_sop * sop
             + cfg.w_sentence * sentence)
    return total, StepResult(total.item(), att.item(), hid.item(), mlm.item(), sop.item(), sentence.item())


def teacher_losses(teacher, s_out, batch: dict, cfg: TrainConfig) -> tuple[torch.Tensor, ...]:
    """Attention KL, hidden MSE and sentence cosine against the teacher's pass over the unmasked text."""
    mask = batch["attention_mask"]
    with torch.no_grad(), autocast(cfg):
        t_out = teacher(input_ids=batch["teacher_input_ids"], token_type_ids=batch["token_type_ids"],
                        attention_mask=mask, output_attentions=True, output_hidden_states=True)
    att = hid = torch.zeros((), device=mask.device)
    if matches_layers(cfg):
        att, hid = distillation_losses(t_out, s_out, distillation_mask(mask, cfg), cfg)
    sentence = losses.sentence_cosine(t_out.last_hidden_state, s_out.last_hidden_state[:, 0], mask)
    return att, hid, sentence


@torch.no_grad()
def evaluate(student, batches: list[dict], cfg: TrainConfig) -> dict[str, float]:
    """Held-out MLM top-1 and SOP accuracy on fixed (pre-masked) batches."""
    student.eval()
    mlm_hits = mlm_n = sop_hits = sop_n = 0
    mlm_loss = 0.0
    for batch in batches:
        batch = to_device(batch, cfg.device)
        with autocast(cfg):
            out = student.albert(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"],
                                 attention_mask=batch["attention_mask"])
            loss, hits = losses.masked_lm(student, out.last_hidden_state, batch["labels"])
            _, s_hits = losses.sentence_order(student, out.pooler_output, batch["sentence_order_label"])
        n = int((batch["labels"] != -100).sum())
        mlm_hits, mlm_n, mlm_loss = mlm_hits + int(hits), mlm_n + n, mlm_loss + loss.item() * n
        sop_hits, sop_n = sop_hits + int(s_hits), sop_n + int((batch["sentence_order_label"] != SOP_UNLABELLED).sum())
    student.train()
    return {"mlm_top1": mlm_hits / mlm_n, "mlm_loss": mlm_loss / mlm_n, "sop_acc": sop_hits / sop_n}


@dataclass
class RunState:
    """Mutable progress saved in every checkpoint so a killed run resumes where it stopped."""

    step: int = 0
    elapsed: float = 0.0
    tokens: int = 0
    last_eval: float = 0.0
    last_checkpoint: float = 0.0


def save_checkpoint(path: Path, student, optimizer, state: RunState) -> None:
    """Atomically write model, optimiser and progress."""
    tmp = path.with_suffix(".tmp")
    torch.save({"model": student.state_dict(), "optimizer": optimizer.state_dict(), "state": asdict(state),
                "rng": random.getstate(), "torch_rng": torch.get_rng_state()}, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path, student, optimizer) -> RunState:
    """Restore a checkpoint written by save_checkpoint; a fresh RunState if there is none."""
    if not path.exists():
        return RunState()
    ckpt = torch.load(path, weights_only=False, map_location="cpu")
    student.load_state_dict(ckpt["model"])
    try:
        optimizer.load_state_dict(ckpt["optimizer"])
    except ValueError:  # the parameter groups changed with the recipe: keep the weights, restart AdamW's moments
        print("checkpoint's optimizer groups differ from this recipe's: optimizer state reset", flush=True)
    random.setstate(ckpt["rng"])
    torch.set_rng_state(ckpt["torch_rng"])
    return RunState(**ckpt["state"])


HEAD_PREFIXES = ("predictions.dense", "predictions.LayerNorm", "predictions.bias", "sop_classifier", "albert.pooler")


@dataclass(frozen=True)
class HeadFitConfig:
    """Fit the fresh MLM head to decode the teacher's own last-layer states before the body trains."""

    batches: int = 12
    steps: int = 300
    tokens_per_step: int = 512
    lr: float = 3e-3


def fit_mlm_head(student, teacher, batches: list[dict], cfg: HeadFitConfig, device: str) -> float:
    """Train only the MLM head (not the tied embeddings) on teacher states of unmasked text; return final loss.

    The student's last hidden state is distilled towards the teacher's, so a head that reads the
    teacher's states is the head the student will need; learning it on cached teacher features costs
    a minute instead of hundreds of full distillation steps.
    """
    feats, targets = [], []
    with torch.no_grad():
        for batch in batches[: cfg.batches]:
            batch = to_device(batch, device)
            out = teacher(input_ids=batch["teacher_input_ids"], token_type_ids=batch["token_type_ids"],
                          attention_mask=batch["attention_mask"])
            where = batch["labels"] != -100  # a random 15% of positions: any positions will do
            feats.append(out.last_hidden_state[where])  # [n, hidden]
            targets.append(batch["labels"][where])
    feats, targets = torch.cat(feats), torch.cat(targets)
    head = student.predictions
    # The decoder weight is the word-embedding matrix (tied): keep it as the factorization made it.
    params = [p for p in head.parameters() if p is not head.decoder.weight]
    optimizer = torch.optim.Adam(params, lr=cfg.lr)
    generator = torch.Generator().manual_seed(0)
    for _ in range(cfg.steps):
        idx = torch.randint(0, len(feats), (cfg.tokens_per_step,), generator=generator).to(device)
        loss = torch.nn.functional.cross_entropy(head(feats[idx]).float(), targets[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return loss.item()


def make_optimizer(student, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW: no decay on biases and LayerNorm weights; the fresh heads learn faster than the body."""
    groups: dict[tuple[bool, bool], list] = {}
    for name, p in student.named_parameters():  # the tied decoder weight is the embedding: listed once
        key = (name.startswith(HEAD_PREFIXES), p.ndim >= 2)
        groups.setdefault(key, []).append(p)
    return torch.optim.AdamW([
        {"params": params, "weight_decay": cfg.weight_decay if matrix else 0.0,
         "lr_scale": cfg.head_lr_multiplier if head else 1.0}
        for (head, matrix), params in groups.items()
    ], lr=cfg.peak_lr)


def _log(log_path: Path, record: dict) -> None:
    """Append one JSON line to the metrics log and echo it."""
    with log_path.open("a") as fh:
        fh.write(json.dumps(record) + "\n")
    print(json.dumps(record), flush=True)


def train(student, teacher, stream, eval_batches: list[dict], cfg: TrainConfig, run_dir: Path) -> RunState:
    """Train until the wall-clock budget is spent, evaluating and checkpointing on a timer."""
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt, log_path = run_dir / "checkpoint.pt", run_dir / "metrics.jsonl"
    optimizer = make_optimizer(student, cfg)
    state = load_checkpoint(ckpt, student, optimizer)
    budget = cfg.budget_minutes * 60
    if state.step == 0:
        _log(log_path, {"step": 0, "minutes": 0.0, "tokens": 0, **evaluate(student, eval_batches, cfg)})
    student.train()
    started = time.monotonic() - state.elapsed
    while state.elapsed < budget:
        batch = to_device(next(stream), cfg.device)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(state.elapsed, budget, cfg) * group["lr_scale"]
        loss, parts = forward_losses(student, teacher, batch, cfg)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        optimizer.step()
        state.step += 1
        state.tokens += int(batch["attention_mask"].sum())
        state.elapsed = time.monotonic() - started
        _maybe_report(state, parts, optimizer, cfg, budget, log_path)
        if state.elapsed - state.last_eval >= cfg.eval_every_minutes * 60 or state.elapsed >= budget:
            state.last_eval = state.elapsed
            _log(log_path, {"step": state.step, "minutes": round(state.elapsed / 60, 2), "tokens": state.tokens,
                            **evaluate(student, eval_batches, cfg)})
        if state.elapsed - state.last_checkpoint >= cfg.checkpoint_every_minutes * 60:
            state.last_checkpoint = state.elapsed
            save_checkpoint(ckpt, student, optimizer, state)
    save_checkpoint(ckpt, student, optimizer, state)
    return state


def _maybe_report(state: RunState, parts: StepResult, optimizer, cfg: TrainConfig, budget: float,
                  log_path: Path) -> None:
    """Progress line every few steps: a text progress bar plus the loss parts."""
    if state.step % cfg.log_every_steps:
        return
    done = min(state.elapsed / budget, 1.0)
    bar = "#" * int(30 * done) + "." * (30 - int(30 * done))
    print(f"[{bar}] {100 * done:5.1f}% step {state.step} {state.elapsed / 60:.1f}/{budget / 60:.0f} min "
          f"lr {lr_at(state.elapsed, budget, cfg):.2e} loss {parts.total:.3f} (att {parts.attention:.3f} "
          f"hid {parts.hidden:.3f} mlm {parts.mlm:.3f} sop {parts.sop:.3f} sent {parts.sentence:.3f})", flush=True)
    with log_path.open("a") as fh:
        fh.write(json.dumps({"step": state.step, "minutes": round(state.elapsed / 60, 2),
                             "train": asdict(parts)}) + "\n")
