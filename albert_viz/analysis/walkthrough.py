"""Self-attention step by step: a toy on the board, then the real model's arithmetic, checked against the model.

Convention everywhere: rows are tokens. Q = X W_Q (+ b_Q), so q_i is row i; the score s_ij = q_i · k_j / √d_k
belongs to query i and key j, and the softmax normalises each query's row over the keys j.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from albert_viz.model.capture import Capture, CaptureError, tokenize
from albert_viz.model.loading import LoadedModel

TOY_TOKENS = ("[CLS]", "i", "love", "programming", "[SEP]")
PRECISIONS = {"float32": np.float32, "float64": np.float64}
FLOAT32_TOLERANCE = 1e-5  # what "matches the model" means in float32


class WalkthroughError(ValueError):
    """A user mistake (bad matrix shape, no word to mask, a model without the head); the message is for the user."""


# ---------------------------------------------------------------------------------------------
# The toy: the article's "I love programming" on the board
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ToyAttention:
    """Every step of single-head self-attention on small matrices."""

    tokens: tuple[str, ...]
    x: np.ndarray  # [token, d_model]
    w_q: np.ndarray  # [d_model, d_k]
    w_k: np.ndarray  # [d_model, d_k]
    w_v: np.ndarray  # [d_model, d_v]
    q: np.ndarray  # [token, d_k]
    k: np.ndarray  # [token, d_k]
    v: np.ndarray  # [token, d_v]
    scores: np.ndarray  # [query, key]: q_i · k_j
    scaled: np.ndarray  # [query, key]: q_i · k_j / √d_k
    weights: np.ndarray  # [query, key]: softmax over keys j, each row sums to 1
    output: np.ndarray  # [token, d_v]: o_i = Σ_j a_ij v_j

    @property
    def d_k(self) -> int:
        return self.q.shape[1]


@dataclass(frozen=True, eq=False)
class ToyPreset:
    """Named matrices to start the toy from."""

    name: str
    description: str
    x: np.ndarray  # [token, d_model]
    w_q: np.ndarray  # [d_model, d_k]
    w_k: np.ndarray  # [d_model, d_k]
    w_v: np.ndarray  # [d_model, d_v]


def softmax_rows(scores: np.ndarray) -> np.ndarray:
    """Softmax of each row; subtracting the row maximum changes nothing mathematically but avoids overflow."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def toy_attention(x, w_q, w_k, w_v, tokens: tuple[str, ...] | None = None) -> ToyAttention:
    """Run single-head attention on the given matrices in float64, keeping every intermediate."""
    x, w_q, w_k, w_v = (_as_matrix(name, m) for name, m in (("X", x), ("W_Q", w_q), ("W_K", w_k), ("W_V", w_v)))
    _check_toy_shapes(x, w_q, w_k, w_v)
    tokens = tuple(tokens) if tokens is not None and len(tokens) == x.shape[0] else _default_tokens(x.shape[0])
    q, k, v = x @ w_q, x @ w_k, x @ w_v
    scores = q @ k.T  # [query, key]
    scaled = scores / np.sqrt(q.shape[1])
    weights = softmax_rows(scaled)
    return ToyAttention(tokens, x, w_q, w_k, w_v, q, k, v, scores, scaled, weights, weights @ v)


def _as_matrix(name: str, values) -> np.ndarray:
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.ndim != 2 or 0 in matrix.shape:
        raise WalkthroughError(f"{name} must be a table of numbers with at least one row and one column.")
    if not np.isfinite(matrix).all():
        raise WalkthroughError(f"{name} has an empty or non-numeric cell: type a number in every cell.")
    return matrix


def _check_toy_shapes(x, w_q, w_k, w_v) -> None:
    for name, w in (("W_Q", w_q), ("W_K", w_k), ("W_V", w_v)):
        if w.shape[0] != x.shape[1]:
            raise WalkthroughError(f"{name} needs one row per column of X ({x.shape[1]}), it has {w.shape[0]}.")
    if w_q.shape[1] != w_k.shape[1]:
        raise WalkthroughError("W_Q and W_K need the same number of columns: q_i · k_j needs vectors of one length.")


def _default_tokens(count: int) -> tuple[str, ...]:
    return TOY_TOKENS if count == len(TOY_TOKENS) else tuple(f"x{i + 1}" for i in range(count))


def article_preset() -> ToyPreset:
    """The article's example: one-hot tokens, and W_Q, W_K, W_V that send every token to [1,1,1,1,1]."""
    ones = np.ones((5, 5))
    return ToyPreset("The article's example", "x_i one-hot; every q_i, k_i and v_i is [1,1,1,1,1].",
                     np.eye(5), ones, ones, ones)


