"""AppTest helpers: run the real app script with a chosen model."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

import pytest
from streamlit.testing.v1 import AppTest

from albert_viz.model.loading import ModelSpec
from albert_viz.model.random_tiny import save_random_albert

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def run_page(page: str | None = None, spec: ModelSpec | None = None) -> AppTest:
    """Run app.py (optionally with a model spec already chosen), then switch to `page`."""
    at = AppTest.from_file(APP, default_timeout=120)
    if spec is not None:
        at.session_state["model_spec"] = spec
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


@pytest.fixture
def open_page():
    """run_page as a fixture: open_page("pages/attention.py", spec) -> AppTest after the first run."""
    return run_page


@pytest.fixture(scope="session")
def tiny_spec(tmp_path_factory) -> ModelSpec:
    """A tiny random ALBERT (3 layers × 4 heads) as a local-folder model source."""
    return ModelSpec("local", str(save_random_albert(tmp_path_factory.mktemp("app_tiny"))), "cpu")


@pytest.fixture(scope="session")
def grouped_spec(tmp_path_factory) -> ModelSpec:
    """A random ALBERT with 2 hidden groups of 2 inner layers."""
    folder = save_random_albert(tmp_path_factory.mktemp("app_grouped"), num_hidden_layers=4, num_hidden_groups=2,
                                inner_group_num=2)
    return ModelSpec("local", str(folder), "cpu")


def _decode(value):
    """Plotly 7 writes numpy arrays as {'dtype', 'bdata'(base64), 'shape'}: turn them back into arrays."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return array.reshape([int(n) for n in str(shape).split(",")]) if shape else array
    if isinstance(value, dict):
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def chart_spec(at: AppTest, index: int = 0) -> dict:
    """The plotly figure of the index-th chart on the page, arrays decoded."""
    return _decode(json.loads(at.get("plotly_chart")[index].proto.spec))


@pytest.fixture
def plotly_chart():
    """chart_spec as a fixture: plotly_chart(at, index) -> figure dict with numpy arrays."""
    return chart_spec
