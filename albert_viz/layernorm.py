"""Layer-norm statistics: per application and token, the mean and spread of what goes in and comes out."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from albert_viz.capture import Capture


@dataclass(frozen=True, eq=False)
class LayerNormStats:
    """Statistics of every LayerNorm application, in capture order."""

    sites: tuple[str, ...]  # [application]
    depths: tuple[int, ...]  # [application]
    modules: tuple[str, ...]  # [application]: equal names mean shared γ, β
    input_mean: np.ndarray  # [application, token]
    input_std: np.ndarray  # [application, token]
    output_mean: np.ndarray  # [application, token]
    output_std: np.ndarray  # [application, token]

    def labels(self) -> list[str]:
        """One readable name per application, e.g. 'layer 3 · attention LN'."""
        return [("embeddings LN" if site == "embeddings" else f"layer {depth} · {site.replace('_', '-')} LN")
                for site, depth in zip(self.sites, self.depths)]


def layer_norm_stats(capture: Capture) -> LayerNormStats:
    """Mean and (population) standard deviation over the feature axis, as LayerNorm itself computes them."""
    applications = capture.layernorms
    return LayerNormStats(
        sites=tuple(a.site for a in applications),
        depths=tuple(a.depth for a in applications),
        modules=tuple(a.module for a in applications),
        input_mean=np.stack([a.inputs.mean(axis=-1) for a in applications]),
        input_std=np.stack([a.inputs.std(axis=-1) for a in applications]),
        output_mean=np.stack([a.outputs.mean(axis=-1) for a in applications]),
        output_std=np.stack([a.outputs.std(axis=-1) for a in applications]),
    )
