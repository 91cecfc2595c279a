"""Where the files the app ships live: `assets/` and the app beside the package in a checkout, inside it once installed.

A wheel carries `assets/` as `albert_viz/_assets/` and `app.py`, `pages/`, `.streamlit/` as `albert_viz/_app/`
(pyproject.toml's force-include), so the bundled model, lessons and samples come from the installed package
wherever the current directory is. This module imports nothing of the library: every room may use it.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_ROOT = PACKAGE_DIR.parent
INSTALLED = (PACKAGE_DIR / "_assets").is_dir()

ASSETS_DIR = PACKAGE_DIR / "_assets" if INSTALLED else CHECKOUT_ROOT / "assets"
APP_DIR = PACKAGE_DIR / "_app" if INSTALLED else CHECKOUT_ROOT  # app.py, pages/, .streamlit/config.toml

BUNDLED_MODEL_DIR = ASSETS_DIR / "models" / "albert-tiny"
LESSONS_DIR = ASSETS_DIR / "lessons"
DATASETS_DIR = ASSETS_DIR / "datasets"
VENDOR_DIR = ASSETS_DIR / "vendor"
ICON = ASSETS_DIR / "icon.png"
