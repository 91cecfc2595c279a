"""Server settings for a class: no tracebacks for students, no file watching, unexpected failures in words."""
import logging
import threading
import tomllib
from pathlib import Path

import pytest

from albert_viz.model.capture import CaptureError, capture
from albert_viz.model.loading import ModelLoadError, ModelSpec, load_model

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def test_the_server_shows_students_no_error_details_and_watches_no_files():
    config = tomllib.loads(CONFIG.read_text())
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["fileWatcherType"] == "none"


def test_programs_without_a_browser_cannot_drive_a_class_server():
    assert tomllib.loads(CONFIG.read_text())["server"]["enableAgentApi"] is False


def test_an_unforeseen_load_failure_becomes_a_message_and_its_traceback_goes_to_the_log(monkeypatch, caplog):
    import albert_viz.model.loading as models

    def broken(*args, **kwargs):
        raise MemoryError("no room for the weights")

    monkeypatch.setattr(models, "_bundled_model_folder", broken)
    with caplog.at_level(logging.ERROR, logger="albert_viz"), pytest.raises(ModelLoadError, match="server's log"):
        load_model(ModelSpec(device="cpu"))
    assert "no room for the weights" in caplog.text  # the details are kept for the teacher, not shown


def test_a_failed_forward_pass_becomes_a_message_and_the_model_lock_is_free(tiny_model, monkeypatch, caplog):
    def out_of_memory(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(tiny_model.encoder, "forward", out_of_memory)
    with caplog.at_level(logging.ERROR, logger="albert_viz"), pytest.raises(CaptureError, match="server's log"):
        capture(tiny_model, "I love programming")
    assert "out of memory" in caplog.text
    assert lock_is_free(tiny_model.lock)


def lock_is_free(lock) -> bool:
    """Whether another thread can take the lock (the RLock is re-entrant, so this thread always could)."""
    taken = []

    def try_it():
        if lock.acquire(blocking=False):
            taken.append(True)
            lock.release()

    other = threading.Thread(target=try_it)
    other.start()
    other.join()
    return bool(taken)