def identity_preset() -> ToyPreset:
    """Identity projections: q_i = k_i = v_i = x_i, so each token's best match is itself."""
    return ToyPreset("Identity projections", "W_Q = W_K = W_V = I: each token matches itself most.",
                     np.eye(5), np.eye(5), np.eye(5), np.eye(5))


def random_preset(seed: int = 0) -> ToyPreset:
    """Random X and projections, rounded to one decimal so they fit on a board; same seed, same numbers."""
    rng = np.random.default_rng(seed)
    x, w_q, w_k, w_v = (np.round(rng.normal(size=(5, 5)), 1) for _ in range(4))
    return ToyPreset(f"Random (seed {seed})", "Random numbers: no pattern, but every step still adds up.",
                     x, w_q, w_k, w_v)


def previous_token_preset(strength: float = 10.0) -> ToyPreset:
    """Token i's query equals token i-1's key, so each token attends to the one before it ([CLS] to itself)."""
    shift = np.zeros((5, 5))
    shift[0, 0] = 1.0  # [CLS] has no previous token: let it look at itself
    shift[np.arange(1, 5), np.arange(0, 4)] = 1.0  # row i of X W_Q picks out key direction i-1
    return ToyPreset("Attend to the previous token",
                     f"q_i = {strength:g}·e_(i-1) and k_j = e_j: the largest score is with the previous token.",
                     np.eye(5), strength * shift, np.eye(5), np.eye(5))


def sep_preset(strength: float = 10.0) -> ToyPreset:
    """Every query points at [SEP]'s key, as many real heads do when they have nothing better to look at."""
    w_q = np.zeros((5, 5))
    w_q[:, 4] = strength  # every token's query is strength · e_5, the direction of [SEP]'s key
    return ToyPreset("Everyone attends to [SEP]",
                     f"every q_i = {strength:g}·e_5 and k_j = e_j: the score is high only for [SEP].",
                     np.eye(5), w_q, np.eye(5), np.eye(5))


TOY_PRESETS = {
    "article": article_preset,
    "identity": identity_preset,
    "random": random_preset,
    "previous": previous_token_preset,
    "sep": sep_preset,
}

ARTICLE_ASSUMED_WEIGHTS = np.array([  # the article's "assumed" attention rows, sixth row included
    [0.2, 0.3, 0.1, 0.2, 0.2],
    [0.3, 0.2, 0.1, 0.2, 0.2],
    [0.2, 0.3, 0.1, 0.2, 0.2],
    [0.1, 0.2, 0.3, 0.2, 0.2],
])
ARTICLE_ROW_LABELS = ("a_1j", "a_2j", "a_5j", "a_6j")


def _same_rows(matrix: np.ndarray) -> bool:
    """True when every row of the matrix is the same vector."""
    return bool(np.allclose(matrix, matrix[0], rtol=0, atol=1e-12))


def _vector(row: np.ndarray) -> str:
    return "[" + ", ".join(f"{value:g}" for value in row) + "]"


MATRIX_NAMES = {"x": "X", "w_q": "W_Q", "w_k": "W_K", "w_v": "W_V"}


def toy_edits(preset: ToyPreset, result: ToyAttention) -> list[str]:
    """Every cell that differs from the preset, as 'W_K[d1, c1] = 3 (was 1)'; rows of X are named by token."""
    edits = []
    for attribute, name in MATRIX_NAMES.items():
        before, now = getattr(preset, attribute), getattr(result, attribute)
        if before.shape != now.shape:
            edits.append(f"{name} has a new shape")
            continue
        for row, column in zip(*np.nonzero(before != now)):
            where = f"{result.tokens[row]}, d{column + 1}" if attribute == "x" else f"d{row + 1}, c{column + 1}"
            edits.append(f"{name}[{where}] = {now[row, column]:g} (was {before[row, column]:g})")
    return edits


def _projection_facts(result: ToyAttention) -> str:
    """What the matrices on screen give for q, k, v and the weights, in one sentence."""
    facts = []
    for name, matrix in (("q_i", result.q), ("k_j", result.k), ("v_j", result.v)):
        facts.append(f"every {name} is {_vector(matrix[0])}" if _same_rows(matrix) else f"the {name} are not all equal")
    n, uniform = len(result.tokens), _uniform_rows(result)
    if len(uniform) == n:
        facts.append(f"in A every weight is exactly 1/{n}")
    elif uniform:
        facts.append(f"in A {_rows_named(uniform)} uniform (1/{n} each), the others not")
    else:
        facts.append("in A no row is uniform")
    return "Now " + ", ".join(facts[:-1]) + " and " + facts[-1] + "."


