"""The tokenizer in plain sight: which kind of vocabulary a model reads with, what its markers mean, and a sentence
cut into pieces with their ids.

Real ALBERT reads with a 30,000-piece SentencePiece (unigram) vocabulary where "▁" marks a piece that starts a
word; the bundled ALBERT-tiny borrowed BERT's 30,522-piece uncased WordPiece vocabulary, where "##" marks a piece
that continues the previous one. Everything here is read from the tokenizer itself, not assumed from the model.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from albert_viz.model.capture import Capture
from albert_viz.model.loading import LoadedModel

WORDPIECE, SENTENCEPIECE, BPE = "WordPiece", "SentencePiece", "byte-level BPE"
# What each kind's marker says about a piece, and which released models use it.
KINDS = {
    WORDPIECE: ("##", "continues the piece before it, inside one word (no marker: the piece starts after a space "
                      "or a punctuation mark, which WordPiece always splits off)", "BERT's vocabulary"),
    SENTENCEPIECE: ("▁", "starts after a space, i.e. begins a word (no marker: the piece continues the one before "
                         "it)", "real ALBERT's vocabulary"),
    BPE: ("Ġ", "starts after a space, i.e. begins a word (no marker: the piece continues the one before it)",
          "GPT-2's and RoBERTa's vocabulary"),
}
_BACKEND_KINDS = {"WordPiece": WORDPIECE, "Unigram": SENTENCEPIECE, "BPE": BPE}
ALBERT_VOCABULARY = (SENTENCEPIECE, 30_000)  # Lan et al. 2020, §4.1; every released albert-*-v2 config
BERT_VOCABULARY = (WORDPIECE, 30_522)  # bert-base-uncased


@dataclass(frozen=True)
class Vocabulary:
    """Which kind of vocabulary a tokenizer has, how many pieces, and what its marker means."""

    kind: str  # a key of KINDS, or "unknown"
    size: int

    @property
    def marker(self) -> str | None:
        return KINDS[self.kind][0] if self.kind in KINDS else None

    @property
    def label(self) -> str:
        """'WordPiece (## continues a word)': short enough for a table cell beside the size."""
        if self.marker is None:
            return self.kind
        return f"{self.kind} ({self.marker} {'continues' if self.kind == WORDPIECE else 'begins'} a word)"

    def explanation(self) -> str:
        """What the marker means for this vocabulary, in one sentence."""
        if self.marker is None:
            return f"This tokenizer's vocabulary ({self.size:,} pieces) is of a kind this app does not know."
        return (f"A {self.kind} vocabulary of {self.size:,} pieces ({KINDS[self.kind][2]}): a piece marked "
                f"“{self.marker}” {KINDS[self.kind][1]}.")


def vocabulary_of(tokenizer) -> Vocabulary:
    """Read the vocabulary's kind from a fast tokenizer's model (WordPiece, Unigram = SentencePiece, BPE)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    name = type(backend.model).__name__ if backend is not None else ""
    return Vocabulary(_BACKEND_KINDS.get(name, "unknown"), len(tokenizer))


def vocabulary_in_folder(folder: Path) -> Vocabulary | None:
    """The vocabulary of a saved tokenizer.json, without loading a tokenizer; None where there is none."""
    try:
        model = json.loads((Path(folder) / "tokenizer.json").read_text(encoding="utf-8"))["model"]
        return Vocabulary(_BACKEND_KINDS.get(model["type"], "unknown"), len(model["vocab"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class Pieces:
    """A text as the model reads it: every piece, its id, and whether it is a special token or starts a word."""

    vocabulary: Vocabulary
    pieces: tuple[str, ...]
    ids: tuple[int, ...]
    special: tuple[bool, ...]
    starts_word: tuple[bool, ...]  # from the marker: the piece does not continue the one before it

    def rows(self) -> dict[str, list]:
        """Table columns: position, piece, id, what the piece is."""
        return {"position": list(range(len(self.pieces))), "piece": list(self.pieces), "id": list(self.ids),
                "what it is": [_role(self.vocabulary, special, starts)
                               for special, starts in zip(self.special, self.starts_word)]}

    @property
    def split_words(self) -> int:
        """How many pieces continue a word: where one word became several pieces."""
        return sum(not special and not starts for special, starts in zip(self.special, self.starts_word))


def _role(vocabulary: Vocabulary, special: bool, starts_word: bool) -> str:
    if special:
        return "special token"
    if not starts_word:
        return "continues the piece before"
    return "starts after a space or punctuation" if vocabulary.kind == WORDPIECE else "starts after a space"


def pieces(loaded: LoadedModel, capture: Capture) -> Pieces:
    """The pieces and ids the model read for a capture, each labelled by the loaded tokenizer's own markers."""
    ids = tuple(int(i) for i in capture.token_ids)
    special_ids = set(loaded.tokenizer.all_special_ids)
    special = tuple(i in special_ids for i in ids)
    vocabulary = vocabulary_of(loaded.tokenizer)
    return Pieces(vocabulary, capture.tokens, ids, special,
                  tuple(_starts_word(vocabulary, token) for token in capture.tokens))


def _starts_word(vocabulary: Vocabulary, token: str) -> bool:
    if vocabulary.kind == WORDPIECE:
        return not token.startswith(vocabulary.marker)
    if vocabulary.marker is not None:
        return token.startswith(vocabulary.marker)
    return True
