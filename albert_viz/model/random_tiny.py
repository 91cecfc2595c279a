"""Tiny randomly initialised ALBERTs with a tiny WordPiece tokenizer.

Used by the tests (which must not depend on downloaded weights) and as the app's
stand-in when no bundled model is present. Random weights make every heatmap noise,
so the app says so whenever this model is on screen.
"""
from __future__ import annotations

import string
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import AlbertConfig, AlbertForPreTraining, PreTrainedTokenizerFast

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
COMMON_WORDS = """
i you he she it we they me him her us them my your his its our their a an the and or but
if because so not no yes is are was were be been am do does did have has had will would
can could should may might must love like programming code model language attention layer
head token word sentence cat dog animal street cross tired too didn't didn t ' s this that
these those there here what who which when where why how all some any many much more most
one two three first last good bad great movie film story plot actor funny boring loved
hated best worst very really just only also even still never always to of in on at by for
with from about as into over after before under between out up down new old big small
teacher student class school learn learning read write book day time year people world
""".split()


def tiny_vocab() -> list[str]:
    """Special tokens, common words, single characters and their ## continuations, each once."""
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    pieces = SPECIAL_TOKENS + COMMON_WORDS + chars + ["##" + c for c in string.ascii_lowercase + string.digits]
    return list(dict.fromkeys(pieces))  # dedupe, keep order


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """An uncased WordPiece tokenizer over `tiny_vocab()`, BERT-style templates for single and pair."""
    vocab = {piece: index for index, piece in enumerate(tiny_vocab())}
    backend = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls_id, sep_id = vocab["[CLS]"], vocab["[SEP]"]
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
        model_max_length=64,
    )


def tiny_config(**overrides) -> AlbertConfig:
    """A small ALBERT config (E 16, H 32, 4 heads, 3 layers); overrides win."""
    settings = dict(
        vocab_size=len(tiny_vocab()), embedding_size=16, hidden_size=32, num_hidden_layers=3,
        num_attention_heads=4, intermediate_size=64, max_position_embeddings=64,
        num_hidden_groups=1, inner_group_num=1, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, classifier_dropout_prob=0.0,
        pad_token_id=0, bos_token_id=2, eos_token_id=3,
    )
    settings.update(overrides)
    return AlbertConfig(**settings)


def save_random_albert(folder: str | Path, seed: int = 0, **config_overrides) -> Path:
    """Write a random AlbertForPreTraining and the tiny tokenizer to `folder` in Hugging Face format."""
    folder = Path(folder)
    torch.manual_seed(seed)
    model = AlbertForPreTraining(tiny_config(**config_overrides))
    model.save_pretrained(folder)  # safetensors by default
    tiny_tokenizer().save_pretrained(folder)
    return folder