MAX_EDITS_LISTED = 6


def describe_toy(preset: ToyPreset, result: ToyAttention) -> str:
    """The line above the matrices: the preset's own words while its matrices are untouched, else what was edited
    and what the edited matrices give (the preset's words may no longer be true)."""
    edits = toy_edits(preset, result)
    if not edits:
        return preset.description
    listed = ", ".join(edits[:MAX_EDITS_LISTED]) + (
        f" and {len(edits) - MAX_EDITS_LISTED} more" if len(edits) > MAX_EDITS_LISTED else "")
    return f"Edited from “{preset.name}”: {listed}. {_projection_facts(result)}"


def is_article_example(result: ToyAttention) -> bool:
    """True when the matrices on screen are exactly the article's own X, W_Q, W_K, W_V."""
    preset = article_preset()
    return all(a.shape == b.shape and np.array_equal(a, b) for a, b in (
        (result.x, preset.x), (result.w_q, preset.w_q), (result.w_k, preset.w_k), (result.w_v, preset.w_v)))


def article_corrections(result: ToyAttention) -> list[str]:
    """Why the article's assumed rows cannot come out of its own Q and K, each claim checked on the matrices given."""
    original = toy_attention(*(getattr(article_preset(), m) for m in ("x", "w_q", "w_k", "w_v")))
    claims = [] if is_article_example(result) else [
        f"You have edited the article's matrices, so everything below is about the matrices on screen now. "
        f"With the article's own matrices every score is {original.scores[0, 0]:g}, every scaled score "
        f"{original.scaled[0, 0]:.10f} and every weight exactly 1/{len(original.tokens)} = {original.weights[0, 0]:g}."]
    claims += [_score_claim(result), _weight_claim(result), _sixth_row_claim(result), _value_claim(result),
               "The article also writes a_ij = softmax(K_iᵀ Q_j / √d_k), with the indices swapped, and "
               "a_11 = 1 / Σ exp(…) without the exponential on top. Correct: a_ij = exp(q_i · k_j / √d_k) / "
               "Σ_l exp(q_i · k_l / √d_k), query i normalised over keys j."]
    return claims


def _first_differing_row(matrix: np.ndarray) -> int | None:
    """The first row that differs from row 0, or None when every row is the same."""
    return next((i for i in range(1, len(matrix)) if not np.allclose(matrix[i], matrix[0], rtol=0, atol=1e-12)), None)


def _score_claim(result: ToyAttention) -> str:
    if _same_rows(result.q) and _same_rows(result.k):
        score = result.scores[0, 0]
        return (f"Every q_i is {_vector(result.q[0])} and every k_j is {_vector(result.k[0])}, so every score "
                f"q_i · k_j = {score:g} and every scaled score is {score:g}/√{result.d_k} = {result.scaled[0, 0]:.10f}.")
    if _same_rows(result.k):
        return (f"Every k_j is {_vector(result.k[0])}, so within each row every score is the same: a query meets "
                "the same key at every position, whatever the queries are.")
    differing = _first_differing_row(result.k)
    keys = f"The keys are not all equal (k_1 = {_vector(result.k[0])}, k_{differing + 1} = {_vector(result.k[differing])})"
    uneven = [i for i in range(len(result.scaled)) if i not in _uniform_rows(result)]
    if not uneven:
        return (f"{keys}, yet within each row every score is the same: every query q_i is at right angles to the "
                "differences between the keys, so it scores them all alike.")
    row = uneven[0]
    return (f"{keys}, so a query can score them differently: row {row + 1}'s scaled scores are "
            f"({', '.join(f'{s:.4f}' for s in result.scaled[row])}).")


def _uniform_rows(result: ToyAttention) -> list[int]:
    return [i for i, row in enumerate(result.scaled) if np.allclose(row, row[0], rtol=0, atol=1e-12)]


def _rows_named(rows: list[int]) -> str:
    """'row 1 is', 'rows 1 and 3 are', 'rows 1, 2 and 4 are' (1-based, as on the board)."""
    numbers = [str(i + 1) for i in rows]
    if len(numbers) == 1:
        return f"row {numbers[0]} is"
    return f"rows {', '.join(numbers[:-1])} and {numbers[-1]} are"


