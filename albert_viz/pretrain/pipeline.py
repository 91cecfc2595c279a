"""One command from packaged text to the bundled ALBERT-tiny: samples -> corpus -> distillation -> bundle."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from transformers import AlbertForPreTraining

from albert_viz.assets import BUNDLED_MODEL_DIR
from albert_viz.pretrain import data, distill, heldout_report, losses
from albert_viz.pretrain.corpus import CorpusConfig, build_corpus
from albert_viz.pretrain.samples import build_samples, held_out_texts
from albert_viz.pretrain.sources import CACHE_DIR, EXTRA_SOURCES, SOURCES
from albert_viz.pretrain.student import StudentConfig, build_student, load_teacher, widen_feed_forward

BUNDLE_DIR = BUNDLED_MODEL_DIR


@dataclass(frozen=True)
class PipelineConfig:
    """Everything `make pretrain` needs; the defaults rebuild the committed bundle."""

    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    data: data.DataConfig = field(default_factory=data.DataConfig)
    student: StudentConfig = field(default_factory=StudentConfig)
    train: distill.TrainConfig = field(default_factory=distill.TrainConfig)
    head_fit: distill.HeadFitConfig = field(default_factory=distill.HeadFitConfig)
    eval_pairs: int = 1024  # held-out chunks; about two thirds have two sentences and an SOP label
    run_dir: Path = CACHE_DIR / "run"
    bundle_dir: Path = BUNDLE_DIR
    # A saved AlbertForPreTraining folder to keep training (e.g. the bundle itself) instead of
    # building a fresh student from the teacher; the schedule warms up and decays again over the budget.
    init_from: Path | None = None
    # Grow the shared layer's feed-forward to this many units before training (widen_feed_forward).
    widen_ffn_to: int | None = None
    # float16 halves the file: the 25 MB budget then holds a wider layer (the app computes in float32).
    bundle_dtype: str = "float32"


def unigram_logprob(pairs: list[data.Pair], vocab_size: int) -> torch.Tensor:
    """Add-one smoothed log unigram probabilities of the training tokens (initial MLM bias)."""
    counts = Counter(t for p in pairs for t in p.first + p.second)
    freq = torch.ones(vocab_size)
    for token, n in counts.items():
        freq[token] += n
    return (freq / freq.sum()).log()


@torch.no_grad()
def layer_fit(student, teacher, batches: list[dict], cfg: distill.TrainConfig) -> float:
    """Distillation loss (attention KL + hidden MSE) of an untrained student on a few batches."""
    total = 0.0
    for batch in batches:
        mask = batch["attention_mask"]
        kwargs = dict(token_type_ids=batch["token_type_ids"], attention_mask=mask,
                      output_attentions=True, output_hidden_states=True)
        t = teacher(input_ids=batch["teacher_input_ids"], **kwargs)
        s = student.albert(input_ids=batch["teacher_input_ids"], **kwargs)
        total += sum(losses.attention_kl(a, b, mask).item() for a, b in zip(t.attentions, s.attentions))
        total += sum(losses.hidden_mse(a, b, mask).item() for a, b in zip(t.hidden_states, s.hidden_states))
    return total / len(batches)


def choose_shared_layer(teacher, tokenizer, cfg: PipelineConfig, probe: list[dict], unigram) -> int:
    """Which teacher layer, shared across all depths, starts closest to the whole teacher."""
    fits = {}
    for layer in range(teacher.config.num_hidden_layers):
        student = build_student(cfg.student, teacher, tokenizer, layer, unigram)
        student.config._attn_implementation = "eager"  # attentions are needed for the fit
        fits[layer] = layer_fit(student, teacher, probe, cfg.train)
    print("shared-layer fit per teacher layer:", {k: round(v, 3) for k, v in fits.items()}, flush=True)
    return min(fits, key=fits.get)


EVAL_SEED_OFFSET = 2  # the running evaluation's mask and swap draw; heldout_report's first draw is the same one


def heldout_chunks(corpus, tokenizer, cfg: PipelineConfig) -> list[data.Pair]:
    """The held-out chunks every figure in the model card is measured on."""
    return data.document_pairs(corpus.heldout, tokenizer, cfg.data, cfg.train.seed + 1)[: cfg.eval_pairs]


def heldout_pairs_of(cfg: PipelineConfig, tokenizer) -> list[data.Pair]:
    """Held-out chunks without building the training data (the extra sources never reach the held-out set)."""
    corpus = build_corpus(held_out_texts(), replace(cfg.corpus, extra_sources=False))
    return heldout_chunks(corpus, tokenizer, cfg)


def prepare(cfg: PipelineConfig, tokenizer):
    """Samples, corpus and tokenized SOP pairs; returns (train pairs, held-out eval batches, corpus stats, held-out pairs)."""
    build_samples()
    corpus = build_corpus(held_out_texts(), cfg.corpus)
    train_pairs = data.document_pairs(corpus.train, tokenizer, cfg.data, cfg.train.seed)
    heldout_pairs = heldout_chunks(corpus, tokenizer, cfg)
    eval_batches = data.fixed_batches(heldout_pairs, tokenizer, cfg.data, 32, EVAL_SEED_OFFSET + cfg.train.seed)
    stats = {"words": corpus.word_counts(), "train_documents": len(corpus.train),
             "heldout_documents": len(corpus.heldout), "heldout_extra_documents": len(corpus.heldout_extra),
             "train_pairs": len(train_pairs),
             "train_tokens": sum(len(p.first) + len(p.second) + 3 for p in train_pairs),
             "train_sop_pairs": sum(1 for p in train_pairs if p.second), "eval_pairs": len(heldout_pairs),
             "eval_sop_pairs": sum(1 for p in heldout_pairs if p.second)}
    print("corpus:", json.dumps(stats), flush=True)
    return train_pairs, eval_batches, stats, heldout_pairs


def used_sources(cfg: PipelineConfig) -> tuple:
    """The sources this configuration trains on, for the bundle's notes."""
    return SOURCES + (EXTRA_SOURCES if cfg.corpus.extra_sources else ())


