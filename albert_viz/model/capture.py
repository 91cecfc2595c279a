"""One forward pass -> Capture: tokens, attentions, hidden states and every LayerNorm application.

ALBERT shares one layer (per hidden group) across depth, so a forward hook on one of its
LayerNorms fires once per layer: the hooks record *calls*, in order, and we label each call
with the depth it happened at. Works for any num_hidden_groups / inner_group_num.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch import nn

from albert_viz.model.loading import LoadedModel

LOG = logging.getLogger(__name__)

# What one request may cost. No page reads more than MAX_TOKENS_PER_REQUEST tokens (the hub ALBERTs' own limit),
# and a model's size lowers that (token_cap): a capture holds layers × heads × tokens² attention weights and a
# forward pass costs ~2 × (4H² + 2·H·I) FLOPs per token and layer. Both budgets are set so that albert-base
# (12 layers × 12 heads, H 768) reads 512 tokens: ~38M weights and ~1e11 FLOPs, about a second on two quiet
# cores; ALBERT-large gets ~160 tokens, xxlarge ~20.
MAX_TOKENS_PER_REQUEST = 512
ATTENTION_BUDGET = 40_000_000  # attention weights one capture may hold (160 MB in float32)
FLOP_BUDGET = 1.2e11  # floating-point operations one forward pass may take
MIN_TOKENS_PER_REQUEST = 8  # [CLS], a few words, [SEP]: less than this is no sentence at all


@dataclass(frozen=True)
class TokenCap:
    """How many tokens one request may read for a model, and why when that is fewer than the model could."""

    tokens: int
    model_limit: int  # max_position_embeddings
    reason: str | None = None  # set when the cost budgets, not the model, set `tokens`

    def describe(self) -> str:
        """One sentence for the page: the cap, and the reason when it is below the model's own limit."""
        if self.tokens >= self.model_limit:
            return f"Texts are read up to {self.tokens} tokens, this model's own limit."
        return (f"Texts are read up to {self.tokens} tokens (the model itself could read {self.model_limit}): "
                f"{self.reason}.")


def _forward_flops(config, tokens: int) -> float:
    """FLOPs of one forward pass: projections and feed-forward per token, plus scores and weighted sums (tokens²)."""
    depth = config.num_hidden_layers * getattr(config, "inner_group_num", 1)  # shared layers still run at each depth
    hidden, ffn = config.hidden_size, config.intermediate_size
    per_token = 2 * (4 * hidden * hidden + 2 * hidden * ffn)
    return depth * (tokens * per_token + 4 * tokens * tokens * hidden)


def _attention_weights(config, tokens: int) -> int:
    depth = config.num_hidden_layers * getattr(config, "inner_group_num", 1)
    return depth * config.num_attention_heads * tokens * tokens


def token_cap(config) -> TokenCap:
    """The tokens one request may read for a model of this config: its own limit, lowered for large models."""
    model_limit = int(config.max_position_embeddings)
    ceiling = min(model_limit, MAX_TOKENS_PER_REQUEST)
    tokens, reason = ceiling, None
    while tokens > MIN_TOKENS_PER_REQUEST and _attention_weights(config, tokens) > ATTENTION_BUDGET:
        tokens -= 1
    if tokens < ceiling:
        reason = (f"more would hold over {ATTENTION_BUDGET / 1e6:.0f} million attention weights for one text "
                  f"({_size(config)})")
    cut = tokens
    while tokens > MIN_TOKENS_PER_REQUEST and _forward_flops(config, tokens) > FLOP_BUDGET:
        tokens -= 1
    if tokens < cut:
        reason = (f"for a model this size ({_size(config)}), more tokens would cost one text more than a few "
                  "seconds of this server's time, which everyone using it shares")
    if ceiling < model_limit and reason is None:
        reason = f"no page reads more than {MAX_TOKENS_PER_REQUEST} tokens, the limit of the hub's ALBERTs"
    return TokenCap(tokens, model_limit, reason)


def _size(config) -> str:
    depth = config.num_hidden_layers * getattr(config, "inner_group_num", 1)
    return f"{depth} layers × {config.num_attention_heads} heads, hidden size {config.hidden_size:,}"


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


def state_name(index: int) -> str:
    """hidden_states[index] in the app's one numbering (layers count from 0, as the attention maps do):
    'embeddings' for 0, then 'after layer 0', 'after layer 1', … (entry l + 1 is what layer l hands on)."""
    return "embeddings" if index == 0 else f"after layer {index - 1}"


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
    limit_reason: str | None = None  # why token_limit is below model_limit (TokenCap.reason)
    stored_as: str = "float32"  # "float16": the arrays went through compact() and carry float16 rounding

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

    def cap(self) -> TokenCap:
        """The token cap this capture was read under."""
        limit = self.model_limit or self.num_tokens
        return TokenCap(self.token_limit or limit, limit, self.limit_reason)

    def truncation_note(self) -> str | None:
        """What the page says when the text did not fit (what was cut, and why), else None."""
        if not self.truncated:
            return None
        left_out = self.original_length - self.num_tokens
        where = "from the end of the longer sentence" if self.text_pair else "from the end"
        if self.token_limit is not None and self.model_limit is not None and self.token_limit < self.model_limit:
            why = f"; {self.limit_reason}" if self.limit_reason else ""
            return (f"Your text has {self.original_length:,} tokens. So that one long text cannot slow the app "
                    f"down for everyone sharing this server, each request is cut to fit {self.token_limit} tokens "
                    f"(the model itself could read {self.model_limit}{why}): {left_out:,} tokens were left out "
                    f"{where}.")
        return (f"Your text has {self.original_length:,} tokens; the model reads at most {self.num_tokens}, so it "
                f"was cut to fit: {left_out:,} tokens were left out {where}.")

    def layernorm(self, site: str, depth: int = 0) -> LayerNormApplication:
        """The LayerNorm application at a site and depth."""
        for application in self.layernorms:
            if application.site == site and application.depth == depth:
                return application
        raise KeyError(f"no {site} LayerNorm at depth {depth}")


def compact(result: Capture) -> Capture:
    """The capture with its float arrays in float16: half the bytes, values within float16 rounding (~1e-3 relative).

    For a cache of long texts: attentions are [layer, head, token, token], so they dominate (75 of the 100 MB of
    the bundled model at 512 tokens). widened() turns it back into float32 arrays for the maths on the pages.
    """
    return _with_float_arrays(result, np.float16, "float16")


def widened(result: Capture) -> Capture:
    """A float32 copy of a compact() capture (its values keep their float16 rounding; stored_as says so)."""
    return _with_float_arrays(result, np.float32, result.stored_as)


def _with_float_arrays(result: Capture, dtype, stored_as: str) -> Capture:
    layernorms = tuple(dataclasses.replace(application, inputs=application.inputs.astype(dtype),
                                           outputs=application.outputs.astype(dtype))
                       for application in result.layernorms)
    return dataclasses.replace(result, attentions=result.attentions.astype(dtype),
                               hidden_states=result.hidden_states.astype(dtype), layernorms=layernorms,
                               stored_as=stored_as)


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
def capture(loaded: LoadedModel, text: str, text_pair: str | None = None, max_tokens: int | None = None,
            limit_reason: str | None = None) -> Capture:
    """Run one forward pass and return everything it shows; safe to call from many sessions at once.

    max_tokens: read at most this many tokens (default: the model's limit); limit_reason: why, for the
    message a cut text gets (TokenCap.reason).
    """
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
        limit_reason=limit_reason,
    )
