"""Documents from the packaged sources: cleaned, deduplicated, split into train and held-out."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sklearn.model_selection import train_test_split

from albert_viz.pretrain import sources


@dataclass(frozen=True)
class Document:
    """One document; SOP draws its two segments from inside one of these."""

    source: str
    text: str


@dataclass(frozen=True)
class CorpusConfig:
    """What goes into the corpus and how much is held out."""

    heldout_fraction: float = 0.03
    seed: int = 0
    min_words: int = 4


@dataclass(frozen=True)
class Corpus:
    """Train and held-out documents (held-out never trains the student)."""

    train: tuple[Document, ...]
    heldout: tuple[Document, ...]

    def word_counts(self) -> dict[str, int]:
        """Words per source over both parts."""
        counts: dict[str, int] = {}
        for doc in self.train + self.heldout:
            counts[doc.source] = counts.get(doc.source, 0) + len(doc.text.split())
        return counts


def _normalise(text: str) -> str:
    """Collapse whitespace so trivially different copies dedupe."""
    return re.sub(r"\s+", " ", text).strip()


def rotten_documents(excluded: set[str]) -> list[str]:
    """Review snippets and plot summaries, minus the sample test split's texts."""
    frame = sources.rotten_tomatoes()
    frame = frame[~frame["text"].isin(excluded)]
    return frame["text"].tolist()


def raw_documents(excluded: set[str]) -> list[Document]:
    """Every source's documents, labelled by source."""
    modules = sources.npm_modules()
    per_source = {
        "brown": sources.brown_documents(modules),
        "sotu": sources.sotu_documents(modules),
        "moby_dick": sources.moby_dick_documents(modules),
        "rotten_tomatoes": rotten_documents(excluded),
    }
    return [Document(name, text) for name, texts in per_source.items() for text in texts]


def dedupe(docs: list[Document], min_words: int) -> list[Document]:
    """Drop exact duplicates (after whitespace normalisation) and near-empty documents."""
    seen: set[str] = set()
    kept = []
    for doc in docs:
        key = _normalise(doc.text).lower()
        if key in seen or len(key.split()) < min_words:
            continue
        seen.add(key)
        kept.append(doc)
    return kept


def build_corpus(excluded: set[str], config: CorpusConfig = CorpusConfig()) -> Corpus:
    """Fetch, clean, dedupe and split by document (stratified by source) with a fixed seed."""
    docs = dedupe(raw_documents(excluded), config.min_words)
    train, heldout = train_test_split(
        docs, test_size=config.heldout_fraction, random_state=config.seed, stratify=[d.source for d in docs]
    )
    return Corpus(tuple(train), tuple(heldout))
