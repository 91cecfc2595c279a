"""Model folders and hub ids as hostile input: each bad case ends in a ModelLoadError that says why, and
nothing shipped in the folder runs."""
import json
import shutil
import sys

import pytest
import torch
from safetensors.torch import load_file, save_file

from albert_viz.model.loading import (
    MAX_PARAMETERS, MODEL_ROOTS_ENV, SIZE_LIMITS, ModelLoadError, ModelSpec, load_model,
)
from albert_viz.model.random_tiny import save_random_albert


@pytest.fixture(scope="module")
def good_folder(tmp_path_factory):
    return save_random_albert(tmp_path_factory.mktemp("good"), seed=0)


@pytest.fixture
def folder(good_folder, tmp_path):
    """A private copy of a loadable tiny ALBERT, to be spoiled by the test."""
    return shutil.copytree(good_folder, tmp_path / "model")


def edit_config(folder, **changes):
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


def load(folder):
    return load_model(ModelSpec("local", str(folder), "cpu"))


def test_a_config_that_does_not_match_its_weights_is_refused(folder):
    edit_config(folder, hidden_size=64, intermediate_size=128)
    with pytest.raises(ModelLoadError, match="do not match config.json"):
        load(folder)


def test_a_weights_file_cut_short_is_refused(folder):
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ModelLoadError, match="damaged or incomplete"):
        load(folder)


def test_a_weights_file_of_garbage_is_refused(folder):
    (folder / "model.safetensors").write_bytes(b"\xff" * 1000)
    with pytest.raises(ModelLoadError, match="damaged or incomplete"):
        load(folder)


def test_weights_missing_a_tensor_are_refused_rather_than_filled_with_random_numbers(folder):
    tensors = load_file(folder / "model.safetensors")
    del tensors["albert.pooler.weight"]
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ModelLoadError, match="lacks 1 of the model's tensors"):
        load(folder)


def test_a_folder_without_tokenizer_files_is_refused_not_given_another_tokenizer(folder):
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    with pytest.raises(ModelLoadError, match="no tokenizer files"):
        load(folder)


@pytest.mark.parametrize("key", sorted(SIZE_LIMITS))
def test_a_size_beyond_the_limit_is_refused_before_anything_is_allocated(folder, key):
    edit_config(folder, **{key: SIZE_LIMITS[key] * 1000})  # far too big to allocate, if it ever got that far
    with pytest.raises(ModelLoadError, match=rf"{key} = .* \(1 to {SIZE_LIMITS[key]:,}\)"):
        load(folder)


def test_sizes_each_within_limits_but_too_many_parameters_together_are_refused(folder):
    edit_config(folder, hidden_size=4096, intermediate_size=16384, num_attention_heads=64, num_hidden_layers=48,
                num_hidden_groups=48)
    with pytest.raises(ModelLoadError, match=f"at most {MAX_PARAMETERS / 1e6:,.0f}M"):
        load(folder)


@pytest.mark.parametrize("value", [32.5, "32", True, None])
def test_a_size_that_is_not_a_whole_number_is_refused(folder, value):
    edit_config(folder, hidden_size=value)
    with pytest.raises(ModelLoadError, match="hidden_size must be a whole number"):
        load(folder)


def test_heads_that_do_not_divide_the_hidden_size_are_refused(folder):
    edit_config(folder, num_attention_heads=5)
    with pytest.raises(ModelLoadError, match="not a multiple of num_attention_heads"):
        load(folder)


