"""How many bytes does the attention page send a browser for a long text, beside bertviz's model view?

A base-shaped ALBERT (random weights: vocab 30000, E 128, H 768, 12 layers x 12 heads) at 32, 128 and 512
tokens. "ours" is the protobuf message Streamlit sends for what the "All heads of a layer" tab draws: the
clickable heads grid of one layer (a block-max overview past 64 tokens) and, past 16 tokens, the exact map
of the chosen head beside it. "all layers" is that grid for every layer (what a view of every layer x head
would cost us, for an honest comparison with bertviz's model view, which always holds every layer).
bertviz is albert_viz.figures.bertviz_offline.model_view_html (its JavaScript inlined); when our guard refuses,
bertviz itself; at 512 tokens its page (~1.7 GB) is not built: its size is computed from the JSON it would
embed (the same json.dumps of the same .tolist()) plus the rest of the page measured at 32 tokens.
Last line: ratio=<ours / bertviz's at 128 tokens> (goal <= 0.05).

    .venv/bin/python bench/payload.py [--tokens 32 128 512]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import numpy as np
import plotly.io as pio
import torch
from streamlit.proto.PlotlyChart_pb2 import PlotlyChart

from albert_viz.figures import attention_maps, common
from albert_viz.figures.bertviz_offline import TooLargeForBertviz, model_view_html, offline_html
from albert_viz.model.capture import capture
from bench.capture_overhead import base_sized_model_and_sentence, sentence_of

BUILD_BERTVIZ_UP_TO = 128  # tokens; at 512 bertviz's page would be ~1.7 GB of text


def sent_bytes(figure, name: str) -> int:
    """Bytes of the PlotlyChart protobuf Streamlit sends for st.plotly_chart(figure, config=download_config)."""
    proto = PlotlyChart(spec=pio.to_json(figure, validate=False), 
                        config=json.dumps(common.download_config(name)))
    return proto.ByteSize()


def tab_bytes(attentions: np.ndarray, tokens: tuple[str, ...], layer: int = 0, head: int = 0) -> int:
    """What the all-heads tab sends for one layer: its grid and, past 16 tokens, the exact map of one head."""
    grid = attention_maps.heads_grid(attentions[layer], tokens, f"Layer {layer}: all heads", selected_head=head,
                                     clickable=True)
    total = sent_bytes(grid, "grid")
    if len(tokens) > attention_maps.MAX_CLICKABLE_TOKENS:  # as the page: no weights in the grid hover, so the exact map
        title = f"Layer {layer}, head {head}: every weight"
        exact = attention_maps.attention_heatmap(attentions[layer, head], tokens, title)
        total += sent_bytes(exact, "exact")
    return total


def all_layers_bytes(attentions: np.ndarray, tokens: tuple[str, ...]) -> int:
    return sum(tab_bytes(attentions, tokens, layer) for layer in range(attentions.shape[0]))


def bertviz_html_bytes(attentions: np.ndarray, tokens: tuple[str, ...]) -> int:
    """The model view page as the app would build it; bertviz directly where our guard refuses."""
    try:
        return len(model_view_html(attentions, list(tokens)).encode())
    except TooLargeForBertviz:
        from bertviz import model_view

        layers = tuple(torch.from_numpy(layer[None]) for layer in attentions)  # [head, q, k] -> [1, head, q, k]
        return len(offline_html(model_view(layers, list(tokens), html_action="return").data).encode())


def attention_json_bytes(attentions: np.ndarray) -> int:
    """Bytes of the attention JSON bertviz embeds: json.dumps of [layer][head][query][key] .tolist(), layer by layer."""
    per_layer = [len(json.dumps(torch.from_numpy(layer).tolist())) for layer in attentions]  # [head, q, k] each
    return sum(per_layer) + len(per_layer) - 1 + 2  # commas between layers and the outer brackets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, nargs="+", default=[32, 128, 512])
    args = parser.parse_args()
    loaded, _, _ = base_sized_model_and_sentence(max(args.tokens))
    page_without_weights = None
    ours_at, bertviz_at = {}, {}
    for tokens in sorted(args.tokens):
        result = capture(loaded, sentence_of(tokens))
        attentions = result.attentions  # [layer, head, query, key]
        ours, everything = tab_bytes(attentions, result.tokens), all_layers_bytes(attentions, result.tokens)
        if tokens <= BUILD_BERTVIZ_UP_TO:
            bertviz, how = bertviz_html_bytes(attentions, result.tokens), "built"
            if page_without_weights is None:
                page_without_weights = bertviz - attention_json_bytes(attentions)
        else:
            if page_without_weights is None:
                raise SystemExit("measure a length <= 128 first: the rest of bertviz's page is measured there")
            bertviz, how = page_without_weights + attention_json_bytes(attentions), "computed from its JSON"
        ours_at[tokens], bertviz_at[tokens] = ours, bertviz
        print(f"tokens={tokens}: ours (one layer, the tab) {ours / 1e6:.3f} MB, ours (all {attentions.shape[0]} "
              f"layers) {everything / 1e6:.3f} MB, bertviz model view {bertviz / 1e6:.1f} MB ({how}); "
              f"one layer / bertviz {ours / bertviz:.4f}, all layers / bertviz {everything / bertviz:.4f}", flush=True)
    reference = 128 if 128 in ours_at else max(ours_at)
    print(f"ratio={ours_at[reference] / bertviz_at[reference]:.4f}")


if __name__ == "__main__":
    main()
