"""Plain words for the jargon the pages cannot avoid, shared by every page's tooltips and captions.

Pure Python: pages call `explain("post-LN")` for a `help=` tooltip, `caption("residual stream", ...)` for a caption.
An unknown term raises KeyError, so a page that names a term the glossary lacks fails in its test, not in class.
"""
from __future__ import annotations

import re

GLOSSARY = {
    "residual stream": (
        "The running vector each token carries from layer to layer. Every block adds its result to it "
        "(x + block(x)) instead of replacing it, so what a token was is never lost."),
    "post-LN": (
        "“Post-LayerNorm”: the LayerNorm comes after the addition, LayerNorm(x + block(x)), as in the original "
        "Transformer, BERT and ALBERT. Many newer models normalise before the block instead (pre-LN)."),
    "LayerNorm": (
        "Layer normalisation: rescales one token's vector to mean 0 and spread 1 over its dimensions, then "
        "multiplies by learned γ and adds learned β, dimension by dimension."),
    "rollout": (
        "Attention rollout (Abnar & Zuidema 2020): multiplies the attention maps of all layers together, each "
        "mixed half-and-half with “stay where you are”, to estimate how much each input token feeds each output "
        "position after all the layers."),
    "residual path": (
        "The shortcut that carries a token's vector past a block unchanged (the x in x + block(x)). Rollout "
        "counts it by adding the identity matrix to each layer's attention before multiplying."),
    "total-variation distance": (
        "How different two attention rows are: half the sum of the absolute differences of their weights. "
        "0 means identical, 1 means they put their weight on completely different tokens."),
    "Macro-F1": (
        "The F1 score (balance of precision and recall) of each label, averaged with every label counting "
        "the same. Unlike accuracy, it drops when a small label is mostly missed."),
    "hidden_states": (
        "The vectors the model keeps for every token after each step: hidden_states[0] is the input of layer 0 "
        "(the embeddings lifted to H), hidden_states[l + 1] is the output of layer l."),
    "layer numbering": (
        "Layers count from 0 on every page, caption and lesson, as in the model's own code: a 6-layer model has "
        "layers 0 to 5, and heads count from 0 too. What goes into layer 0 is called the embeddings, never "
        "“layer 0”; what layer l hands on is called “after layer l”. So the token states run: embeddings, after "
        "layer 0, …, after layer 5 (hidden_states[0] to hidden_states[6])."),
    "vocabulary": (
        "The fixed list of pieces a tokenizer can cut text into; a token's id is its line in that list. Real "
        "ALBERT uses a SentencePiece vocabulary of 30,000 pieces, where “▁” marks a piece that begins a word "
        "(“▁nan”, “tucket”). The bundled ALBERT-tiny reuses BERT's uncased WordPiece vocabulary of 30,522 "
        "pieces, where “##” marks a piece that continues the one before it (“nan”, “##tucket”). Both lowercase "
        "the text first."),
    "embedding_hidden_mapping_in": (
        "ALBERT's E→H projection: one linear map that lifts every token's small embedding (E numbers, 128 in "
        "the released models) to the hidden size H the layers work with."),
    "E": "The embedding size: how many numbers each vocabulary entry stores (128 in every released ALBERT).",
    "H": "The hidden size: how many numbers each token's vector has inside the layers (768 in ALBERT base).",
    "shared group": (
        "A set of layer weights that several depths reuse. Released ALBERTs have one group: a single layer's "
        "weights run at every depth."),
    "head": (
        "One of several attention patterns a layer computes side by side, each with its own small slice of "
        "W_Q, W_K and W_V."),
    "word pieces": (
        "The tokenizer splits rare words into known pieces: “nantucket” may become “nan” + “##tucket”, "
        "where ## marks a piece that continues the previous one, and “didn't” becomes “didn”, “'”, “t”. "
        "The model sees pieces, not words."),
    "same tensor": (
        "Two layers whose weights are literally the same numbers in memory, not two copies that happen to be "
        "equal: change one and the other changes too."),
    "SOP": (
        "Sentence-order prediction, ALBERT's second pretraining task: given two consecutive segments, were "
        "they shown in their original order or swapped?"),
    "MLM": (
        "Masked language model: hide some tokens behind [MASK] and ask the model to guess them from the "
        "words on both sides."),
}


def explain(term: str) -> str:
    """The plain-words explanation of a term (KeyError if the glossary lacks it)."""
    return GLOSSARY[term]


def caption(*terms: str) -> str:
    """Several terms explained, one sentence block each, for a caption under a chart."""
    return "  \n".join(f"{term}: {explain(term)}" for term in terms)


SPECIAL_TOKENS = {"[CLS]", "[SEP]", "[PAD]", "<s>", "</s>", "<pad>"}


def splits_words(tokens, text: str) -> bool:
    """True when the tokenizer cut some word of the text into pieces (e.g. 'nan ##tucket', 'didn ' t')."""
    pieces = [token for token in tokens if token not in SPECIAL_TOKENS]
    return len(pieces) > len(text.split())


# ---------------------------------------------------------------------------------------------
# Readable names for the model's own module paths
# ---------------------------------------------------------------------------------------------

_LAYER_PATH = re.compile(r"albert_layer_groups\.(\d+)\.albert_layers\.(\d+)")
_LAYERNORM_KINDS = {
    ".attention.LayerNorm": "attention LayerNorm",
    ".full_layer_layer_norm": "feed-forward LayerNorm",
}


def shared_layer_name(module: str, groups: int = 1, inner_layers: int = 1) -> str:
    """'encoder.albert_layer_groups.0.albert_layers.0' -> 'the shared layer' (or 'group 1, layer 0' when several)."""
    found = _LAYER_PATH.search(module)
    if found is None:
        return module
    if groups == 1 and inner_layers == 1:
        return "the shared layer"
    return f"shared layer {found.group(2)} of group {found.group(1)}"


def layernorm_name(module: str, groups: int = 1, inner_layers: int = 1) -> str:
    """A LayerNorm's module path in words: 'attention LayerNorm (the shared layer)', 'embedding LayerNorm'."""
    if module.startswith("embeddings"):
        return "embedding LayerNorm"
    for suffix, kind in _LAYERNORM_KINDS.items():
        if module.endswith(suffix):
            return f"{kind} ({shared_layer_name(module, groups, inner_layers)})"
    return module


def model_summary(layers: int, heads: int, embedding: int, hidden: int, groups: int, inner_layers: int = 1) -> str:
    """The loaded model's shape in plain words, for the sidebar."""
    distinct = groups * inner_layers
    sharing = ("one set of layer weights reused at every depth" if distinct == 1
               else f"{distinct} sets of layer weights shared across the {layers} depths")
    return (f"{layers} layers, each with {heads} attention heads; every word piece starts as {embedding} numbers "
            f"and is lifted to {hidden} inside the layers; {sharing}.")
