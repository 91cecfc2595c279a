"""Shared fixtures: tiny random ALBERTs saved in Hugging Face format and loaded through the app's loader."""
from __future__ import annotations

import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach the network
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# fine-tuning jobs' store and models: a fresh folder per test run, never the user's ~/.cache/albert_viz
os.environ.setdefault("ALBERT_VIZ_DATA", tempfile.mkdtemp(prefix="albert_viz_test_data_"))

import pytest

from albert_viz.model.loading import LoadedModel, ModelSpec, load_model
from albert_viz.model.random_tiny import save_random_albert


def load_tiny(tmp_path_factory, name: str, **config_overrides) -> LoadedModel:
    """Save a random tiny ALBERT with these config overrides and load it as a 'local' model."""
    folder = save_random_albert(tmp_path_factory.mktemp(name), seed=0, **config_overrides)
    return load_model(ModelSpec(source="local", location=str(folder), device="cpu"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> LoadedModel:
    """The released ALBERT layout (1 group, 1 inner layer) at toy size."""
    return load_tiny(tmp_path_factory, "tiny")


@pytest.fixture(scope="session")
def grouped_model(tmp_path_factory) -> LoadedModel:
    """A layout no released checkpoint uses: 2 hidden groups of 2 inner layers over 4 layers."""
    return load_tiny(tmp_path_factory, "grouped", num_hidden_layers=4, num_hidden_groups=2, inner_group_num=2)


@pytest.fixture
def assert_sent_as_validated():
    """Checks that a figure built without plotly's validation (figures.common.unchecked_figure) is valid and sends the
    browser exactly the JSON that the same figure built with validation sends."""
    import json

    import plotly.graph_objects as go
    import plotly.io

    def check(figure) -> None:
        validated = go.Figure(figure.to_dict())  # raises on any invalid property
        sent = json.loads(plotly.io.to_json(figure, validate=False))
        assert sent == json.loads(plotly.io.to_json(validated, validate=False))

    return check


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for this test session (tests/postgres.py); stopped and removed afterwards."""
    from tests.postgres import remove, start_postgres

    server = start_postgres()
    yield server
    remove(server)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """Each data-layer test runs twice: on a fresh SQLite file, and on a fresh database of the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    return request.getfixturevalue("postgres").new_database()
