"""Where a model comes from (ModelSpec) and what loading gives back (LoadedModel).

Three sources: the ALBERT-tiny bundled in assets/ (default, works offline), a local folder
in Hugging Face format, or a hub id. Every load uses eager attention, because transformers 5
defaults ALBERT to SDPA, which returns no attention weights.
"""
from __future__ import annotations

import json
import logging
import os
import re
import socket
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import AlbertConfig, AutoTokenizer, PretrainedConfig, PreTrainedModel
from transformers import (
    AlbertForMaskedLM, AlbertForPreTraining, AlbertForSequenceClassification, AlbertModel,
)

from albert_viz.assets import BUNDLED_MODEL_DIR
from albert_viz.model.runtime import is_app_temp_folder, own_temp_name

LOG = logging.getLogger(__name__)

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


# A model folder is input from a stranger: everything below is checked before a weight is allocated.
MODEL_ROOTS_ENV = "ALBERT_VIZ_MODEL_ROOTS"  # os.pathsep-separated folders 'Local folder' may load from
HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")  # owner/name, safe characters
# The largest released ALBERT (xxlarge: H 4096, 64 heads, FFN 16384, 222.6M parameters) fits with room to spare.
SIZE_LIMITS = {
    "num_hidden_layers": 48, "num_hidden_groups": 48, "inner_group_num": 4, "hidden_size": 4096,
    "num_attention_heads": 64, "intermediate_size": 16384, "embedding_size": 4096, "vocab_size": 262_144,
    "max_position_embeddings": 4096, "type_vocab_size": 16,
}
MAX_PARAMETERS = 300_000_000  # 1.2 GB in float32
MAX_CONFIG_BYTES = 1_000_000
MAX_DOWNLOAD_BYTES = 4 * MAX_PARAMETERS + 200 * 2**20  # float32 weights at the parameter cap, plus tokenizer files
REMOTE_CODE_KEYS = ("auto_map", "custom_pipelines")  # configs that ask transformers to import code shipped with them
TOKENIZER_FILES = ("tokenizer.json", "spiece.model", "vocab.txt")
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
PICKLE_FILES = ("pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack")
# What a hub download may fetch: top-level files only, so a repository's other folders (onnx/, variants) stay put.
HUB_FILES = ("config.json", *WEIGHT_FILES, "model-*-of-*.safetensors", "tokenizer.json", "tokenizer_config.json",
             "special_tokens_map.json", "spiece.model", "vocab.txt")


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
    try:
        return _load(spec)
    except ModelLoadError:
        raise
    except Exception as error:  # noqa: BLE001 - what we did not foresee still ends in words, details in the log
        LOG.exception("loading %s failed", spec)
        raise ModelLoadError(f"{spec.label} could not be loaded ({type(error).__name__}); the details are in "
                             "the server's log.") from None


def _load(spec: ModelSpec) -> LoadedModel:
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
    model, tokenizer = _load_folder(folder, spec.label)
    model.to(device).eval()
    return LoadedModel(spec=spec, model=model, tokenizer=tokenizer, device=device, notes=notes)


def _load_folder(folder: Path, name: str):
    """Model (its saved architecture, eager attention, safetensors only) and tokenizer, all from one checked folder."""
    config = AlbertConfig.from_dict(check_config(_read_json(folder / "config.json", name), name))
    _check_files(folder, name)
    model = _load_weights(folder, name, config)
    return model, _load_tokenizer(folder, name, config)


