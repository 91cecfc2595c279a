"""bertviz's head and model views as self-contained HTML: its JavaScript libraries inlined, no CDN.

bertviz asks require.js to fetch d3 and jQuery from cdnjs at render time. We load the vendored
copies first (they set window.d3 / window.jQuery), then load require.js and register those
globals as the AMD modules 'd3' and 'jquery', and drop bertviz's CDN paths.
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import torch

from albert_viz.assets import VENDOR_DIR

CDN_SCRIPT = re.compile(r'<script src="https://cdnjs[^"]*"></script>')
REQUIRE_CONFIG = re.compile(r"require\.config\(\{.*?\}\);", re.S)
MODULES = "<script>define('d3', [], function () { return window.d3; });" \
          "define('jquery', [], function () { return window.jQuery; });</script>"

# bertviz writes every weight as JSON text: about 20 bytes per number. Above this many
# numbers the page gets slow and the browser may give up (12x12 heads at 128 tokens is ~104 MB).
MAX_NUMBERS = 1_500_000


class TooLargeForBertviz(ValueError):
    """The bertviz view would be too large to render; the message suggests what to do."""


@lru_cache(maxsize=1)
def _vendored_scripts() -> str:
    """d3 and jQuery first (as globals), then require.js, then the two AMD modules."""
    files = ["d3-5.7.0.min.js", "jquery-2.2.4.min.js", "require-2.3.6.js"]
    scripts = "".join(f"<script>{(VENDOR_DIR / name).read_text(encoding='utf-8')}</script>" for name in files)
    return scripts + MODULES


def payload_numbers(attentions: np.ndarray, layers: list[int] | None = None) -> int:
    """How many attention weights a view of these layers would write into the page."""
    total_layers, heads, queries, keys = attentions.shape  # [layer, head, query, key]
    return (len(layers) if layers is not None else total_layers) * heads * queries * keys


def check_size(attentions: np.ndarray, layers: list[int] | None = None) -> None:
    """Refuse views that would produce a page too large for a browser, saying why and what fits."""
    numbers = payload_numbers(attentions, layers)
    if numbers > MAX_NUMBERS:
        megabytes = numbers * 20 / 1e6
        per_layer = payload_numbers(attentions, [0]) // attentions.shape[-1] ** 2  # heads: numbers per token²
        tokens_for_one_layer = int((MAX_NUMBERS / per_layer) ** 0.5)
        raise TooLargeForBertviz(
            f"bertviz writes every attention weight into the page as text (about 20 bytes each), so this view "
            f"would be about {megabytes:.0f} MB: enough to freeze the browser tab, so it is not drawn. It draws one "
            f"layer of this model for texts up to {tokens_for_one_layer} tokens; the heatmap tabs draw any length."
        )


def layers_that_fit(attentions: np.ndarray, around: int) -> list[int]:
    """Every layer if the view stays under the size limit, else the layers nearest `around` that fit (at least it)."""
    total_layers = attentions.shape[0]  # [layer, head, query, key]
    per_layer = payload_numbers(attentions, [around])
    room = max(1, min(total_layers, MAX_NUMBERS // max(per_layer, 1)))
    nearest = sorted(range(total_layers), key=lambda layer: (abs(layer - around), layer))[:room]
    return sorted(nearest)


def _as_bertviz_input(attentions: np.ndarray) -> tuple[torch.Tensor, ...]:
    """bertviz takes a tuple of [batch, head, query, key] tensors, one per layer."""
    # torch.tensor copies: a cached capture's arrays are read-only, which torch.from_numpy warns about
    return tuple(torch.tensor(layer[None]) for layer in attentions)  # [head, q, k] -> [1, head, q, k]


def offline_html(raw_html: str) -> str:
    """bertviz's returned HTML with the CDN script tag and require paths replaced by inlined code."""
    html = CDN_SCRIPT.sub("", raw_html)
    html = REQUIRE_CONFIG.sub("", html)
    return _vendored_scripts() + html


def head_view_html(attentions: np.ndarray, tokens: list[str], layers: list[int] | None = None,
                   layer: int | None = None, heads: list[int] | None = None) -> str:
    """bertviz head view of [layer, head, query, key] attentions, rendering with no network.

    layer and heads are what the view shows first (bertviz's defaults: the first layer, every head).
    """
    from bertviz import head_view

    check_size(attentions, layers)
    html = head_view(_as_bertviz_input(attentions), list(tokens), include_layers=layers, layer=layer, heads=heads,
                     html_action="return")
    return offline_html(html.data)


def model_view_html(attentions: np.ndarray, tokens: list[str], layers: list[int] | None = None) -> str:
    """bertviz model view (every layer × head thumbnail) of [layer, head, query, key] attentions, offline."""
    from bertviz import model_view

    check_size(attentions, layers)
    html = model_view(_as_bertviz_input(attentions), list(tokens), include_layers=layers, html_action="return")
    return offline_html(html.data)
