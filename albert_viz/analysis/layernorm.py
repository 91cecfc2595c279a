"""Layer-norm statistics, γ and β, a worked LayerNorm checked against the model, outlier dims, residual norms."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from albert_viz.model.capture import Capture


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
        return [application_label(site, depth) for site, depth in zip(self.sites, self.depths)]


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


# ---------------------------------------------------------------------------------------------
# γ and β, the worked LayerNorm, outlier dimensions, the residual stream
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class LayerNormParams:
    """One LayerNorm module's learned scale γ and shift β, and the ε it adds to the variance."""

    module: str
    gamma: np.ndarray  # [dim]
    beta: np.ndarray  # [dim]
    eps: float

    def top_gamma(self, k: int = 10) -> np.ndarray:
        """Indices of the k dimensions with the largest |γ|, largest first."""
        return np.argsort(-np.abs(self.gamma), kind="stable")[:k]


def layer_norm_params(encoder: torch.nn.Module) -> dict[str, LayerNormParams]:
    """γ, β and ε of every LayerNorm module in an encoder, keyed by the module name captures use."""
    return {
        name: LayerNormParams(name, _numpy(module.weight), _numpy(module.bias), float(module.eps))
        for name, module in encoder.named_modules() if isinstance(module, torch.nn.LayerNorm)
    }


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().float().cpu().numpy()


@dataclass(frozen=True, eq=False)
class WorkedLayerNorm:
    """LayerNorm done by hand for one token at one application, next to what the model produced."""

    token: str
    position: int
    label: str
    module: str
    eps: float
    x: np.ndarray  # [dim]: the input vector
    mean: float  # μ = mean of x
    variance: float  # σ² = mean of (x - μ)², the population variance, as LayerNorm uses
    x_hat: np.ndarray  # [dim]: (x - μ) / √(σ² + ε)
    gamma: np.ndarray  # [dim]
    beta: np.ndarray  # [dim]
    y: np.ndarray  # [dim]: γ · x̂ + β, our result
    model_output: np.ndarray  # [dim]: what the model's LayerNorm returned

    @property
    def max_abs_diff(self) -> float:
        """Largest |ours - model's| over the dimensions."""
        return float(np.abs(self.y - self.model_output).max())

    @property
    def rounding_steps(self) -> float:
        """max_abs_diff in float32 rounding steps (ulp) at the largest output: the model works in float32."""
        return self.max_abs_diff / float(np.spacing(np.abs(self.model_output).max().astype(np.float32)))

    def head(self, n: int = 8) -> dict[str, list[float]]:
        """The first n dimensions of every step, as table columns."""
        steps = {"x": self.x, "x̂": self.x_hat, "γ": self.gamma, "β": self.beta, "γ·x̂ + β": self.y,
                 "model output": self.model_output}
        return {"dim": list(range(min(n, self.x.shape[0])))} | {name: [float(v) for v in values[:n]]
                                                                for name, values in steps.items()}

    def to_csv(self) -> str:
        """Every dimension of the example as CSV (dim, x, x̂, γ, β, γ·x̂+β, model output)."""
        rows = ["dim,x,x_hat,gamma,beta,gamma_x_hat_plus_beta,model_output"]
        columns = zip(self.x, self.x_hat, self.gamma, self.beta, self.y, self.model_output)
        rows += [f"{dim}," + ",".join(f"{value:.9g}" for value in values) for dim, values in enumerate(columns)]
        return "\n".join(rows) + "\n"


def application_label(site: str, depth: int) -> str:
    """A readable name for one application, the same one LayerNormStats.labels uses."""
    return "embeddings LN" if site == "embeddings" else f"layer {depth} · {site.replace('_', '-')} LN"


def worked_layer_norm(capture: Capture, params: dict[str, LayerNormParams], index: int, position: int) -> WorkedLayerNorm:
    """LayerNorm of one token at application `index` of the capture, computed in float64 step by step."""
    application = capture.layernorms[index]
    p = params[application.module]
    x = application.inputs[position].astype(np.float64)  # [dim]
    mean = float(x.mean())
    variance = float(((x - mean) ** 2).mean())
    x_hat = (x - mean) / np.sqrt(variance + p.eps)
    return WorkedLayerNorm(
        token=capture.tokens[position], position=position, label=application_label(application.site, application.depth),
        module=application.module, eps=p.eps, x=x, mean=mean, variance=variance, x_hat=x_hat,
        gamma=p.gamma, beta=p.beta, y=p.gamma * x_hat + p.beta, model_output=application.outputs[position],
    )


@dataclass(frozen=True, eq=False)
class OutlierDimensions:
    """The hidden dimensions whose activations dwarf the rest, before and after each LayerNorm."""

    dims: np.ndarray  # [k]: dimension indices, largest first
    labels: tuple[str, ...]  # [application]: H-sized applications only
    input_scale: np.ndarray  # [application, k]: mean |input| over tokens in each outlier dim
    output_scale: np.ndarray  # [application, k]: mean |output| over tokens
    typical_input: np.ndarray  # [application]: median over all dims of mean |input|
    typical_output: np.ndarray  # [application]

    def input_ratio(self) -> np.ndarray:
        """How many times a typical dimension each outlier is, before normalisation; [application, k]."""
        return self.input_scale / self.typical_input[:, None]


def outlier_dimensions(capture: Capture, k: int = 5) -> OutlierDimensions:
    """Top-k hidden dims by mean |LayerNorm input| (over tokens), taken over the hidden-size applications."""
    hidden = [a for a in capture.layernorms if a.site != "embeddings"]  # the embedding LN is size E, not H
    inputs = np.stack([np.abs(a.inputs).mean(axis=0) for a in hidden])  # [application, dim]
    outputs = np.stack([np.abs(a.outputs).mean(axis=0) for a in hidden])  # [application, dim]
    dims = np.argsort(-inputs.max(axis=0), kind="stable")[:k]
    return OutlierDimensions(
        dims=dims, labels=tuple(application_label(a.site, a.depth) for a in hidden),
        input_scale=inputs[:, dims], output_scale=outputs[:, dims],
        typical_input=np.median(inputs, axis=1), typical_output=np.median(outputs, axis=1),
    )


def residual_norms(capture: Capture) -> np.ndarray:
    """L2 norm of every token's residual-stream vector at every depth: [layer + 1, token]."""
    return np.linalg.norm(capture.hidden_states, axis=-1)
