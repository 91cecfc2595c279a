"""What one request may cost: tokens per capture are capped by the model's size (with a message), the capture
cache by bytes, long captures kept in float16."""
import pickle

import numpy as np
import pytest
from transformers import AlbertConfig

from albert_viz.model.capture import MAX_TOKENS_PER_REQUEST, capture, compact, token_cap, widened
from albert_viz.model.loading import ModelSpec, load_model
from albert_viz.ui import resources
from albert_viz.ui.resources import BytesLRU

LONG_TEXT = " ".join("abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(1000))  # 1,999 characters, ~1,000 tokens


@pytest.fixture(scope="module")
def bundled():
    return load_model(ModelSpec(device="cpu"))  # reads 512 tokens: only the request cap can cut it shorter


BUNDLED_SHAPE = dict(num_hidden_layers=6, num_attention_heads=12, hidden_size=384, intermediate_size=1536)
XXLARGE_SHAPE = dict(num_hidden_layers=12, num_attention_heads=64, hidden_size=4096, intermediate_size=16384)


def test_a_small_model_reads_up_to_its_own_limit():
    cap = token_cap(AlbertConfig(**BUNDLED_SHAPE))
    assert cap.tokens == 512 and cap.reason is None
    assert "up to 512 tokens, this model's own limit" in cap.describe()


def test_a_huge_model_gets_fewer_tokens_and_the_message_says_how_many_and_why():
    cap = token_cap(AlbertConfig(**XXLARGE_SHAPE))
    assert 8 <= cap.tokens < 128
    sentence = cap.describe()
    assert f"up to {cap.tokens} tokens" in sentence and "could read 512" in sentence
    assert "12 layers × 64 heads, hidden size 4,096" in sentence and "seconds of this server's time" in sentence


def test_no_model_reads_more_than_the_request_ceiling_whatever_its_position_limit():
    cap = token_cap(AlbertConfig(**BUNDLED_SHAPE, max_position_embeddings=4096))
    assert cap.tokens == MAX_TOKENS_PER_REQUEST and f"no page reads more than {MAX_TOKENS_PER_REQUEST}" in cap.reason


def test_a_text_cut_by_the_cap_gets_a_message_saying_what_was_cut_and_why(bundled):
    result = capture(bundled, LONG_TEXT, max_tokens=100, limit_reason="for a model this size, reasons")
    assert result.num_tokens == 100 and result.attentions.shape[-1] == 100
    note = result.truncation_note()
    assert "cut to fit 100 tokens" in note and "everyone sharing this server" in note and "reasons" in note
    assert f"{result.original_length - 100:,} tokens were left out" in note


def test_a_text_within_the_cap_is_not_cut(bundled):
    assert capture(bundled, "I love programming", max_tokens=MAX_TOKENS_PER_REQUEST).truncation_note() is None


def test_the_pages_capture_reads_the_bundled_models_full_512_tokens(bundled):
    result = resources.get_capture(ModelSpec(device="cpu"), LONG_TEXT)
    assert result.num_tokens == 512 and "model reads at most 512" in result.truncation_note()


@pytest.fixture(scope="module")
def long_capture(bundled):
    return capture(bundled, LONG_TEXT)  # 512 tokens


def test_a_compact_capture_pickles_to_about_half(long_capture):
    before, after = len(pickle.dumps(long_capture)), len(pickle.dumps(compact(long_capture)))
    assert after < 0.51 * before and after < 55 * 2**20


def test_a_compact_capture_keeps_every_value_within_float16_rounding(long_capture):
    back = widened(compact(long_capture))
    pairs = [(back.attentions, long_capture.attentions), (back.hidden_states, long_capture.hidden_states)]
    pairs += [(b.inputs, a.inputs) for a, b in zip(long_capture.layernorms, back.layernorms)]
    for restored, original in pairs:
        assert restored.dtype == np.float32
        np.testing.assert_allclose(restored, original, rtol=2**-11, atol=2**-24)
    assert back.stored_as == "float16" and back.tokens == long_capture.tokens


def test_a_long_capture_is_cached_compact_and_served_as_float32(bundled, monkeypatch):
    monkeypatch.setattr(resources, "_CAPTURES", BytesLRU(256 * 2**20, lambda c: c.nbytes, 128 * 2**20))
    first = resources.get_capture(ModelSpec(device="cpu"), LONG_TEXT)
    assert resources._CAPTURES.bytes < 0.51 * first.nbytes  # only the float16 copy is kept
    again = resources.get_capture(ModelSpec(device="cpu"), LONG_TEXT)
    assert again.attentions.dtype == np.float32 and again.stored_as == "float16"
    np.testing.assert_allclose(again.attentions, first.attentions, rtol=2**-11, atol=2**-24)


def test_a_page_that_checks_digits_gets_the_exact_capture_of_a_long_text(bundled, monkeypatch):
    monkeypatch.setattr(resources, "_CAPTURES", BytesLRU(256 * 2**20, lambda c: c.nbytes, 128 * 2**20))
    first = resources.get_capture(ModelSpec(device="cpu"), LONG_TEXT)
    exact = resources.get_capture(ModelSpec(device="cpu"), LONG_TEXT, exact=True)
    assert exact.stored_as == "float32"
    np.testing.assert_array_equal(exact.attentions, first.attentions)


def test_cached_captures_cannot_be_changed_by_a_page(bundled):
    result = resources.get_capture(ModelSpec(device="cpu"), "the cat sat")
    with pytest.raises(ValueError, match="read-only"):
        result.attentions[0, 0, 0, 0] = 1.0


def array(megabytes: int) -> np.ndarray:
    return np.zeros(megabytes * 2**20, dtype=np.uint8)


def test_the_lru_never_holds_more_bytes_than_its_budget_and_drops_the_least_recently_used():
    cache = BytesLRU(10 * 2**20, lambda value: value.nbytes)
    for key in range(5):
        cache.put(key, array(3))
        assert cache.bytes <= 10 * 2**20
        cache.get(0)  # keep 0 in use
    assert cache.get(0) is not None and cache.get(1) is None and cache.get(4) is not None
    assert len(cache) == 3


def test_a_value_over_the_item_limit_is_not_kept():
    cache = BytesLRU(10 * 2**20, lambda value: value.nbytes, max_item_bytes=4 * 2**20)
    assert not cache.put("big", array(5))
    assert cache.get("big") is None and cache.bytes == 0


def test_the_pages_capture_cache_stays_within_its_byte_budget(bundled, monkeypatch):
    one = capture(bundled, "the cat sat on the mat").nbytes
    budget = int(one * 3.5)
    monkeypatch.setattr(resources, "_CAPTURES", BytesLRU(budget, lambda c: c.nbytes))
    for word in ("dog", "cat", "bird", "fish", "cow", "pig"):
        resources.get_capture(ModelSpec(device="cpu"), f"the {word} sat on the mat")
        assert resources._CAPTURES.bytes <= budget
    assert len(resources._CAPTURES) == 3
