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
    # Python docs and WordNet glosses (sources.EXTRA_SOURCES): trained on, split on their own so that
    # the held-out set of the four original sources -- the one every figure in the model card uses -- stays put.
    extra_sources: bool = True


@dataclass(frozen=True)
class Corpus:
    """Train and held-out documents (held-out never trains the student).

    `heldout` comes from the four original sources only and is what evaluation reads;
    `heldout_extra` is the extra sources' held-out slice, kept out of training too.
    """

    train: tuple[Document, ...]
    heldout: tuple[Document, ...]
    heldout_extra: tuple[Document, ...] = ()

    def word_counts(self) -> dict[str, int]:
        """Words per source over all parts."""
        counts: dict[str, int] = {}
        for doc in self.train + self.heldout + self.heldout_extra:
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
    return _labelled(per_source)


def extra_documents() -> list[Document]:
    """The Python documentation's prose and WordNet's glossed examples, labelled by source."""
    root = sources.debian_root()
    return _labelled({"python_docs": sources.python_doc_documents(root), "wordnet": sources.wordnet_documents(root)})


def _labelled(per_source: dict[str, list[str]]) -> list[Document]:
    """{source name: texts} -> Documents labelled by source, in source order."""
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


def split_documents(docs: list[Document], config: CorpusConfig) -> tuple[list[Document], list[Document]]:
    """Train / held-out split by document, stratified by source, with a fixed seed."""
    if not docs:
        return [], []
    return train_test_split(docs, test_size=config.heldout_fraction, random_state=config.seed,
                            stratify=[d.source for d in docs])


def build_corpus(excluded: set[str], config: CorpusConfig = CorpusConfig(), extra: list[Document] | None = None) -> Corpus:
    """Fetch, clean, dedupe and split; the original sources and the extra ones are split separately.

    Splitting them separately keeps the original held-out documents exactly what they were before
    the extra sources existed, so a model trained on the old split is never evaluated on its own training text.
    """
    base = dedupe(raw_documents(excluded), config.min_words)
    if extra is None:
        extra = extra_documents() if config.extra_sources else []
    everything = dedupe(base + extra, config.min_words)  # base first: an extra copy of a base text is the one dropped
    base_kept, extra_kept = everything[: len(base)], everything[len(base) :]
    train, heldout = split_documents(base_kept, config)
    extra_train, extra_heldout = split_documents(extra_kept, config)
    return Corpus(tuple(train + extra_train), tuple(heldout), tuple(extra_heldout))
