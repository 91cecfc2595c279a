"""The pretraining corpus: extra text sources are cleaned, and adding them never moves the held-out set."""
from __future__ import annotations

from albert_viz.pretrain import corpus, sources
from albert_viz.pretrain.corpus import CorpusConfig, Document

WORDNET_LINE = ('02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 023 @ 02083346 n 0000 | '
                'a member of the genus Canis that has been domesticated by man since prehistoric times; '
                'occurs in many breeds; "the dog barked all night"  ')

REST_PAGE = """\
Reading files
=============

Use :func:`open` to read a file, as described in `the tutorial <https://docs.python.org/tut>`_.
It returns a **file object**::

   with open("data.txt") as f:
       text = f.read()

   print(text)

After the block the prose goes on, and ``f`` is closed again.

>>> 1 + 1
2
"""


def test_a_wordnet_synset_becomes_one_sentence_with_headword_definition_and_example():
    text = sources._wordnet_gloss(WORDNET_LINE)
    assert text == ("dog: a member of the genus Canis that has been domesticated by man since prehistoric times; "
                    "occurs in many breeds; the dog barked all night.")


def test_a_wordnet_synset_without_an_example_sentence_is_left_out():
    assert sources._wordnet_gloss("00596193 04 n 01 praetorship 0 002 @ 00586262 n 0000 | the office of praetor  ") is None


def test_python_doc_prose_keeps_sentences_and_drops_code_titles_and_markup():
    prose = sources._prose_paragraphs(REST_PAGE)
    assert prose == ["Use open to read a file, as described in the tutorial. It returns a file object:",
                     "After the block the prose goes on, and f is closed again."]


def _docs(source: str, n: int) -> list[Document]:
    return [Document(source, f"{source} document number {i} has some words.") for i in range(n)]


def test_adding_extra_sources_leaves_the_original_heldout_documents_unchanged(monkeypatch):
    original = _docs("brown", 200) + _docs("sotu", 100)
    monkeypatch.setattr(corpus, "raw_documents", lambda excluded: list(original))
    without = corpus.build_corpus(set(), CorpusConfig(extra_sources=False))
    with_extra = corpus.build_corpus(set(), CorpusConfig(), extra=_docs("wordnet", 500))
    assert with_extra.heldout == without.heldout
    assert {d.source for d in with_extra.heldout_extra} == {"wordnet"}
    assert not set(with_extra.heldout_extra) & set(with_extra.train)


def test_the_command_line_can_leave_the_extra_text_out_and_set_the_peak_lr():
    from albert_viz.pretrain.__main__ import parse_config

    assert parse_config([]).corpus.extra_sources
    chosen = parse_config(["--no-extra-text", "--peak-lr", "3e-4"])
    assert (chosen.corpus.extra_sources, chosen.train.peak_lr) == (False, 3e-4)


def test_every_everyday_probe_word_is_one_token_of_the_bundled_vocabulary():
    # A word split into pieces would be ranked by its first piece only, and the probe would mislead.
    from transformers import AutoTokenizer

    from albert_viz.pretrain.everyday_probe import EVERYDAY_SENTENCES
    from albert_viz.pretrain.pipeline import BUNDLE_DIR

    tokenizer = AutoTokenizer.from_pretrained(BUNDLE_DIR)
    assert all(tokenizer.tokenize(word) == [word] for _, word in EVERYDAY_SENTENCES)
    assert all(sentence.count("[MASK]") == 1 for sentence, _ in EVERYDAY_SENTENCES)
