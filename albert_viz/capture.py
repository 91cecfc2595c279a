"""One forward pass -> Capture: tokens, attentions, hidden states and every LayerNorm application.

ALBERT shares one layer (per hidden group) across depth, so a forward hook on one of its
LayerNorms fires once per layer: the hooks record *calls*, in order, and we label each call
with the depth it happened at. Works for any num_hidden_groups / inner_group_num.
"""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch import nn

from albert_viz.models import LoadedModel

LOG = logging.getLogger(__name__)

# What one request may cost: the pages analyse and draw at most this many tokens. A capture grows with the
# square of the tokens (attention) and the figures with it: at 512 tokens one capture of the bundled model
# pickled to ~100 MB and drew for minutes; at 128 it is ~11 MB and a forward takes well under a second.
MAX_TOKENS_PER_REQUEST = 128


class CaptureError(ValueError):
    """The input cannot be captured; the message is for the user."""


@dataclass(frozen=True, eq=False)
class LayerNormApplication:
    """One call of a LayerNorm module: where it sits, which module's γ/β it used, what went in and out."""

    site: str  # 'embeddings' (size E), 'attention' or 'full_layer' (size H)
    depth: int  # layer index for 'attention'/'full_layer'; 0 for 'embeddings'
    module: str  # qualified module name: the same name at every depth means shared γ, β
    inputs: np.ndarray  # [token, dim]
    outputs: np.ndarray  # [token, dim]


@dataclass(frozen=True, eq=False)
class Capture:
    """Everything one forward pass shows, as numpy arrays (picklable, cacheable)."""

    model_label: str
    text: str
    text_pair: str | None
    tokens: tuple[str, ...]
    token_ids: np.ndarray  # [token]
    token_type_ids: np.ndarray  # [token]
    attentions: np.ndarray  # [layer, head, query, key]; each query row sums to 1
    hidden_states: np.ndarray  # [layer + 1, token, hidden]; entry 0 is the projected embedding output
    layernorms: tuple[LayerNormApplication, ...]
    original_length: int  # tokens before truncation
    token_limit: int | None = None  # the most tokens this capture was allowed (None: the model's limit)
    model_limit: int | None = None  # the most tokens the model itself reads (max_position_embeddings)

    @property
    def num_layers(self) -> int:
        return self.attentions.shape[0]

    @property
    def num_heads(self) -> int:
        return self.attentions.shape[1]

    @property
    def num_tokens(self) -> int:
        return len(self.tokens)

    @property
    def truncated(self) -> bool:
        return self.original_length > self.num_tokens

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays (what a cache of captures must budget for)."""
        arrays = [self.token_ids, self.token_type_ids, self.attentions, self.hidden_states]
        arrays += [array for application in self.layernorms for array in (application.inputs, application.outputs)]
        return sum(array.nbytes for array in arrays)

    def truncation_note(self) -> str | None:
        """What the page says when the text did not fit (what was cut, and why), else None."""
        if not self.truncated:
            return None
        left_out = self.original_length - self.num_tokens
        where = "from the end of the longer sentence" if self.text_pair else "from the end"
        if self.token_limit is not None and self.model_limit is not None and self.token_limit < self.model_limit:
            return (f"Your text has {self.original_length:,} tokens. So that one long text cannot slow the app "
                    f"down for everyone sharing this server, each request is cut to fit {self.token_limit} tokens "
                    f"(the model itself could read {self.model_limit}): {left_out:,} tokens were left out {where}.")
        return (f"Your text has {self.original_length:,} tokens; the model reads at most {self.num_tokens}, so it "
                f"was cut to fit: {left_out:,} tokens were left out {where}.")

    def layernorm(self, site: str, depth: int = 0) -> LayerNormApplication:
        """The LayerNorm application at a site and depth."""
        for application in self.layernorms:
            if application.site == site and application.depth == depth:
                return application
        raise KeyError(f"no {site} LayerNorm at depth {depth}")


def tokenize(loaded: LoadedModel, text: str, text_pair: str | None = None, max_tokens: int | None = None):
    """Tokenize a sentence (or pair) to model inputs, truncated to the model's limit; also the untruncated length."""
    text, text_pair = text.strip(), (text_pair or "").strip() or None
    if not text:
        raise CaptureError("Type a sentence first: the text is empty.")
    limit = min(max_tokens or loaded.max_tokens, loaded.max_tokens)
    full_length = len(loaded.tokenizer(text, text_pair, verbose=False)["input_ids"])  # no "too long" log: we say so
    encoded = loaded.tokenizer(text, text_pair, truncation=True, max_length=limit, return_tensors="pt")
    if "token_type_ids" not in encoded:
        encoded["token_type_ids"] = _segment_ids(encoded["input_ids"], loaded.tokenizer.sep_token_id)
    return encoded, full_length


