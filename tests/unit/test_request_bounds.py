"""What one request may cost: tokens per capture are capped (with a message), the capture cache by bytes."""
import numpy as np
import pytest

from albert_viz.capture import MAX_TOKENS_PER_REQUEST, capture
from albert_viz.models import ModelSpec, load_model
from albert_viz.ui import resources
from albert_viz.ui.resources import BytesLRU

LONG_TEXT = " ".join("abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(1000))  # 1,999 characters, ~1,000 tokens


@pytest.fixture(scope="module")
def bundled():
    return load_model(ModelSpec(device="cpu"))  # reads 512 tokens: only the request cap can cut it shorter


def test_a_2000_character_text_is_cut_to_the_request_cap_with_a_message_saying_why(bundled):
    result = capture(bundled, LONG_TEXT, max_tokens=MAX_TOKENS_PER_REQUEST)
    assert result.num_tokens == MAX_TOKENS_PER_REQUEST and result.attentions.shape[-1] == MAX_TOKENS_PER_REQUEST
    note = result.truncation_note()
    assert f"cut to fit {MAX_TOKENS_PER_REQUEST} tokens" in note and "everyone sharing this server" in note
    assert f"{result.original_length - MAX_TOKENS_PER_REQUEST:,} tokens were left out" in note


def test_a_text_within_the_cap_is_not_cut(bundled):
    assert capture(bundled, "I love programming", max_tokens=MAX_TOKENS_PER_REQUEST).truncation_note() is None


def test_the_pages_capture_is_capped(bundled):
    result = resources.get_capture(ModelSpec(device="cpu"), LONG_TEXT)
    assert result.num_tokens == MAX_TOKENS_PER_REQUEST


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
