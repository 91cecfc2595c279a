"""Switching attention heads off: a pre-hook on each attention's output projection zeroes chosen heads' context.

ALBERT shares one AlbertLayer (per hidden group) across depths, so one module's `attention.dense` runs at
every depth: the hook counts its calls to know the depth it is at, and zeroes head h's slice of the context
only there. The shared *weights* stay as they are, so head h at the other depths keeps working.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn
from transformers.masking_utils import create_bidirectional_mask

from albert_viz.model.loading import LoadedModel


def depth_count(config) -> int:
    """How many layers a forward pass applies: num_hidden_layers outer steps, each running a group's inner layers."""
    return config.num_hidden_layers * getattr(config, "inner_group_num", 1)


def layers_in_order(encoder: nn.Module) -> list[nn.Module]:
    """The AlbertLayer module run at each depth, in the order AlbertTransformer.forward runs them (shared: repeats)."""
    config, groups = encoder.config, encoder.encoder.albert_layer_groups
    layers = []
    for outer_step in range(config.num_hidden_layers):
        group = int(outer_step / (config.num_hidden_layers / config.num_hidden_groups))  # transformers' own formula
        layers.extend(groups[group].albert_layers)
    return layers


def _output_projections(encoder: nn.Module) -> list[nn.Module]:
    """Each distinct attention output projection (`attention.dense`), once, however often it runs."""
    return list({id(layer.attention.dense): layer.attention.dense for layer in layers_in_order(encoder)}.values())


@contextlib.contextmanager
def heads_switched_off(loaded: LoadedModel, keep: torch.Tensor, first_depth: int = 0) -> Iterator[None]:
    """While inside, forwards run with head h at depth d zeroed wherever keep[..., d, h] == 0.

    keep: [depth, head] for every row alike, or [batch, depth, head] for one pattern per batch row (rows ×
    ablations in one pass). first_depth: the depth the forwards start at (run_layers from the middle);
    each forward must run every depth from there to the top. Hooks are removed on the way out, even after
    an exception, and the model's lock is held throughout.
    """
    total = depth_count(loaded.config)
    heads = loaded.config.num_attention_heads
    if keep.shape[-2:] != (total, heads):
        raise ValueError(f"keep must end in [depth {total}, head {heads}], not {tuple(keep.shape)}")
    calls = [0]

    def zero_heads(module, args):
        context = args[0]  # [batch, token, head * d_k]
        depth = first_depth + calls[0] % (total - first_depth)  # shared modules: the call count says the depth
        calls[0] += 1
        pattern = keep[..., depth, :].to(context.dtype)  # [head] or [batch, head]
        pattern = pattern.reshape(-1, 1, heads, 1)  # [batch or 1, 1, head, 1]
        split = context.reshape(*context.shape[:-1], heads, -1)  # [batch, token, head, d_k]
        return ((split * pattern).reshape(context.shape), *args[1:])

    with loaded.lock:
        handles = []
        try:
            handles = [module.register_forward_pre_hook(zero_heads) for module in _output_projections(loaded.encoder)]
            yield
        finally:
            for handle in handles:
                handle.remove()


def run_layers(loaded: LoadedModel, hidden: torch.Tensor, attention_mask: torch.Tensor, first_depth: int,
               stop: int | None = None) -> torch.Tensor:
    """The encoder from depth `first_depth` to the top (or up to, not including, `stop`): hidden [batch, token, H]
    is that depth's input."""
    mask = create_bidirectional_mask(config=loaded.config, inputs_embeds=hidden, attention_mask=attention_mask)
    for layer in layers_in_order(loaded.encoder)[first_depth:stop]:
        hidden = layer(hidden, mask)
    return hidden


def run_layers_read_at(loaded: LoadedModel, hidden: torch.Tensor, attention_mask: torch.Tensor, first_depth: int,
                       positions: torch.Tensor) -> torch.Tensor:
    """run_layers, but only each sequence's output at `positions` is wanted: [batch, H].

    The top layer then computes its query, feed-forward and layer norms at that one position per sequence
    (keys and values still at every token): the same numbers, at a fraction of that layer's cost.
    """
    below_top = run_layers(loaded, hidden, attention_mask, first_depth, stop=-1)
    return _layer_at(layers_in_order(loaded.encoder)[-1], below_top, attention_mask, positions)


def _layer_at(layer: nn.Module, hidden: torch.Tensor, attention_mask: torch.Tensor,
              positions: torch.Tensor) -> torch.Tensor:
    """One AlbertLayer (eager attention, eval mode) with one query per sequence; hidden [batch, token, H] -> [batch, H]."""
    attention = layer.attention
    batch, heads, size = len(hidden), attention.num_attention_heads, attention.attention_head_size
    here = hidden[torch.arange(batch, device=hidden.device), positions][:, None]  # [batch, 1, H]
    split = lambda x: x.view(batch, x.shape[1], heads, size).transpose(1, 2)  # [batch, t, H] -> [batch, head, t, d_k]
    query, key, value = split(attention.query(here)), split(attention.key(hidden)), split(attention.value(hidden))
    blocked = torch.zeros(attention_mask.shape, dtype=hidden.dtype, device=hidden.device)
    blocked = blocked.masked_fill(attention_mask == 0, torch.finfo(hidden.dtype).min)[:, None, None]  # [batch, 1, 1, key]
    weights = torch.softmax(torch.matmul(query, key.transpose(2, 3)) * attention.scaling + blocked, dim=-1)
    context = torch.matmul(weights, value).transpose(1, 2).reshape(batch, 1, heads * size)  # [batch, 1, head * d_k]
    after_attention = attention.LayerNorm(here + attention.dense(context))  # the head switch's hook fires on dense
    return layer.full_layer_layer_norm(layer.ff_chunk(after_attention) + after_attention)[:, 0]
