"""Model loading: sources, devices and the messages a user sees when loading fails."""
import time

import pytest
import torch

from albert_viz.model.loading import ModelLoadError, ModelSpec, load_model, pick_device
from albert_viz.model.random_tiny import save_random_albert


def test_auto_device_is_the_cpu_on_a_machine_without_accelerators():
    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("this machine has an accelerator")
    assert pick_device("auto") == torch.device("cpu")


def test_asking_for_cuda_without_a_gpu_says_so():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ModelLoadError, match="CUDA"):
        pick_device("cuda")


def test_local_folder_loads_with_eager_attention(tiny_model):
    assert tiny_model.config._attn_implementation == "eager"
    assert not tiny_model.model.training


def test_unknown_hub_id_fails_within_seconds_and_says_how_to_get_it():
    started = time.monotonic()
    with pytest.raises(ModelLoadError, match="hf download"):
        load_model(ModelSpec("hub", "nobody/no-such-albert", "cpu"))
    assert time.monotonic() - started < 10


def test_malformed_hub_id_is_refused():
    with pytest.raises(ModelLoadError, match="not a hub model id"):
        load_model(ModelSpec("hub", "a/b/c", "cpu"))


def test_missing_local_folder_is_named_in_the_message(tmp_path):
    with pytest.raises(ModelLoadError, match="no folder"):
        load_model(ModelSpec("local", str(tmp_path / "missing"), "cpu"))


def test_folder_without_a_model_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="not a Hugging Face model folder"):
        load_model(ModelSpec("local", str(tmp_path), "cpu"))


def test_pretraining_checkpoint_keeps_its_mlm_and_sop_heads(tiny_model):
    assert tiny_model.has_mlm_head and tiny_model.has_sop_head


def test_saved_architecture_class_is_the_one_loaded(tmp_path):
    from transformers import AlbertForSequenceClassification

    folder = save_random_albert(tmp_path, num_labels=3)
    model = AlbertForSequenceClassification(load_model(ModelSpec("local", str(folder), "cpu")).config)
    model.save_pretrained(folder)
    loaded = load_model(ModelSpec("local", str(folder), "cpu"))
    assert type(loaded.model).__name__ == "AlbertForSequenceClassification"
    assert not loaded.has_mlm_head


def test_random_source_warns_that_its_patterns_are_noise():
    loaded = load_model(ModelSpec("random", device="cpu"))
    assert any("noise" in note for note in loaded.notes)


def test_default_source_is_the_bundled_albert_tiny_through_the_apps_loader():
    loaded = load_model(ModelSpec())
    assert loaded.notes == ()  # no "random stand-in" warning: the bundle is there
    assert loaded.config.embedding_size == 128 and loaded.config.num_hidden_groups == 1
    assert loaded.has_mlm_head and loaded.has_sop_head
    assert loaded.config._attn_implementation == "eager"


def test_bundled_model_reads_the_article_sentence_as_five_tokens():
    from albert_viz.model.capture import capture

    result = capture(load_model(ModelSpec(device="cpu")), "I love programming")
    assert result.tokens == ("[CLS]", "i", "love", "programming", "[SEP]")
    assert result.attentions.shape == (6, 12, 5, 5)


def test_a_checkpoint_saved_in_half_precision_is_computed_in_float32(tmp_path):
    folder = save_random_albert(tmp_path)
    half = load_model(ModelSpec("local", str(folder), "cpu")).model.half()
    half.save_pretrained(folder)
    loaded = load_model(ModelSpec("local", str(folder), "cpu"))
    assert {p.dtype for p in loaded.model.parameters()} == {torch.float32}
