"""The bundled ALBERT-tiny loads offline with plain transformers and behaves like a language model."""

from pathlib import Path

import pytest
import torch

BUNDLE = Path(__file__).resolve().parents[2] / "assets" / "models" / "albert-tiny"

transformers = pytest.importorskip("transformers")


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    # The bundle must never need the hub.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def tokenizer():
    return transformers.AutoTokenizer.from_pretrained(BUNDLE)


@pytest.fixture(scope="module")
def mlm():
    return transformers.AutoModelForMaskedLM.from_pretrained(BUNDLE, attn_implementation="eager").eval()


def test_bundle_is_small_and_complete():
    names = {p.name for p in BUNDLE.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "MODEL_CARD.md"} <= names
    assert (BUNDLE / "model.safetensors").stat().st_size <= 25 * 1024 * 1024


def test_config_is_a_real_albert_with_factorized_embeddings_and_one_shared_layer():
    config = transformers.AutoConfig.from_pretrained(BUNDLE)
    assert config.model_type == "albert"
    assert (config.embedding_size, config.hidden_size) == (128, 384)
    assert config.num_hidden_groups == 1 and config.inner_group_num == 1
    assert config.num_hidden_layers == 6


def test_example_sentence_gives_the_five_tokens(tokenizer):
    ids = tokenizer("I love programming")["input_ids"]
    assert tokenizer.convert_ids_to_tokens(ids) == ["[CLS]", "i", "love", "programming", "[SEP]"]


def test_automodel_returns_attentions_for_every_layer_and_head(tokenizer):
    model = transformers.AutoModel.from_pretrained(BUNDLE, attn_implementation="eager").eval()
    with torch.no_grad():
        out = model(**tokenizer("I love programming", return_tensors="pt"), output_attentions=True)
    assert len(out.attentions) == 6
    assert out.attentions[0].shape == (1, 12, 5, 5)
    torch.testing.assert_close(out.attentions[3].sum(-1), torch.ones(1, 12, 5))


# A plain sentence written for this test (not in the training corpus); the masked word is "door".
MASKED_SENTENCE = "she opened the [MASK] and let the cat into the house."


def test_masked_word_is_predicted_in_the_top_five(tokenizer, mlm):
    text, answer = MASKED_SENTENCE, "door"
    enc = tokenizer(text, return_tensors="pt")
    where = (enc["input_ids"][0] == tokenizer.mask_token_id).nonzero().item()
    with torch.no_grad():
        logits = mlm(**enc).logits[0, where]
    top5 = tokenizer.convert_ids_to_tokens(logits.topk(5).indices.tolist())
    assert answer in top5, top5
