"""The tokenizer panel's facts are read from the tokenizer itself: its kind, its size, and what its marker means."""
from types import SimpleNamespace

import numpy as np
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from albert_viz.analysis import tokens
from albert_viz.assets import BUNDLED_MODEL_DIR


def as_read(tokenizer, text: str):
    """tokens.pieces for a tokenizer alone: a stand-in model and capture carrying just what it reads."""
    ids = tokenizer(text)["input_ids"]
    capture = SimpleNamespace(tokens=tuple(tokenizer.convert_ids_to_tokens(ids)), token_ids=np.array(ids))
    return tokens.pieces(SimpleNamespace(tokenizer=tokenizer), capture)


def sentencepiece_tokenizer() -> PreTrainedTokenizerFast:
    """A tiny unigram (SentencePiece) vocabulary like real ALBERT's: '▁' marks a piece that begins a word."""
    vocab = [("<unk>", 0.0), ("[CLS]", 0.0), ("[SEP]", 0.0), ("▁nan", -1.0), ("tucket", -1.0), ("▁whale", -1.0),
             ("rs", -1.0), ("▁", -2.0)]
    backend = Tokenizer(models.Unigram(vocab, unk_id=0))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", cls_token="[CLS]", sep_token="[SEP]")


def test_the_bundled_model_reads_with_bert_s_30522_piece_wordpiece():
    tokenizer = AutoTokenizer.from_pretrained(BUNDLED_MODEL_DIR)
    assert tokens.vocabulary_of(tokenizer) == tokens.Vocabulary(tokens.WORDPIECE, 30_522)
    assert tokens.vocabulary_in_folder(BUNDLED_MODEL_DIR) == tokens.vocabulary_of(tokenizer)


def test_wordpiece_pieces_marked_hash_hash_continue_the_word_before():
    read = as_read(AutoTokenizer.from_pretrained(BUNDLED_MODEL_DIR), "Nantucket")
    rows = dict(zip(read.rows()["piece"], read.rows()["what it is"]))
    assert rows["[CLS]"] == rows["[SEP]"] == "special token"
    assert rows["nan"] == "starts after a space or punctuation" and rows["##tucket"] == "continues the piece before"
    assert read.split_words == 1 and "“##” continues the piece before it" in read.vocabulary.explanation()


def test_sentencepiece_pieces_marked_with_the_word_start_begin_a_word():
    read = as_read(sentencepiece_tokenizer(), "nantucket whalers")
    assert read.vocabulary.kind == tokens.SENTENCEPIECE and read.vocabulary.marker == "▁"
    assert read.pieces == ("▁nan", "tucket", "▁whale", "rs")
    assert read.starts_word == (True, False, True, False) and read.split_words == 2
    assert "“▁” starts after a space" in read.vocabulary.explanation()