def _weight_claim(result: ToyAttention) -> str:
    n, uniform = len(result.tokens), _uniform_rows(result)
    needs = ("A row such as (0.2, 0.3, 0.1, 0.2, 0.2) needs unequal scores in that row: a weight of 0.3 next to 0.2 "
             f"needs a scaled-score gap of ln(0.3/0.2) = {np.log(1.5):.4f}.")
    if len(uniform) == n:
        return (f"In every row the {n} scores are equal, and the softmax of {n} equal numbers is uniform: every weight "
                f"is exactly 1/{n} = {1 / n:g}. {needs} So these Q and K cannot give the article's rows.")
    matched = [i for i, row in enumerate(result.weights) if n == 5 and any(
        np.allclose(row, assumed, atol=5e-3) for assumed in ARTICLE_ASSUMED_WEIGHTS)]
    first = next(i for i in range(n) if i not in uniform)
    row = ", ".join(f"{w:.4f}" for w in result.weights[first])
    where = "no row is uniform" if not uniform else f"{_rows_named(uniform)} uniform (1/{n} each), the others not"
    found = (f" Row {matched[0] + 1} matches one of the article's assumed rows: these matrices can produce it."
             if matched else " None of these rows is one the article assumed.")
    return f"With these matrices {where}; row {first + 1}'s weights are ({row}).{found} {needs}"


def _sixth_row_claim(result: ToyAttention) -> str:
    n = len(result.tokens)
    return (f"There are {n} tokens, so the attention matrix is {n}×{n}: a sixth row a_61 … a_65, as the article "
            + ("prints, would need a sixth token that does not exist." if n < 6 else "prints, exists only because "
               "you gave X six or more rows; the article's sentence has five tokens."))


def _value_claim(result: ToyAttention) -> str:
    if _same_rows(result.v):
        return (f"All v_j are equal ({_vector(result.v[0])}), so every output o_i = Σ_j a_ij v_j is "
                f"{_vector(result.v[0])} whatever the weights are: with identical values, attention cannot move any "
                "information. Distinct projections are what make attention useful.")
    if _same_rows(result.output):
        return ("The v_j differ, but every output o_i comes out as the same mix "
                f"{_vector(np.round(result.output[0], 4))}: no token gets anything the others do not.")
    other = int(np.abs(result.output - result.output[0]).sum(axis=1).argmax())  # the output least like o_1
    return (f"The v_j differ and the rows of weights differ, so the outputs differ: o_1 = "
            f"{_vector(np.round(result.output[0], 4))}, o_{other + 1} = {_vector(np.round(result.output[other], 4))}. "
            "Distinct projections are what make attention useful.")


def latex_matrix(matrix: np.ndarray, digits: int = 4) -> str:
    """A bmatrix for st.latex; whole numbers print without decimals so the board stays readable."""
    def cell(value: float) -> str:
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.{digits}f}"
    rows = [" & ".join(cell(v) for v in row) for row in np.atleast_2d(matrix)]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


# ---------------------------------------------------------------------------------------------
# The real model: which AlbertLayer a depth runs, one head recomputed, the whole layer recomputed
# ---------------------------------------------------------------------------------------------

def layer_location(config, layer: int) -> tuple[int, int]:
    """(hidden group, inner index) of the AlbertLayer run at depth `layer`, as AlbertTransformer.forward runs them."""
    total = config.num_hidden_layers * config.inner_group_num
    if not 0 <= layer < total:
        raise WalkthroughError(f"Layer {layer} does not exist: this model applies {total} layers (0 to {total - 1}).")
    outer_step, inner_index = divmod(layer, config.inner_group_num)  # each outer step runs a whole group
    group = int(outer_step / (config.num_hidden_layers / config.num_hidden_groups))  # transformers' own formula
    return group, inner_index


def albert_layer(loaded: LoadedModel, layer: int) -> nn.Module:
    """The (shared) AlbertLayer module that runs at depth `layer`."""
    group, inner_index = layer_location(loaded.config, layer)
    return loaded.encoder.encoder.albert_layer_groups[group].albert_layers[inner_index]


def _numpy(tensor: torch.Tensor, dtype) -> np.ndarray:
    """A weight as numpy in the chosen precision, converted once (xxlarge's FFN alone is 67M numbers)."""
    return tensor.detach().to(torch.float64 if dtype == np.float64 else torch.float32).cpu().numpy()


def _dtype(precision: str):
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {sorted(PRECISIONS)}")
    return PRECISIONS[precision]