class _TouchOnUnpickle:
    """Unpickling this creates a file: what a malicious pytorch_model.bin could do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').close()",)


def test_the_pickle_payload_used_below_does_create_its_file_when_unpickled(tmp_path):
    marker = tmp_path / "ran"
    torch.save({"w": _TouchOnUnpickle(marker)}, tmp_path / "evil.bin")
    torch.load(tmp_path / "evil.bin", weights_only=False)
    assert marker.exists()  # so the next test's "not created" means "not unpickled"


def test_a_pickle_checkpoint_is_refused_and_never_unpickled(folder, tmp_path):
    marker = tmp_path / "pickle_ran"
    (folder / "model.safetensors").unlink()
    torch.save({"w": _TouchOnUnpickle(marker)}, folder / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match="pytorch_model.bin, a format that can run code"):
        load(folder)
    assert not marker.exists()


def test_a_config_naming_remote_code_is_refused_and_the_code_never_imported(folder, tmp_path):
    marker = tmp_path / "module_ran"
    (folder / "evil_albert.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    edit_config(folder, auto_map={"AutoConfig": "evil_albert.EvilConfig", "AutoModel": "evil_albert.EvilModel"})
    with pytest.raises(ModelLoadError, match="never runs such code"):
        load(folder)
    assert not marker.exists() and "evil_albert" not in sys.modules


def test_a_tokenizer_naming_remote_code_is_refused(folder):
    tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text())
    tokenizer_config["auto_map"] = {"AutoTokenizer": ["evil_tok.EvilTokenizer", None]}
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    with pytest.raises(ModelLoadError, match="tokenizer asks to run Python code"):
        load(folder)


def test_a_model_of_another_family_is_refused(folder):
    edit_config(folder, model_type="bert")
    with pytest.raises(ModelLoadError, match="holds a 'bert' model"):
        load(folder)


# --- ALBERT_VIZ_MODEL_ROOTS ---------------------------------------------------------------------------

@pytest.fixture
def roots(tmp_path, monkeypatch, good_folder):
    """An allowed root holding one model, and a model outside it."""
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    shutil.copytree(good_folder, allowed / "model")
    shutil.copytree(good_folder, outside / "model")
    monkeypatch.setenv(MODEL_ROOTS_ENV, str(allowed))
    return allowed, outside


def test_a_folder_inside_the_roots_loads(roots):
    allowed, _ = roots
    assert load(allowed / "model").config.model_type == "albert"


def test_a_folder_outside_the_roots_is_refused_with_the_same_words_whether_or_not_it_exists(roots):
    _, outside = roots
    messages = []
    for path in (outside / "model", outside / "no-such-folder"):
        with pytest.raises(ModelLoadError, match="only from the folders its teacher allowed") as error:
            load(path)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


def test_dot_dot_cannot_climb_out_of_the_roots(roots):
    allowed, _ = roots
    with pytest.raises(ModelLoadError, match="teacher allowed"):
        load(allowed / ".." / "outside" / "model")


def test_a_symlink_inside_the_roots_to_a_folder_outside_is_refused(roots):
    allowed, outside = roots
    (allowed / "link").symlink_to(outside / "model", target_is_directory=True)
    with pytest.raises(ModelLoadError, match="teacher allowed"):
        load(allowed / "link")


def test_a_file_linking_outside_the_roots_is_refused(roots):
    allowed, outside = roots
    (allowed / "model" / "model.safetensors").unlink()
    (allowed / "model" / "model.safetensors").symlink_to(outside / "model" / "model.safetensors")
    with pytest.raises(ModelLoadError, match="links to a place outside"):
        load(allowed / "model")


# --- hub ids --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model_id", ["a/b/c", "../etc", "owner/..", "owner/na me", "owner/name;rm -rf", "justaname",
                                      "owner/na\nme", "owner/näme", "/abs/path", "owner/"])
def test_a_hub_id_that_is_not_owner_slash_name_of_safe_characters_is_refused(model_id):
    with pytest.raises(ModelLoadError, match="not a hub model id"):
        load_model(ModelSpec("hub", model_id, "cpu"))


def cache_hub_config(cache, monkeypatch, model_id, config):
    """Put only config.json of `model_id` in a private hub cache, as a first download would leave it."""
    import huggingface_hub.constants as constants

    snapshot = cache / f"models--{model_id.replace('/', '--')}" / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(json.dumps(config))
    (cache / f"models--{model_id.replace('/', '--')}" / "refs").mkdir()
    (cache / f"models--{model_id.replace('/', '--')}" / "refs" / "main").write_text("0" * 40)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))


def test_a_hub_model_whose_config_is_not_albert_is_refused_before_weights_are_fetched(tmp_path, monkeypatch):
    cache_hub_config(tmp_path, monkeypatch, "someone/big-bert", {"model_type": "bert", "hidden_size": 1024})
    with pytest.raises(ModelLoadError, match="holds a 'bert' model"):
        load_model(ModelSpec("hub", "someone/big-bert", "cpu"))


def test_a_hub_model_with_absurd_sizes_is_refused_before_weights_are_fetched(tmp_path, monkeypatch):
    cache_hub_config(tmp_path, monkeypatch, "someone/deep-albert", {"model_type": "albert", "num_hidden_layers": 10**6})
    with pytest.raises(ModelLoadError, match="num_hidden_layers = 1,000,000"):
        load_model(ModelSpec("hub", "someone/deep-albert", "cpu"))


def test_a_hub_model_with_a_good_config_but_no_cached_weights_says_how_to_get_them_offline(tmp_path, monkeypatch):
    cache_hub_config(tmp_path, monkeypatch, "someone/small-albert", {"model_type": "albert", "hidden_size": 64,
                                                                    "num_attention_heads": 4, "intermediate_size": 64})
    with pytest.raises(ModelLoadError, match="hf download someone/small-albert"):
        load_model(ModelSpec("hub", "someone/small-albert", "cpu"))


def test_a_hub_repository_whose_files_are_too_big_is_refused_before_they_are_downloaded(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import huggingface_hub
    import albert_viz.model.loading as models
    from albert_viz.model.loading import MAX_DOWNLOAD_BYTES

    cache_hub_config(tmp_path, monkeypatch, "someone/huge-albert", {"model_type": "albert", "hidden_size": 64,
                                                                   "num_attention_heads": 4, "intermediate_size": 64})
    listing = [SimpleNamespace(rfilename="config.json", size=500),
               SimpleNamespace(rfilename="model-00001-of-00002.safetensors", size=MAX_DOWNLOAD_BYTES),
               SimpleNamespace(rfilename="model-00002-of-00002.safetensors", size=MAX_DOWNLOAD_BYTES)]
    monkeypatch.setattr(models, "_hub_reachable", lambda: True)  # as on a networked server
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", lambda self, *a, **k: SimpleNamespace(siblings=listing))
    downloads = []

    def snapshot_download(*args, **kwargs):
        downloads.append(kwargs)
        raise OSError("not in the cache")  # nothing is: whatever asked for it would have to download

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    with pytest.raises(ModelLoadError, match="this app downloads at most"):
        load_model(ModelSpec("hub", "someone/huge-albert", "cpu"))
    assert all(k.get("local_files_only") for k in downloads)  # only the cache was looked at, nothing fetched
