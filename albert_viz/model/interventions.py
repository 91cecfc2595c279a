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


def run_layers(loaded: LoadedModel, hidden: torch.Tensor, attention_mask: torch.Tensor, first_depth: int) -> torch.Tensor:
    """The encoder from depth `first_depth` to the top: hidden [batch, token, H] is that depth's input."""
    mask = create_bidirectional_mask(config=loaded.config, inputs_embeds=hidden, attention_mask=attention_mask)
    for layer in layers_in_order(loaded.encoder)[first_depth:]:
        hidden = layer(hidden, mask)
    return hidden