@dataclass(frozen=True, eq=False)
class HeadWalkthrough:
    """One head of one layer, recomputed by hand from the layer's input and the model's own weights."""

    layer: int
    head: int
    group: int  # which shared AlbertLayer ran at this depth
    inner_index: int
    precision: str
    tokens: tuple[str, ...]
    layer_input: np.ndarray  # [token, hidden]: hidden_states[layer]
    w_q: np.ndarray  # [hidden, d_k]: this head's columns of W_Q (nn.Linear stores W_Qᵀ)
    w_k: np.ndarray  # [hidden, d_k]
    w_v: np.ndarray  # [hidden, d_k]
    b_q: np.ndarray  # [d_k]
    b_k: np.ndarray  # [d_k]
    b_v: np.ndarray  # [d_k]
    q: np.ndarray  # [token, d_k]
    k: np.ndarray  # [token, d_k]
    v: np.ndarray  # [token, d_k]
    scores: np.ndarray  # [query, key]
    scaled: np.ndarray  # [query, key]
    weights: np.ndarray  # [query, key]
    context: np.ndarray  # [token, d_k]: Σ_j a_ij v_j, this head's slice of the concatenated output
    model_weights: np.ndarray  # [query, key]: the model's own attention for this layer and head

    @property
    def d_k(self) -> int:
        return self.q.shape[1]

    def score_terms(self, query: int, key: int) -> np.ndarray:
        """The d_k products q_id · k_jd whose sum is the score of query i and key j: one dot product in full."""
        return self.q[query] * self.k[key]  # [d_k]

    @property
    def max_abs_diff(self) -> float:
        """Largest |hand − model| over the attention matrix."""
        return float(np.abs(self.weights.astype(np.float64) - self.model_weights.astype(np.float64)).max())


def head_walkthrough(loaded: LoadedModel, capture: Capture, layer: int, head: int,
                     precision: str = "float32") -> HeadWalkthrough:
    """Recompute one head's attention from hidden_states[layer] and the layer's W_Q, W_K, W_V slices."""
    dtype = _dtype(precision)
    group, inner_index = layer_location(loaded.config, layer)
    heads = loaded.config.num_attention_heads
    if not 0 <= head < heads:
        raise WalkthroughError(f"Head {head} does not exist: this model has {heads} heads per layer.")
    attention = albert_layer(loaded, layer).attention
    d_k = attention.attention_head_size
    columns = slice(head * d_k, (head + 1) * d_k)  # this head's block of the all-heads projection
    x = capture.hidden_states[layer].astype(dtype)  # [token, hidden]
    projections = (attention.query, attention.key, attention.value)
    w_q, w_k, w_v = (_numpy(linear.weight[columns].T, dtype) for linear in projections)  # [hidden, d_k] each
    b_q, b_k, b_v = (_numpy(linear.bias[columns], dtype) for linear in projections)  # [d_k] each
    q, k, v = x @ w_q + b_q, x @ w_k + b_k, x @ w_v + b_v  # [token, d_k] each
    scores = q @ k.T  # [query, key]
    scaled = scores / dtype(np.sqrt(d_k))
    weights = softmax_rows(scaled)
    return HeadWalkthrough(layer, head, group, inner_index, precision, capture.tokens, x, w_q, w_k, w_v,
                           b_q, b_k, b_v, q, k, v, scores, scaled, weights, weights @ v,
                           capture.attentions[layer, head])


def qkv_csv(walk: HeadWalkthrough, which: str) -> str:
    """All dimensions of Q, K or V for every token, as CSV (full precision), for the download buttons."""
    matrix = {"Q": walk.q, "K": walk.k, "V": walk.v}[which]  # [token, d_k]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["position", "token"] + [f"{which.lower()}{d}" for d in range(matrix.shape[1])])
    for position, (token, row) in enumerate(zip(walk.tokens, matrix)):
        writer.writerow([position, token] + [repr(float(value)) for value in row])
    return buffer.getvalue()


@dataclass(frozen=True, eq=False)
class EmbeddingWalkthrough:
    """Layer 0's input built by hand: the embedding LayerNorm output (size E) lifted to H."""

    embedding_output: np.ndarray  # [token, E]: word + position + token type, after LayerNorm
    w_map: np.ndarray  # [E, H]: embedding_hidden_mapping_in, transposed to rows-are-tokens form
    b_map: np.ndarray  # [H]
    projected: np.ndarray  # [token, H]
    model_projected: np.ndarray  # [token, H]: hidden_states[0]

    @property
    def max_abs_diff(self) -> float:
        return float(np.abs(self.projected.astype(np.float64) - self.model_projected).max())