def save_bundle(student, tokenizer, folder: Path, notes: dict, dtype: str = "float32") -> None:
    """Write config, safetensors (float32 or float16) and tokenizer files so plain transformers loads the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    student.to(getattr(torch, dtype)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "training_summary.json").write_text(json.dumps(notes, indent=2, default=str) + "\n")


def fresh_student(cfg: PipelineConfig, teacher, tokenizer, train_pairs):
    """Student initialised from the best-fitting teacher layer, its MLM head pre-fitted on teacher states."""
    unigram = unigram_logprob(train_pairs, tokenizer.vocab_size)
    probe = data.fixed_batches(train_pairs[:64], tokenizer, cfg.data, 16, cfg.train.seed + 3)
    probe_head = data.fixed_batches(train_pairs[-512:], tokenizer, cfg.data, 32, cfg.train.seed + 4)
    layer = choose_shared_layer(teacher, tokenizer, cfg, probe, unigram)
    student = build_student(cfg.student, teacher, tokenizer, layer, unigram)
    student.config._attn_implementation = "eager"  # attention distillation needs the probabilities
    student.to(cfg.train.device)
    head_loss = distill.fit_mlm_head(student, teacher, probe_head, cfg.head_fit, cfg.train.device)
    print(f"MLM head fitted on teacher states: loss {head_loss:.3f}", flush=True)
    return student, layer, head_loss


def ffn_width(init_from: Path | None) -> int:
    """Feed-forward units of the model a run starts from: the saved folder's, or a fresh student's."""
    if init_from is None:
        return StudentConfig().intermediate_size
    return json.loads((Path(init_from) / "config.json").read_text())["intermediate_size"]


def continued_student(folder: Path, device: str = "cpu"):
    """A saved ALBERT-tiny (MLM and SOP heads included) to train further."""
    student = AlbertForPreTraining.from_pretrained(folder, attn_implementation="eager")
    return student.to(device)


def run(cfg: PipelineConfig = PipelineConfig()) -> Path:
    """Build everything and write the bundle; resumes from the run folder's checkpoint if present."""
    torch.set_num_threads(cfg.train.threads)
    torch.manual_seed(cfg.train.seed)
    teacher, tokenizer = load_teacher()
    teacher.to(cfg.train.device)
    train_pairs, eval_batches, stats, heldout_pairs = prepare(cfg, tokenizer)
    if cfg.init_from is None:
        student, layer, head_loss = fresh_student(cfg, teacher, tokenizer, train_pairs)
    else:
        student, layer, head_loss = continued_student(cfg.init_from, cfg.train.device), None, None
    if cfg.widen_ffn_to:
        student = widen_feed_forward(student, cfg.widen_ffn_to).to(cfg.train.device)
    stream = data.batches(train_pairs, tokenizer, cfg.data, cfg.train.batch_size, cfg.train.seed)
    started = time.time()
    state = distill.train(student, teacher, stream, eval_batches, cfg.train, cfg.run_dir)
    final = distill.evaluate(student, eval_batches, cfg.train)
    print("held-out report: three mask draws and both sentence orders (a few minutes on 2 CPU cores)...", flush=True)
    robust = heldout_report.report(student, str(cfg.bundle_dir), heldout_pairs, tokenizer, cfg.data,
                                   EVAL_SEED_OFFSET + cfg.train.seed, cfg.train.device).summary()
    notes = {"initialised_from": str(cfg.init_from or "teacher"), "corpus": stats, "sources": [asdict(s) for s in used_sources(cfg)],
             "shared_layer_from_teacher": layer, "mlm_head_fit_loss": head_loss, "widened_ffn_to": cfg.widen_ffn_to,
             "steps": state.step, "train_tokens_seen": state.tokens, "train_minutes": round(state.elapsed / 60, 1),
             "this_invocation_minutes": round((time.time() - started) / 60, 1), "heldout": final, "heldout_report": robust,
             "config": {"data": asdict(cfg.data), "student": asdict(cfg.student), "train": asdict(cfg.train)}}
    save_bundle(student.cpu(), tokenizer, cfg.bundle_dir, notes, cfg.bundle_dtype)
    print("bundle written to", cfg.bundle_dir, json.dumps(final), json.dumps(robust), flush=True)
    return cfg.bundle_dir


