"""Attention three ways: raw weights, norm-weighted (Kobayashi et al. 2020) and rollout, from one capture.

Raw attention says how much of token j's value a head takes; it does not say how big that value is.
Kobayashi et al. weight each α_ij by the size of what actually moves, ‖α_ij · f(x_j)‖ with
f(x) = (x W_V + b_V) W_O restricted to head h's slice of W_O: a head can put most of its weight on
[SEP] while moving almost nothing from it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from albert_viz.analysis.attention import rollout
from albert_viz.analysis.walkthrough import albert_layer
from albert_viz.model.capture import Capture
from albert_viz.model.loading import LoadedModel

MODES = {
    "raw": "Raw weights α",
    "norm": "Norm-weighted ‖α·f(x)‖",
    "rollout": "Rollout (all heads, through depth)",
}
SPECIAL_TOKENS = ("[CLS]", "[SEP]")


class ExplainError(ValueError):
    """The input cannot be explained this way; the message is for the user."""


def special_tokens_only(loaded: LoadedModel, capture: Capture) -> bool:
    """Whether every token is one the tokenizer adds or reserves ([CLS], [SEP], [MASK], …): no word to look at."""
    return bool(np.isin(capture.token_ids, loaded.tokenizer.all_special_ids).all())


def special_tokens_note(what: str) -> str:
    """What a page says instead of drawing an input that holds no word."""
    return (f"{what} is made of special tokens only ([CLS], [SEP], [MASK] and the like): there is no word to look "
            "at. Type a sentence with words.")


@dataclass(frozen=True, eq=False)
class NormWeightedAttention:
    """‖α_ij · f_h(x_j)‖ for every layer and head, and the size ‖f_h(x_j)‖ of what each token offers."""

    weights: np.ndarray  # [layer, head, query, key]
    value_norms: np.ndarray  # [layer, head, key]: ‖f_h(x_j)‖, the same for every query


def _head_value_norms(layer_input: torch.Tensor, attention: torch.nn.Module) -> torch.Tensor:
    """‖(x_j W_V^h + b_V^h) W_O^h‖ for every head h and token j of one layer; [head, token]."""
    heads, d_k = attention.num_attention_heads, attention.attention_head_size
    tokens = layer_input.shape[0]
    values = attention.value(layer_input).reshape(tokens, heads, d_k)  # [token, head, d_k]
    # nn.Linear stores W_O as [out, in]; head h reads input columns h*d_k:(h+1)*d_k.
    w_o = attention.dense.weight.T.reshape(heads, d_k, -1)  # [head, d_k, hidden]
    moved = torch.einsum("thd,hdo->hto", values, w_o)  # [head, token, hidden]
    return moved.norm(dim=-1)


def head_value_norms(layer_input: torch.Tensor, attention: torch.nn.Module) -> torch.Tensor:
    """‖f_h(x_j)‖ for every head h and token j of one layer, from its input [token, H]; [head, token]."""
    return _head_value_norms(layer_input, attention)


@torch.no_grad()
def norm_weighted_attention(loaded: LoadedModel, capture: Capture) -> NormWeightedAttention:
    """Kobayashi et al.'s norm-weighted attention from a capture and the model's own (shared) layer weights."""
    norms = []
    for layer in range(capture.num_layers):
        module = albert_layer(loaded, layer).attention
        parameter = module.value.weight
        # torch.tensor copies: the cached capture is read-only, and torch will not wrap a read-only array
        layer_input = torch.tensor(capture.hidden_states[layer], device=parameter.device, dtype=parameter.dtype)
        norms.append(_head_value_norms(layer_input, module).float().cpu().numpy())
    value_norms = np.stack(norms)  # [layer, head, key]
    weights = capture.attentions * value_norms[:, :, None, :]  # α_ij scales key j's vector: [layer, head, query, key]
    return NormWeightedAttention(weights=weights, value_norms=value_norms)


def mute_tokens(matrix: np.ndarray, tokens: tuple[str, ...], muted: tuple[str, ...] = SPECIAL_TOKENS) -> np.ndarray:
    """Drop the columns of muted tokens and re-normalise every row over the rest, so each row sums to 1."""
    keep = ~np.isin(np.array(tokens), muted)
    if not keep.any():
        raise ExplainError("The sentence is made of [CLS]/[SEP] only: nothing is left once they are muted.")
    kept = np.where(keep, matrix, 0.0)  # [..., query, key]
    totals = kept.sum(axis=-1, keepdims=True)
    return kept / np.maximum(totals, np.finfo(kept.dtype).tiny)  # a row that underflowed to 0 stays 0, not NaN


@dataclass(frozen=True, eq=False)
class AttentionView:
    """One [query, key] matrix for the page, with a title that says what it is."""

    matrix: np.ndarray  # [query, key]
    title: str
    mode: str = "raw"
    is_weight: bool = True  # rows are shares summing to 1 (False: norm-weighted sizes, not bounded by 1)
    file_name: str = "attention"  # what the view's downloads are called: what it shows, not the sliders' state


def attention_view(capture: Capture, mode: str, layer: int, head: int, mute: bool = False,
                   norm_weighted: NormWeightedAttention | None = None) -> AttentionView:
    """The matrix a mode shows for a layer and head (rollout is over all heads up to the layer)."""
    if mode == "raw":
        matrix, title = capture.attentions[layer, head], f"Layer {layer}, head {head}"  # the plain title: raw weights are the default view
        name = f"attention_layer{layer}_head{head}"
    elif mode == "norm":
        if norm_weighted is None:
            raise ValueError("the norm-weighted view needs norm_weighted_attention(...)")
        matrix, title = norm_weighted.weights[layer, head], f"Layer {layer}, head {head}: norm-weighted ‖α·f(x)‖"
        name = f"attention_norm_layer{layer}_head{head}"
    elif mode == "rollout":  # every head at once: the head slider plays no part, so the name has no head
        matrix, title = rollout(capture.attentions)[layer], f"Rollout up to layer {layer} (all heads)"
        name = f"attention_rollout_to_layer{layer}"
    else:
        raise ValueError(f"mode must be one of {sorted(MODES)}")
    if mute:  # re-normalised rows: shares of 1 again, whatever the mode
        return AttentionView(mute_tokens(matrix, capture.tokens), title + ", [CLS]/[SEP] muted", mode, True,
                             f"{name}_cls_sep_muted")
    return AttentionView(matrix, title, mode, mode != "norm", name)