def embedding_walkthrough(loaded: LoadedModel, capture: Capture, precision: str = "float32") -> EmbeddingWalkthrough:
    """hidden_states[0] recomputed: the embedding LayerNorm's output times the E→H projection."""
    dtype = _dtype(precision)
    mapping = loaded.encoder.encoder.embedding_hidden_mapping_in
    embedded = capture.layernorm("embeddings").outputs.astype(dtype)  # [token, E]
    w_map, b_map = _numpy(mapping.weight.T, dtype), _numpy(mapping.bias, dtype)  # [E, H], [H]
    return EmbeddingWalkthrough(embedded, w_map, b_map, embedded @ w_map + b_map, capture.hidden_states[0])


@dataclass(frozen=True, eq=False)
class LayerWalkthrough:
    """A whole layer recomputed: all heads, output projection, residual, attention LN, FFN, full-layer LN."""

    layer: int
    group: int
    inner_index: int
    precision: str
    activation: str  # the config's hidden_act, e.g. 'gelu_new'
    layer_input: np.ndarray  # [token, hidden]
    heads_concatenated: np.ndarray  # [token, hidden]: head 0's d_k columns, then head 1's, ...
    projected: np.ndarray  # [token, hidden]: dense(concatenated heads)
    attention_residual: np.ndarray  # [token, hidden]: layer input + projected
    attention_normed: np.ndarray  # [token, hidden]: attention LayerNorm
    ffn_hidden: np.ndarray  # [token, intermediate]: ffn, before the activation
    ffn_activated: np.ndarray  # [token, intermediate]
    ffn_output: np.ndarray  # [token, hidden]
    ffn_residual: np.ndarray  # [token, hidden]: attention_normed + ffn_output
    output: np.ndarray  # [token, hidden]: full-layer LayerNorm
    model_output: np.ndarray  # [token, hidden]: hidden_states[layer + 1]
    max_attention_diff: float  # largest |hand − model| over all heads' attention

    @property
    def max_abs_diff(self) -> float:
        """Largest |hand − model| over the layer's output."""
        return float(np.abs(self.output.astype(np.float64) - self.model_output.astype(np.float64)).max())


def _linear(x: np.ndarray, linear: nn.Linear, dtype) -> np.ndarray:
    """x Wᵀ + b with an nn.Linear's own weights (it stores W as [out, in])."""
    return x @ _numpy(linear.weight.T, dtype) + _numpy(linear.bias, dtype)


def _layer_norm(x: np.ndarray, norm: nn.LayerNorm, dtype) -> np.ndarray:
    """(x − mean) / √(variance + ε) · γ + β over the feature axis; population variance, as torch computes it."""
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    normalised = (x - mean) / np.sqrt(variance + dtype(norm.eps))
    return normalised * _numpy(norm.weight, dtype) + _numpy(norm.bias, dtype)


