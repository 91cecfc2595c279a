"""Corpus -> sentence-order pairs -> n-gram masked batches for MLM + SOP."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterator

import torch

from albert_viz.pretrain.corpus import Document


@dataclass(frozen=True)
class DataConfig:
    """Sequence shape and masking recipe (ALBERT: 15% of tokens, n-grams up to 3, shorter favoured)."""

    max_length: int = 128
    mask_fraction: float = 0.15
    max_ngram: int = 3
    min_segment: int = 4
    # Cut each chunk anew every epoch, as ALBERT's create_pretraining_data does for each of its
    # dupe_factor copies: the corpus is ~4M tokens and a run sees it 8 times or more, and with one
    # fixed cut per chunk the SOP head could learn the training pairs rather than sentence order.
    recut_each_epoch: bool = True


@dataclass(frozen=True)
class Pair:
    """Two consecutive segments of one document, token ids without special tokens.

    `second` is empty for a chunk that is a single sentence: an MLM-only example with no order to learn.
    """

    first: tuple[int, ...]
    second: tuple[int, ...]
    # Every allowed cut of the chunk, as the length of the first segment (empty: one sentence).
    cut_lengths: tuple[int, ...] = ()


SENTENCE_ENDS = frozenset({".", "!", "?"})
SOP_UNLABELLED = -100  # cross-entropy's ignore_index: single-sentence examples teach MLM only


def sentence_spans(tokens: list[str]) -> list[tuple[int, int]]:
    """[start, end) of each sentence in a document's WordPiece tokens: a sentence ends after ".", "!" or "?".

    A full stop followed by a "##" piece is inside a word ("3.5"), not a sentence end. Text after
    the last sentence end (a document without a final full stop) is a sentence too.
    """
    spans, start = [], 0
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in SENTENCE_ENDS and not following.startswith("##"):
            spans.append((start, i + 1))
            start = i + 1
    if start < len(tokens):
        spans.append((start, len(tokens)))
    return spans


def sentence_chunks(spans: list[tuple[int, int]], window: int) -> Iterator[list[tuple[int, int]]]:
    """Runs of consecutive whole sentences of at most `window` tokens, as ALBERT's create_pretraining_data packs them.

    Segments must be whole sentences: a segment that ends mid-sentence gives the order away (the
    bundle's first recipe cut fixed windows, and its SOP head learned to look for a full stop before
    the first [SEP]: 96% on such pairs, 52% on whole sentences). A sentence longer than the window is dropped.
    """
    chunk: list[tuple[int, int]] = []
    length = 0
    for start, end in spans:
        if end - start > window or length + end - start > window:
            if chunk:
                yield chunk
            chunk, length = [], 0
            if end - start > window:
                continue
        chunk.append((start, end))
        length += end - start
    if chunk:
        yield chunk


def split_chunk(ids: list[int], chunk: list[tuple[int, int]], min_segment: int, rng: random.Random) -> Pair:
    """Cut a chunk between two of its sentences, both sides at least min_segment tokens; one sentence stays whole."""
    first_start, last_end = chunk[0][0], chunk[-1][1]
    cuts = [start for start, _ in chunk[1:] if start - first_start >= min_segment and last_end - start >= min_segment]
    if not cuts:
        return Pair(tuple(ids[first_start:last_end]), ())
    cut = rng.choice(cuts)
    return Pair(tuple(ids[first_start:cut]), tuple(ids[cut:last_end]), tuple(c - first_start for c in cuts))


def recut(pair: Pair, rng: random.Random) -> Pair:
    """The same chunk cut again at a random one of its allowed sentence boundaries."""
    if len(pair.cut_lengths) < 2:
        return pair
    tokens = pair.first + pair.second
    cut = rng.choice(pair.cut_lengths)
    return Pair(tokens[:cut], tokens[cut:], pair.cut_lengths)


def document_pairs(docs: tuple[Document, ...], tokenizer, config: DataConfig, seed: int) -> list[Pair]:
    """Pack each document's sentences into chunks of up to max_length-3 tokens and cut each chunk between sentences."""
    rng = random.Random(seed)
    window = config.max_length - 3  # room for [CLS] A [SEP] B [SEP]
    ids_per_doc = tokenizer([d.text for d in docs], add_special_tokens=False)["input_ids"]
    pairs = []
    for ids in ids_per_doc:
        spans = sentence_spans(tokenizer.convert_ids_to_tokens(ids))
        for chunk in sentence_chunks(spans, window):
            if chunk[-1][1] - chunk[0][0] >= config.min_segment:
                pairs.append(split_chunk(ids, chunk, config.min_segment, rng))
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
    sop_label: int  # 0 = in order, 1 = swapped (HF AlbertForPreTraining convention), SOP_UNLABELLED for one sentence


def unmasked_example(pair: Pair, tokenizer, swapped: bool) -> Example:
    """[CLS] A [SEP] B [SEP] with segment ids and SOP label (B's text first when swapped); nothing masked yet."""
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    if not pair.second:  # one sentence: [CLS] A [SEP], nothing to order
        return Example([cls, *pair.first, sep], [cls, *pair.first, sep], [0] * (len(pair.first) + 2), [], SOP_UNLABELLED)
    first, second = (pair.second, pair.first) if swapped else (pair.first, pair.second)
    original = [cls, *first, sep, *second, sep]
    token_types = [0] * (len(first) + 2) + [1] * (len(second) + 1)
    return Example(original, list(original), token_types, [], int(swapped))


def make_example(pair: Pair, tokenizer, config: DataConfig, rng: random.Random) -> Example:
    """Swap half the pairs (SOP), add special tokens, mask n-grams with ALBERT's 80/10/10 rule."""
    cls, sep, mask = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.mask_token_id
    swapped = bool(pair.second) and rng.random() < 0.5  # no coin is tossed for a single sentence
    example = unmasked_example(pair, tokenizer, swapped)
    original, token_types, sop_label = example.original, example.token_types, example.sop_label
    candidates = [i for i, t in enumerate(original) if t not in (cls, sep)]
    positions = ngram_mask(candidates, config, rng)
    masked = list(original)
    for pos in positions:
        roll = rng.random()
        if roll < 0.8:
            masked[pos] = mask
        elif roll < 0.9:
            masked[pos] = rng.randrange(tokenizer.vocab_size)
    return Example(original, masked, token_types, positions, sop_label)


def collate(examples: list[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a list of examples to the longest one; MLM labels are -100 except at masked positions."""
    width = max(len(e.original) for e in examples)

    def pad(rows: list[list[int]], value: int) -> torch.Tensor:
        return torch.tensor([r + [value] * (width - len(r)) for r in rows])  # [batch, seq]

    labels = torch.full((len(examples), width), -100)
    for row, e in enumerate(examples):
        labels[row, e.mlm_positions] = torch.tensor([e.original[p] for p in e.mlm_positions], dtype=torch.long)
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
            chosen = [recut(pairs[i], rng) if config.recut_each_epoch else pairs[i] for i in ids]
            yield collate([make_example(pair, tokenizer, config, rng) for pair in chosen], tokenizer.pad_token_id)


def fixed_batches(pairs: list[Pair], tokenizer, config: DataConfig, batch_size: int, seed: int) -> list[dict]:
    """A deterministic list of batches (same masks every time) for held-out evaluation."""
    rng = random.Random(seed)
    examples = [make_example(p, tokenizer, config, rng) for p in pairs]
    return [collate(examples[i : i + batch_size], tokenizer.pad_token_id) for i in range(0, len(examples), batch_size)]