# A GPU makes far more steps per minute than 2 CPU cores, so its default run is much shorter (not measured here).
GPU_BUDGET_MINUTES = 15.0


def config_from_args(budget_minutes: float | None, run_dir: Path | None, bundle_dir: Path | None,
                     init_from: Path | None = None, peak_lr: float | None = None,
                     extra_sources: bool = True, sentence_weight: float | None = None,
                     objectives_only: bool = False, widen_ffn_to: int | None = None,
                     bundle_dtype: str = "float32") -> PipelineConfig:
    """Defaults, with the few knobs the command line exposes; GPU when there is one."""
    cfg = PipelineConfig()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    default_budget = GPU_BUDGET_MINUTES if device == "cuda" else cfg.train.budget_minutes
    train = replace(cfg.train, device=device,
                    budget_minutes=budget_minutes if budget_minutes is not None else default_budget,
                    peak_lr=peak_lr if peak_lr is not None else cfg.train.peak_lr,
                    w_sentence=sentence_weight if sentence_weight is not None else cfg.train.w_sentence)
    if objectives_only:  # every distillation term off: distill.uses_teacher() is then False
        train = replace(train, w_attention=0.0, w_hidden=0.0, w_sentence=0.0)
    return replace(cfg, train=train, corpus=replace(cfg.corpus, extra_sources=extra_sources),
                   run_dir=run_dir or cfg.run_dir, bundle_dir=bundle_dir or cfg.bundle_dir, init_from=init_from,
                   widen_ffn_to=widen_ffn_to, bundle_dtype=bundle_dtype)
