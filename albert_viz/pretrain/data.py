"""Corpus -> sentence-order pairs -> n-gram masked batches for MLM + SOP."""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from albert_viz.pretrain.corpus import Document


@dataclass(frozen=True)
class DataConfig:
    """Sequence shape and masking recipe (ALBERT: 15% of tokens, n-grams up to 3, shorter favoured)."""

    max_length: int = 128
    mask_fraction: float = 0.15
    max_ngram: int = 3
    min_segment: int = 4


@dataclass(frozen=True)
class Pair:
    """Two consecutive segments of one document, token ids without special tokens."""

    first: tuple[int, ...]
    second: tuple[int, ...]


SENTENCE_ENDS = frozenset({".", "!", "?"})


def cut_points(tokens: list[str], min_segment: int) -> list[int]:
    """Where a window of WordPiece tokens may be split in two: after a sentence end if there is one.

    Cutting anywhere (the bundled run did) splits words: "cleti [SEP] ##s tout" gives away the order
    with a "##" piece right after [CLS] or [SEP], and halves single sentences. Cuts after ".", "!" or
    "?" follow ALBERT's recipe (segments are runs of whole sentences); a window with no usable
    sentence end falls back to word starts, never before a "##" continuation piece.
    """
    allowed = range(min_segment, len(tokens) - min_segment + 1)
    sentence = [i for i in allowed if tokens[i - 1] in SENTENCE_ENDS and not tokens[i].startswith("##")]
    return sentence or [i for i in allowed if not tokens[i].startswith("##")]


def document_pairs(docs: tuple[Document, ...], tokenizer, config: DataConfig, seed: int) -> list[Pair]:
    """Cut each document into windows of max_length-3 tokens and split each window in two at a sentence end."""
    rng = random.Random(seed)
    window = config.max_length - 3  # room for [CLS] A [SEP] B [SEP]
    ids_per_doc = tokenizer([d.text for d in docs], add_special_tokens=False)["input_ids"]
    pairs = []
    for ids in ids_per_doc:
        for start in range(0, len(ids), window):
            chunk = ids[start : start + window]
            if len(chunk) < 2 * config.min_segment:
                continue
            cuts = cut_points(tokenizer.convert_ids_to_tokens(chunk), config.min_segment)
            if not cuts:
                continue
            cut = rng.choice(cuts)
            pairs.append(Pair(tuple(chunk[:cut]), tuple(chunk[cut:])))
    return pairs


def _ngram_lengths(max_ngram: int) -> tuple[list[int], list[float]]:
    """ALBERT's n-gram length distribution: p(n) proportional to 1/n."""
    lengths = list(range(1, max_ngram + 1))
    return lengths, [1.0 / n for n in lengths]


def ngram_mask(candidates: list[int], config: DataConfig, rng: random.Random) -> list[int]:
    """Pick positions to mask as n-gram spans until 15% of the candidate positions are covered."""
    budget = max(1, round(len(candidates) * config.mask_fraction))
    lengths, weights = _ngram_lengths(config.max_ngram)
    chosen: set[int] = set()
    for _ in range(10 * budget):  # bounded retries when spans collide
        if len(chosen) >= budget:
            break
        n = min(rng.choices(lengths, weights)[0], budget - len(chosen))
        start = rng.randrange(len(candidates) - n + 1)
        span = candidates[start : start + n]
        if not chosen.intersection(span):
            chosen.update(span)
    return sorted(chosen)


@dataclass(frozen=True)
class Example:
    """One SOP example before padding; teacher sees `original`, student sees `masked`."""

    original: list[int]
    masked: list[int]
    token_types: list[int]
    mlm_positions: list[int]
    sop_label: int  # 0 = in order, 1 = swapped (HF AlbertForPreTraining convention)


def make_example(pair: Pair, tokenizer, config: DataConfig, rng: random.Random) -> Example:
    """Swap half the pairs (SOP), add special tokens, mask n-grams with ALBERT's 80/10/10 rule."""
    swapped = rng.random() < 0.5
    first, second = (pair.second, pair.first) if swapped else (pair.first, pair.second)
    cls, sep, mask = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.mask_token_id
    original = [cls, *first, sep, *second, sep]
    token_types = [0] * (len(first) + 2) + [1] * (len(second) + 1)
    candidates = [i for i, t in enumerate(original) if t not in (cls, sep)]
    positions = ngram_mask(candidates, config, rng)
    masked = list(original)
    for pos in positions:
        roll = rng.random()
        if roll < 0.8:
            masked[pos] = mask
        elif roll < 0.9:
            masked[pos] = rng.randrange(tokenizer.vocab_size)
    return Example(original, masked, token_types, positions, int(swapped))


def collate(examples: list[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a list of examples to the longest one; MLM labels are -100 except at masked positions."""
    width = max(len(e.original) for e in examples)

    def pad(rows: list[list[int]], value: int) -> torch.Tensor:
        return torch.tensor([r + [value] * (width - len(r)) for r in rows])  # [batch, seq]

    labels = torch.full((len(examples), width), -100)
    for row, e in enumerate(examples):
        labels[row, e.mlm_positions] = torch.tensor([e.original[p] for p in e.mlm_positions])
    return {
        "input_ids": pad([e.masked for e in examples], pad_id),
        "teacher_input_ids": pad([e.original for e in examples], pad_id),
        "token_type_ids": pad([e.token_types for e in examples], 0),
        "attention_mask": pad([[1] * len(e.original) for e in examples], 0),
        "labels": labels,
        "sentence_order_label": torch.tensor([e.sop_label for e in examples]),
    }


def batches(pairs: list[Pair], tokenizer, config: DataConfig, batch_size: int, seed: int):
    """Endless stream of batches; each epoch reshuffles and buckets by length to waste less padding."""
    rng = random.Random(seed)
    while True:
        order = list(range(len(pairs)))
        rng.shuffle(order)
        bucket = 50 * batch_size
        epoch = []
        for start in range(0, len(order), bucket):
            chunk = sorted(order[start : start + bucket], key=lambda i: len(pairs[i].first) + len(pairs[i].second))
            epoch += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
        rng.shuffle(epoch)
        for ids in epoch:
            yield collate([make_example(pairs[i], tokenizer, config, rng) for i in ids], tokenizer.pad_token_id)


def fixed_batches(pairs: list[Pair], tokenizer, config: DataConfig, batch_size: int, seed: int) -> list[dict]:
    """A deterministic list of batches (same masks every time) for held-out evaluation."""
    rng = random.Random(seed)
    examples = [make_example(p, tokenizer, config, rng) for p in pairs]
    return [collate(examples[i : i + batch_size], tokenizer.pad_token_id) for i in range(0, len(examples), batch_size)]