def _read_json(path: Path, name: str) -> dict:
    """A small JSON object from a model folder, or ModelLoadError."""
    if not path.is_file():
        raise ModelLoadError(f"{name} is not a Hugging Face model folder: it has no config.json.")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ModelLoadError(f"{name}: {path.name} is larger than {MAX_CONFIG_BYTES:,} bytes; that is no model config.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ModelLoadError(f"{name}: {path.name} is not readable JSON ({type(error).__name__}).") from None
    if not isinstance(data, dict):
        raise ModelLoadError(f"{name}: {path.name} does not hold a JSON object.")
    return data


def check_config(raw: dict, name: str) -> dict:
    """Refuse a config that is not ALBERT, names code to run, or asks for sizes beyond SIZE_LIMITS; return it."""
    if raw.get("model_type") != "albert":
        raise ModelLoadError(f"This app explains ALBERT; {name} holds a {raw.get('model_type')!r} model.")
    if named := [key for key in REMOTE_CODE_KEYS if key in raw]:
        raise ModelLoadError(f"{name}: its config asks to run Python code shipped with the model ({named[0]}); "
                             "this app never runs such code, so it cannot load this model.")
    defaults = AlbertConfig().to_dict()
    for key, limit in SIZE_LIMITS.items():
        value = raw.get(key, defaults[key])
        if isinstance(value, bool) or not isinstance(value, int):
            raise ModelLoadError(f"{name}: {key} must be a whole number, not {str(value)[:40]!r}.")
        if not 1 <= value <= limit:
            raise ModelLoadError(f"{name}: {key} = {value:,} is outside what this app loads (1 to {limit:,}).")
    sizes = {key: raw.get(key, defaults[key]) for key in SIZE_LIMITS}
    if sizes["hidden_size"] % sizes["num_attention_heads"]:
        raise ModelLoadError(f"{name}: hidden_size {sizes['hidden_size']} is not a multiple of "
                             f"num_attention_heads {sizes['num_attention_heads']}.")
    if sizes["num_hidden_groups"] > sizes["num_hidden_layers"]:
        raise ModelLoadError(f"{name}: more hidden groups ({sizes['num_hidden_groups']}) than layers.")
    if (count := estimated_parameters(sizes)) > MAX_PARAMETERS:
        raise ModelLoadError(f"{name}: its config describes about {count / 1e6:,.0f}M parameters; this app loads "
                             f"at most {MAX_PARAMETERS / 1e6:,.0f}M (ALBERT-xxlarge has 223M).")
    return raw


def estimated_parameters(sizes: dict) -> int:
    """ALBERT's parameter count from its sizes (embeddings, E->H map, shared layers, pooler), heads left out."""
    vocab, e, h, ffn = sizes["vocab_size"], sizes["embedding_size"], sizes["hidden_size"], sizes["intermediate_size"]
    embeddings = (vocab + sizes["max_position_embeddings"] + sizes["type_vocab_size"]) * e + 2 * e
    layer = 4 * (h * h + h) + 2 * h * ffn + ffn + 5 * h  # Q, K, V, output; FFN in and out; two LayerNorms
    layers = sizes["num_hidden_groups"] * sizes["inner_group_num"] * layer
    return embeddings + (e * h + h) + layers + (h * h + h)


def _check_files(folder: Path, name: str) -> None:
    """Safetensors weights and tokenizer files must be in the folder itself; pickles are never read."""
    present = {path.name for path in folder.iterdir()}
    if not present & set(WEIGHT_FILES):
        pickles = sorted(present & set(PICKLE_FILES))
        why = (f"it holds only {pickles[0]}, a format that can run code when it is read" if pickles
               else "it has no model.safetensors")
        raise ModelLoadError(f"{name}: {why}. This app reads weights from safetensors files only; convert the "
                             "checkpoint on a trusted machine with save_pretrained(..., safe_serialization=True).")
    if not present & set(TOKENIZER_FILES):
        raise ModelLoadError(f"{name} has no tokenizer files ({', '.join(TOKENIZER_FILES)}). The app never "
                             "borrows a tokenizer from elsewhere: another vocabulary would feed the model wrong "
                             "token ids. Save the tokenizer into the folder with tokenizer.save_pretrained(folder).")
    tokenizer_config = folder / "tokenizer_config.json"
    if tokenizer_config.is_file() and "auto_map" in _read_json(tokenizer_config, name):
        raise ModelLoadError(f"{name}: its tokenizer asks to run Python code shipped with the model (auto_map); "
                             "this app never runs such code.")


def _load_weights(folder: Path, name: str, config: AlbertConfig) -> PreTrainedModel:
    """The saved architecture's class, float32, eager attention; weights that do not fit the config are refused."""
    architecture = (config.architectures or ["AlbertModel"])[0]
    model_class = ARCHITECTURES.get(architecture, AlbertModel)
    try:
        # float32 whatever the file holds: a float16 checkpoint would otherwise load as float16 (dtype
        # "auto"), and the worked examples check hand arithmetic against these numbers.
        model, info = model_class.from_pretrained(
            folder, config=config, attn_implementation="eager", use_safetensors=True, dtype=torch.float32,
            ignore_mismatched_sizes=False, output_loading_info=True, local_files_only=True, trust_remote_code=False)
    except Exception as error:  # noqa: BLE001 - safetensors, torch and transformers each raise their own types
        LOG.warning("loading weights from %s failed", folder, exc_info=True)
        raise ModelLoadError(f"{name}: {_weights_problem(error)}") from None
    if missing := [key for key in info["missing_keys"] if key.startswith(f"{model.base_model_prefix}.")]:
        raise ModelLoadError(f"{name}: the weights file lacks {len(missing)} of the model's tensors (e.g. "
                             f"{missing[0]}); it was saved from a different model than config.json describes.")
    return model


def _weights_problem(error: Exception) -> str:
    """What went wrong reading weights, in words (details go to the server log)."""
    text = str(error)
    if "size mismatch" in text or "ignore_mismatched_sizes" in text:
        return ("the weights do not match config.json (tensor shapes differ); the config was edited or belongs "
                "to another checkpoint.")
    if type(error).__name__ == "SafetensorError" or "deserializ" in text:
        return "the weights file is damaged or incomplete (it could not be read as safetensors); copy it again."
    return f"the weights could not be loaded ({type(error).__name__})."


def _load_tokenizer(folder: Path, name: str, config: AlbertConfig):
    """The folder's own tokenizer, whose ids must all exist in the model's embedding table."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
    except Exception as error:  # noqa: BLE001 - tokenizers raise many types for a bad file
        LOG.warning("loading the tokenizer from %s failed", folder, exc_info=True)
        raise ModelLoadError(f"{name}: its tokenizer files could not be read ({type(error).__name__}).") from None
    if len(tokenizer) > config.vocab_size:
        raise ModelLoadError(f"{name}: the tokenizer has {len(tokenizer):,} tokens but the model only "
                             f"{config.vocab_size:,} embeddings; they do not belong together.")
    return tokenizer


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
    from albert_viz.model.random_tiny import save_random_albert

    folder = Path(tempfile.gettempdir()) / own_temp_name("random_tiny")  # swept when this process exits
    with _RANDOM_FOLDER_LOCK:
        if not (folder / "config.json").exists():
            save_random_albert(folder, seed=0, num_hidden_layers=4)
    return folder


def model_roots() -> tuple[Path, ...]:
    """The folders ALBERT_VIZ_MODEL_ROOTS allows, symlinks resolved; empty means any folder."""
    value = os.environ.get(MODEL_ROOTS_ENV, "")
    return tuple(Path(part).expanduser().resolve() for part in value.split(os.pathsep) if part.strip())


def _local_folder(location: str) -> Path:
    """A folder the user typed, inside the allowed roots (checked before we look whether it exists)."""
    if not location.strip():
        raise ModelLoadError("Type the path of a folder that holds config.json and model.safetensors.")
    folder = Path(location.strip()).expanduser()
    if roots := model_roots():
        resolved = folder.resolve()  # symlinks followed and '..' collapsed before the comparison
        if not (_inside(resolved, roots) or is_app_temp_folder(resolved)):
            # the same words whether or not the path exists: the message must not probe the server's disk
            raise ModelLoadError("This server loads models only from the folders its teacher allowed: "
                                 + ", ".join(str(root) for root in roots) + ".")
        if folder.is_dir() and any(not _inside(path.resolve(), roots) for path in folder.iterdir()):
            raise ModelLoadError(f"{location}: a file in this folder links to a place outside the allowed folders.")
    if not folder.is_dir():
        raise ModelLoadError(f"There is no folder at {folder}.")
    return folder


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _hub_snapshot(model_id: str) -> Path:
    """A hub model's files: its config fetched and checked first, then the weights (cache first, else network)."""
    from huggingface_hub import snapshot_download

    model_id = model_id.strip()
    if not HUB_ID.fullmatch(model_id) or ".." in model_id:
        raise ModelLoadError(f"{model_id[:100]!r} is not a hub model id (it looks like 'albert/albert-base-v2': "
                             "owner/name of letters, digits, '.', '_' and '-').")
    check_config(_read_json(_hub_config(model_id), model_id), model_id)  # before a single weight is downloaded
    try:
        cached = Path(snapshot_download(model_id, allow_patterns=list(HUB_FILES), local_files_only=True))
        if any((cached / name).exists() for name in WEIGHT_FILES):
            return cached
    except Exception:  # noqa: BLE001 - not (fully) cached: download below when the hub answers
        pass
    if not _hub_reachable():
        raise _not_cached(model_id)
    _check_download_size(model_id)
    try:
        return Path(snapshot_download(model_id, allow_patterns=list(HUB_FILES)))
    except Exception as error:  # noqa: BLE001
        LOG.warning("downloading %s failed", model_id, exc_info=True)
        raise ModelLoadError(f"The hub model {model_id!r} could not be downloaded ({type(error).__name__}).") from None


def _check_download_size(model_id: str) -> None:
    """Refuse a repository whose files we would fetch add up to more than a model within the limits can need
    (a small config does not prove the weights beside it are small)."""
    from fnmatch import fnmatch

    from huggingface_hub import HfApi

    try:
        files = HfApi().model_info(model_id, files_metadata=True).siblings or []
    except Exception as error:  # noqa: BLE001
        LOG.warning("listing the files of %s failed", model_id, exc_info=True)
        raise ModelLoadError(f"The hub model {model_id!r} could not be listed ({type(error).__name__}).") from None
    wanted = [file for file in files if any(fnmatch(file.rfilename, pattern) for pattern in HUB_FILES)]
    total = sum(file.size or 0 for file in wanted)
    if total > MAX_DOWNLOAD_BYTES:
        raise ModelLoadError(f"{model_id}: its model files come to {total / 2**30:.1f} GB; this app downloads at "
                             f"most {MAX_DOWNLOAD_BYTES / 2**30:.1f} GB for one model.")


def _hub_config(model_id: str) -> Path:
    """config.json of a hub model: from the cache, else downloaded on its own."""
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(model_id, "config.json", local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached
        pass
    if not _hub_reachable():
        raise _not_cached(model_id)
    try:
        return Path(hf_hub_download(model_id, "config.json"))
    except Exception as error:  # noqa: BLE001
        LOG.warning("fetching the config of %s failed", model_id, exc_info=True)
        raise ModelLoadError(f"The hub has no model {model_id!r} that we can download ({type(error).__name__}).") \
            from None


def _not_cached(model_id: str) -> ModelLoadError:
    return ModelLoadError(
        f"{model_id} is not in the local cache and the Hugging Face hub cannot be reached from here. "
        f"On a machine with internet run `hf download {model_id} --local-dir ./{model_id.split('/')[-1]}`, "
        "copy the folder here and choose 'Local folder' as the model source."
    )


def _hub_reachable(timeout_s: float = 3.0) -> bool:
    """A quick TCP check, so an offline classroom waits seconds, not the hub client's ~28 s of retries."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    try:
        with socket.create_connection((HUB_HOST, 443), timeout=timeout_s):
            return True
    except OSError:
        return False