def _segment_ids(input_ids: torch.Tensor, sep_id: int) -> torch.Tensor:
    """0 up to and including the first [SEP], 1 after it (some tokenizers omit token_type_ids)."""
    is_sep = (input_ids == sep_id).long()
    seen_sep_before = torch.cumsum(is_sep, dim=-1) - is_sep
    return (seen_sep_before > 0).long()


@contextlib.contextmanager
def record_layernorm_calls(encoder: nn.Module) -> Iterator[list[tuple[str, torch.Tensor, torch.Tensor]]]:
    """Record (module name, input, output) of every LayerNorm call inside `encoder`; hooks always removed."""
    calls: list[tuple[str, torch.Tensor, torch.Tensor]] = []
    handles = []
    try:
        for name, module in encoder.named_modules():
            if isinstance(module, nn.LayerNorm):
                hook = lambda mod, args, output, name=name: calls.append((name, args[0].detach(), output.detach()))
                handles.append(module.register_forward_hook(hook))
        yield calls
    finally:
        for handle in handles:
            handle.remove()


def _site_of(module_name: str) -> str:
    if module_name.startswith("embeddings"):
        return "embeddings"
    if module_name.endswith("attention.LayerNorm"):
        return "attention"
    if module_name.endswith("full_layer_layer_norm"):
        return "full_layer"
    raise ValueError(f"unexpected LayerNorm {module_name}")


def _label_calls(calls, to_numpy) -> tuple[LayerNormApplication, ...]:
    """Give each recorded call its site and depth: depth counts the attention LayerNorms seen so far."""
    applications, depth = [], {"embeddings": 0, "attention": 0, "full_layer": 0}
    for name, inputs, outputs in calls:
        site = _site_of(name)
        applications.append(LayerNormApplication(site, depth[site], name, to_numpy(inputs[0]), to_numpy(outputs[0])))
        depth[site] += 1 if site != "embeddings" else 0
    return tuple(applications)


def _to_numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().float().cpu().numpy()


@torch.inference_mode()
def capture(loaded: LoadedModel, text: str, text_pair: str | None = None, max_tokens: int | None = None) -> Capture:
    """Run one forward pass and return everything it shows; safe to call from many sessions at once."""
    encoded, full_length = tokenize(loaded, text, text_pair, max_tokens)
    inputs = {key: value.to(loaded.device) for key, value in encoded.items()}
    try:
        with loaded.lock, record_layernorm_calls(loaded.encoder) as calls:
            output = loaded.encoder(**inputs, output_attentions=True, output_hidden_states=True)
            layernorms = _label_calls(calls, _to_numpy)
    except Exception as error:  # noqa: BLE001 - e.g. out of memory: a message for the page, details in the log
        LOG.exception("the forward pass of %s failed", loaded.spec.label)
        raise CaptureError(f"The model could not read this text ({type(error).__name__}); the details are in "
                           "the server's log.") from None
    if not output.attentions:
        raise RuntimeError("the model returned no attentions: it must be loaded with attn_implementation='eager'")
    ids = encoded["input_ids"][0]
    return Capture(
        model_label=loaded.spec.label,
        text=text.strip(),
        text_pair=(text_pair or "").strip() or None,
        tokens=tuple(loaded.tokenizer.convert_ids_to_tokens(ids.tolist())),
        token_ids=ids.numpy(),
        token_type_ids=encoded["token_type_ids"][0].numpy(),
        attentions=_to_numpy(torch.stack(output.attentions)[:, 0]),  # [layer, batch, head, q, k] -> [layer, head, q, k]
        hidden_states=_to_numpy(torch.stack(output.hidden_states)[:, 0]),  # [layer + 1, token, hidden]
        layernorms=layernorms,
        original_length=full_length,
        token_limit=min(max_tokens or loaded.max_tokens, loaded.max_tokens),
        model_limit=loaded.max_tokens,
    )