def _all_heads(x: np.ndarray, attention: nn.Module, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Every head at once: (weights [head, query, key], concatenated contexts [token, hidden])."""
    tokens, heads, d_k = x.shape[0], attention.num_attention_heads, attention.attention_head_size
    def split(linear):  # [token, heads * d_k] -> [head, token, d_k]
        return _linear(x, linear, dtype).reshape(tokens, heads, d_k).transpose(1, 0, 2)
    q, k, v = split(attention.query), split(attention.key), split(attention.value)
    weights = softmax_rows(q @ k.transpose(0, 2, 1) / dtype(np.sqrt(d_k)))  # [head, query, key]
    contexts = weights @ v  # [head, token, d_k]
    return weights, contexts.transpose(1, 0, 2).reshape(tokens, heads * d_k)  # -> [token, hidden]


def _activation(values: np.ndarray, module: nn.Module) -> np.ndarray:
    """The layer's own activation module (gelu_new, gelu, relu, ...) applied in the values' precision."""
    with torch.inference_mode():
        return module(torch.from_numpy(values)).numpy()


def layer_walkthrough(loaded: LoadedModel, capture: Capture, layer: int,
                      precision: str = "float32") -> LayerWalkthrough:
    """Recompute hidden_states[layer + 1] from hidden_states[layer] with the layer's own weights."""
    dtype = _dtype(precision)
    group, inner_index = layer_location(loaded.config, layer)
    module = albert_layer(loaded, layer)
    x = capture.hidden_states[layer].astype(dtype)  # [token, hidden]
    weights, concatenated = _all_heads(x, module.attention, dtype)
    projected = _linear(concatenated, module.attention.dense, dtype)
    attention_normed = _layer_norm(x + projected, module.attention.LayerNorm, dtype)
    ffn_hidden = _linear(attention_normed, module.ffn, dtype)
    ffn_activated = _activation(ffn_hidden, module.activation)
    ffn_output = _linear(ffn_activated, module.ffn_output, dtype)
    output = _layer_norm(attention_normed + ffn_output, module.full_layer_layer_norm, dtype)
    attention_diff = float(np.abs(weights.astype(np.float64) - capture.attentions[layer]).max())
    return LayerWalkthrough(layer, group, inner_index, precision, str(loaded.config.hidden_act), x, concatenated,
                            projected, x + projected, attention_normed, ffn_hidden, ffn_activated, ffn_output,
                            attention_normed + ffn_output, output, capture.hidden_states[layer + 1], attention_diff)


# ---------------------------------------------------------------------------------------------
# The pretraining tasks: masked-language-model predictions and sentence-order prediction
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class MaskPrediction:
    """The MLM head's guesses for one [MASK] position."""

    position: int
    original: str | None  # the token that was masked; None where the user typed [MASK]
    candidates: tuple[str, ...]  # [k], most probable first
    probabilities: np.ndarray  # [k]
    original_probability: float | None
    original_rank: int | None  # 1 = the model's first guess
    distribution: np.ndarray  # [vocab]: the whole softmax, sums to 1


@dataclass(frozen=True, eq=False)
class MaskedLanguageModel:
    """A sentence with masked tokens and the MLM head's predictions at each."""

    tokens: tuple[str, ...]  # what the model read, with [MASK] in place
    predictions: tuple[MaskPrediction, ...]


def _require_head(loaded: LoadedModel, present: bool, head: str) -> None:
    if not present:
        architecture = type(loaded.model).__name__
        raise WalkthroughError(
            f"This model ({loaded.spec.label}, loaded as {architecture}) has no {head} head: it was saved without "
            "its pretraining heads. The bundled ALBERT-tiny and the official albert/albert-*-v2 checkpoints have them.")


def _tokenize(loaded: LoadedModel, text: str, text_pair: str | None = None):
    try:
        return tokenize(loaded, text, text_pair)[0]
    except CaptureError as error:
        raise WalkthroughError(str(error)) from None


def _word_positions(loaded: LoadedModel, ids: list[int], word: str) -> list[int]:
    """Positions of the first occurrence of the word's tokens (a word can be several pieces) in the sentence."""
    pieces = loaded.tokenizer(word.strip(), add_special_tokens=False)["input_ids"]
    for start in range(len(ids) - len(pieces) + 1):
        if pieces and ids[start:start + len(pieces)] == pieces:
            return list(range(start, start + len(pieces)))
    return []


def masked_word_predictions(loaded: LoadedModel, text: str, word: str = "", top_k: int = 10) -> MaskedLanguageModel:
    """Mask `word` (or use the [MASK]s already in the text) and return the MLM head's top guesses at each mask."""
    _require_head(loaded, loaded.has_mlm_head, "masked-language-model (MLM)")
    encoded = _tokenize(loaded, text)
    ids = encoded["input_ids"][0].tolist()
    mask_id = loaded.tokenizer.mask_token_id
    originals: dict[int, str | None] = {p: None for p, token_id in enumerate(ids) if token_id == mask_id}
    if word.strip():
        positions = _word_positions(loaded, ids, word)
        if not positions:
            raise WalkthroughError(f"“{word.strip()}” is not in the sentence as the tokenizer splits it; "
                                   "choose a word from the sentence.")
        originals.update({p: loaded.tokenizer.convert_ids_to_tokens(ids[p]) for p in positions})
    if not originals:
        raise WalkthroughError(f"Choose a word to mask, or write {loaded.tokenizer.mask_token} in the sentence.")
    for position in originals:
        encoded["input_ids"][0, position] = mask_id
    distributions = _mlm_distributions(loaded, encoded, sorted(originals))  # [mask, vocab]
    predictions = tuple(_prediction(loaded, p, originals[p], dist, top_k)
                        for p, dist in zip(sorted(originals), distributions))
    return MaskedLanguageModel(tuple(loaded.tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist())),
                               predictions)


