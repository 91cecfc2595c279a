"""Where a model comes from (ModelSpec) and what loading gives back (LoadedModel).

Three sources: the ALBERT-tiny bundled in assets/ (default, works offline), a local folder
in Hugging Face format, or a hub id. Every load uses eager attention, because transformers 5
defaults ALBERT to SDPA, which returns no attention weights.
"""
from __future__ import annotations

import os
import socket
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import AutoConfig, AutoTokenizer, PretrainedConfig, PreTrainedModel
from transformers import (
    AlbertForMaskedLM, AlbertForPreTraining, AlbertForSequenceClassification, AlbertModel,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL_DIR = REPO_ROOT / "assets" / "models" / "albert-tiny"
HUB_HOST = "huggingface.co"

OFFICIAL_HUB_MODELS = tuple(
    f"albert/albert-{size}-{version}"
    for version in ("v2", "v1")
    for size in ("base", "large", "xlarge", "xxlarge")
)
FINETUNED_HUB_MODELS = (
    "textattack/albert-base-v2-SST-2",
    "textattack/albert-base-v2-imdb",
    "textattack/albert-base-v2-ag-news",
    "textattack/albert-base-v2-rotten-tomatoes",
)

# The class to instantiate for each architecture a checkpoint's config names. Loading the
# class the checkpoint was saved from keeps its heads (MLM, SOP, classifier) and avoids
# silently random-initialising heads it never had.
ARCHITECTURES = {
    "AlbertForPreTraining": AlbertForPreTraining,
    "AlbertForMaskedLM": AlbertForMaskedLM,
    "AlbertForSequenceClassification": AlbertForSequenceClassification,
    "AlbertModel": AlbertModel,
}


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says why and what to do, in words for a user."""


@dataclass(frozen=True)
class ModelSpec:
    """Where a model comes from: source is 'bundled', 'local', 'hub' or 'random'."""

    source: str = "bundled"
    location: str = ""  # folder for 'local', model id for 'hub', unused otherwise
    device: str = "auto"

    @property
    def label(self) -> str:
        """A short name for the page."""
        if self.source == "bundled":
            return "ALBERT-tiny (bundled)"
        if self.source == "random":
            return "random tiny ALBERT (untrained)"
        return self.location


@dataclass
class LoadedModel:
    """A model ready for inference, its tokenizer, its device, and the lock that guards hooks on it."""

    spec: ModelSpec
    model: PreTrainedModel
    tokenizer: object
    device: torch.device
    notes: tuple[str, ...] = ()
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def config(self) -> PretrainedConfig:
        return self.model.config

    @property
    def encoder(self) -> AlbertModel:
        """The bare AlbertModel inside whatever head class was loaded."""
        return self.model.base_model

    @property
    def has_mlm_head(self) -> bool:
        return hasattr(self.model, "predictions")

    @property
    def has_sop_head(self) -> bool:
        return hasattr(self.model, "sop_classifier")

    @property
    def max_tokens(self) -> int:
        return int(self.config.max_position_embeddings)


def pick_device(requested: str = "auto") -> torch.device:
    """'auto' prefers CUDA, then Apple MPS, then the CPU; anything else is taken as given."""
    if requested != "auto":
        device = torch.device(requested)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ModelLoadError("CUDA was requested but no CUDA GPU is available here.")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ModelLoadError("Apple MPS was requested but is not available here.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def available_devices() -> list[str]:
    """The device choices that can work on this machine, 'auto' first."""
    devices = ["auto", "cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def load_model(spec: ModelSpec) -> LoadedModel:
    """Load the model a spec names, in eval mode on its device; raise ModelLoadError with advice."""
    device = pick_device(spec.device)
    if spec.source == "random":
        folder, notes = _random_model_folder(), ("Random weights: the patterns you see are noise, not language.",)
    elif spec.source == "bundled":
        folder, notes = _bundled_model_folder()
    elif spec.source == "local":
        folder, notes = _local_folder(spec.location), ()
    elif spec.source == "hub":
        folder, notes = _hub_snapshot(spec.location), ()
    else:
        raise ModelLoadError(f"Unknown model source {spec.source!r}.")
    model, tokenizer = _load_folder(folder)
    model.to(device).eval()
    return LoadedModel(spec=spec, model=model, tokenizer=tokenizer, device=device, notes=notes)


def _load_folder(folder: str | Path):
    """Model (its saved architecture, eager attention, safetensors only) and tokenizer from a folder."""
    try:
        config = AutoConfig.from_pretrained(folder)
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{folder} is not a Hugging Face model folder (no readable config.json): {error}")
    if config.model_type != "albert":
        raise ModelLoadError(f"This app explains ALBERT; {folder} holds a {config.model_type!r} model.")
    architecture = (config.architectures or ["AlbertModel"])[0]
    model_class = ARCHITECTURES.get(architecture, AlbertModel)
    try:
        # float32 whatever the file holds: a float16 checkpoint would otherwise load as float16 (dtype
        # "auto"), and the worked examples check hand arithmetic against these numbers.
        model = model_class.from_pretrained(folder, attn_implementation="eager", use_safetensors=True,
                                            dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"Could not load the model in {folder}: {error}")
    return model, tokenizer


def _bundled_model_folder() -> tuple[Path, tuple[str, ...]]:
    """The bundled ALBERT-tiny, or a random stand-in (with a note saying so) if it is absent."""
    if (BUNDLED_MODEL_DIR / "config.json").exists():
        return BUNDLED_MODEL_DIR, ()
    note = ("The bundled ALBERT-tiny is not in assets/models/albert-tiny yet; "
            "showing a random tiny ALBERT, so the patterns are noise.")
    return _random_model_folder(), (note,)


_RANDOM_FOLDER_LOCK = threading.Lock()


def _random_model_folder() -> Path:
    """Build the random tiny ALBERT once per process, in a temporary folder."""
    from albert_viz.random_model import save_random_albert

    folder = Path(tempfile.gettempdir()) / f"albert_viz_random_tiny_{os.getpid()}"
    with _RANDOM_FOLDER_LOCK:
        if not (folder / "config.json").exists():
            save_random_albert(folder, seed=0, num_hidden_layers=4)
    return folder


def _local_folder(location: str) -> Path:
    folder = Path(location).expanduser()
    if not location.strip():
        raise ModelLoadError("Type the path of a folder that holds config.json and model.safetensors.")
    if not folder.is_dir():
        raise ModelLoadError(f"There is no folder at {folder}.")
    return folder


def _hub_snapshot(model_id: str) -> Path:
    """A hub model's files: from the local cache when present, else downloaded if the hub is reachable."""
    from huggingface_hub import snapshot_download

    model_id = model_id.strip()
    if not model_id or model_id.count("/") > 1:
        raise ModelLoadError(f"{model_id!r} is not a hub model id (it looks like 'albert/albert-base-v2').")
    patterns = ["*.json", "*.safetensors", "*.model", "*.txt"]
    try:
        return Path(snapshot_download(model_id, allow_patterns=patterns, local_files_only=True))
    except Exception:
        pass  # not cached: try the network below, but only if it answers quickly
    if not _hub_reachable():
        raise ModelLoadError(
            f"{model_id} is not in the local cache and the Hugging Face hub cannot be reached from here. "
            f"On a machine with internet run `hf download {model_id} --local-dir ./{model_id.split('/')[-1]}`, "
            "copy the folder here and choose 'Local folder' as the model source."
        )
    try:
        return Path(snapshot_download(model_id, allow_patterns=patterns))
    except Exception as error:
        raise ModelLoadError(f"The hub has no model {model_id!r} that we can download ({type(error).__name__}).")


def _hub_reachable(timeout_s: float = 3.0) -> bool:
    """A quick TCP check, so an offline classroom waits seconds, not the hub client's ~28 s of retries."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    try:
        with socket.create_connection((HUB_HOST, 443), timeout=timeout_s):
            return True
    except OSError:
        return False