@torch.inference_mode()
def _mlm_distributions(loaded: LoadedModel, encoded, positions: list[int]) -> np.ndarray:
    """Softmax over the vocabulary at the masked positions only (the head is vocabulary-wide: skip the rest)."""
    inputs = {key: value.to(loaded.device) for key, value in encoded.items()}
    with loaded.lock:  # a capture's LayerNorm hooks would otherwise record this forward pass too
        sequence = loaded.encoder(**inputs).last_hidden_state[0, positions]  # [mask, hidden]
        logits = loaded.model.predictions(sequence)  # [mask, vocab]
    return torch.softmax(logits.double(), dim=-1).cpu().numpy()


def _prediction(loaded: LoadedModel, position: int, original: str | None, distribution: np.ndarray,
                top_k: int) -> MaskPrediction:
    order = np.argsort(-distribution)  # vocabulary ids, most probable first
    top = order[:top_k]
    original_probability = original_rank = None
    if original is not None:
        original_id = loaded.tokenizer.convert_tokens_to_ids(original)
        original_probability = float(distribution[original_id])
        original_rank = int(np.nonzero(order == original_id)[0][0]) + 1
    return MaskPrediction(position, original, tuple(loaded.tokenizer.convert_ids_to_tokens(top.tolist())),
                          distribution[top], original_probability, original_rank, distribution)


@dataclass(frozen=True, eq=False)
class SentenceOrder:
    """The SOP head's verdict on two segments in the given order and swapped."""

    first: str
    second: str
    given_order: np.ndarray  # [2]: P(in order), P(swapped) for first + second
    swapped_order: np.ndarray  # [2]: the same for second + first

    @property
    def prefers_given_order(self) -> bool:
        """True when the model thinks first-then-second is more in order than second-then-first."""
        return bool(self.given_order[0] > self.swapped_order[0])


def sentence_order(loaded: LoadedModel, first: str, second: str) -> SentenceOrder:
    """SOP probabilities for (first, second) and (second, first); label 0 means 'in the original order'."""
    _require_head(loaded, loaded.has_sop_head, "sentence-order-prediction (SOP)")
    if not first.strip() or not second.strip():
        raise WalkthroughError("Sentence-order prediction needs two sentences: fill in both.")
    return SentenceOrder(first.strip(), second.strip(), _sop_probabilities(loaded, first, second),
                         _sop_probabilities(loaded, second, first))


@torch.inference_mode()
def _sop_probabilities(loaded: LoadedModel, first: str, second: str) -> np.ndarray:
    encoded = _tokenize(loaded, first, second)
    inputs = {key: value.to(loaded.device) for key, value in encoded.items()}
    with loaded.lock:  # a capture's LayerNorm hooks would otherwise record this forward pass too
        pooled = loaded.encoder(**inputs).pooler_output  # [batch, hidden]: tanh(Linear([CLS]))
        logits = loaded.model.sop_classifier(pooled)[0]  # [2]
    return torch.softmax(logits.double(), dim=-1).cpu().numpy()


# ---------------------------------------------------------------------------------------------
# Verdicts in words: did the model get it right, and how sure was it?
# ---------------------------------------------------------------------------------------------

SAME_ORDER_MARGIN = 0.01  # p(in order) within one percentage point in both orders: no preference worth a word


def sop_verdict(in_order_ab: float, in_order_ba: float) -> str:
    """What the SOP head's p(in order) for A-then-B and B-then-A say, taking A then B as the true order."""
    numbers = f"p(in order) = {in_order_ab:.1%} for A then B, {in_order_ba:.1%} for B then A"
    if abs(in_order_ab - in_order_ba) < SAME_ORDER_MARGIN:
        return f"does not tell the two orders apart ({numbers})."
    if in_order_ab < in_order_ba:
        return (f"gets this pair wrong: it finds the swapped order more likely to be the original ({numbers}).")
    if in_order_ab > 0.5 > in_order_ba:
        return f"gets both orders right: it calls A then B in order and B then A swapped ({numbers})."
    side = "in order" if in_order_ba >= 0.5 else "swapped"
    return (f"prefers the true order, but is unsure: it would call both orders {side} ({numbers}). "
            "Its preference is right; its confidence is not.")


def mask_verdict(prediction: MaskPrediction) -> str | None:
    """Whether the MLM head's first guess is the hidden token, in words; None where the user typed [MASK]."""
    if prediction.original is None:
        return None
    if prediction.original_rank == 1:
        return (f"Right: its first guess is the hidden word “{prediction.original}” "
                f"({prediction.original_probability:.1%}).")
    return (f"Wrong: its first guess is “{prediction.candidates[0]}” ({prediction.probabilities[0]:.1%}); "
            f"the hidden word “{prediction.original}” is only its guess number {prediction.original_rank} "
            f"({prediction.original_probability:.2%}).")
