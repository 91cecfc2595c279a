"""Lessons: small YAML files a teacher writes (no code) listing the steps to present, one view per step.

A lesson file looks like this (see assets/lessons/ for complete ones):

    title: Self-attention, from the board to the real model
    description: One sentence, every step of one head.
    steps:
      - title: The sentence as tokens
        view: tokens
        sentence: I love programming
        narration: ALBERT reads word pieces, with [CLS] in front and [SEP] at the end.
      - title: One head
        view: attention
        sentence: I love programming
        layer: 0
        head: 2
        narration: Row i is where token i looks.

A `quiz` step asks one Predict-then-reveal question (kind: attention | mask | order), built from the loaded model by
albert_viz.teaching.quiz.question_for_step.

Every problem in a file is reported with the line it is on, so a teacher can fix it in a text editor.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from albert_viz.assets import LESSONS_DIR
from albert_viz.teaching import tour

MAX_LESSON_BYTES = 200_000  # a lesson is a page of text; anything larger is not one
MAX_STEPS = 60
MAX_TEXT = 2_000  # characters in one narration, title or sentence

# The views a step can show, and the settings each one accepts (besides title and narration).
VIEWS: dict[str, dict[str, type]] = {
    "text": {},
    "tokens": {"sentence": str, "pair": str},
    "toy": {"preset": str, "show": str},
    "attention": {"sentence": str, "pair": str, "layer": int, "head": int, "map": str},
    "heads": {"sentence": str, "pair": str, "layer": int},
    "overview": {"sentence": str, "pair": str},
    "layernorm": {"sentence": str, "pair": str},
    "parameters": {"show": str},
    "sharing": {"sentence": str, "pair": str},
    "page": {"page": str, "label": str},
    "timeline": {},  # the fine-tuning job trained in this browser, step by step (its results' "Watch it learn")
    "quiz": {"kind": str, "sentence": str, "pair": str, "layer": int, "head": int, "word": str},
}
REQUIRED = {"tokens": ("sentence",), "attention": ("sentence",), "heads": ("sentence",), "overview": ("sentence",),
            "layernorm": ("sentence",), "sharing": ("sentence",), "page": ("page",), "quiz": ("kind",)}
TOY_PRESETS = ("article", "identity", "previous", "sep", "random")
TOY_SHOWS = ("scores", "scaled", "weights", "output")
ATTENTION_MAPS = ("head", "mean", "rollout", "norm")
PARAMETER_SHOWS = ("stack", "factorization")
# A `quiz` step asks one *Predict, then reveal* question, built from the loaded model when it is shown.
# Each kind takes its own settings: which ones it needs, and which it may have besides.
MASK = "[MASK]"
QUIZ_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "attention": (("sentence", "layer", "head"), ("pair", "word")),  # which token will `word` attend to most?
    "mask": (("sentence",), ()),  # what will the model put in the sentence's one [MASK]?
    "order": (("sentence", "pair"), ()),  # sentence = segment A, the true first; pair = segment B
}
PAGES = tuple(entry.path for entry in tour.PAGES)  # a `page` step may open any page the app has


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class LessonStep:
    """One screen of a lesson: a title, a few sentences to read out, and one view with its settings."""

    title: str
    narration: str
    view: str
    settings: dict = field(default_factory=dict, hash=False)
    line: int = 0  # where the step starts in its file (1-based), for messages

    def get(self, name: str, default=None):
        return self.settings.get(name, default)


@dataclass(frozen=True)
class Lesson:
    """A titled list of steps, read from one file."""

    name: str  # the file name without .yaml: what the URL carries
    title: str
    description: str
    steps: tuple[LessonStep, ...]


def parse_lesson(text: str, name: str = "lesson") -> Lesson:
    """Parse and check a lesson's YAML text; LessonError names the line of the first problem."""
    if len(text.encode("utf-8")) > MAX_LESSON_BYTES:
        raise LessonError(f"{name}: the file is larger than {MAX_LESSON_BYTES // 1000} kB; a lesson is a page of text.")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)  # nodes keep their line numbers
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "somewhere"
        raise LessonError(f"{name}, {where}: this is not valid YAML ({getattr(error, 'problem', None) or error}).")
    if not isinstance(root, yaml.MappingNode):
        raise LessonError(f"{name}, line 1: a lesson starts with `title:`, `description:` and `steps:`.")
    top = _mapping(root, name)
    steps_node = top.get("steps")
    if not isinstance(steps_node, yaml.SequenceNode) or not steps_node.value:
        line = steps_node.start_mark.line + 1 if steps_node is not None else root.start_mark.line + 1
        raise LessonError(f"{name}, line {line}: `steps:` must be a list of steps, each starting with `- title:`.")
    if len(steps_node.value) > MAX_STEPS:
        raise LessonError(f"{name}, line {steps_node.start_mark.line + 1}: at most {MAX_STEPS} steps in one lesson.")
    steps = tuple(_step(node, number, name) for number, node in enumerate(steps_node.value, start=1))
    return Lesson(name=name, title=_text(top.get("title"), "title", name, root, required=True),
                  description=_text(top.get("description"), "description", name, root), steps=steps)


def _mapping(node: yaml.MappingNode, name: str) -> dict[str, yaml.Node]:
    """Keys of a mapping node -> value nodes; a repeated key is an error (YAML would keep the last silently)."""
    values: dict[str, yaml.Node] = {}
    for key, value in node.value:
        if key.value in values:
            raise LessonError(f"{name}, line {key.start_mark.line + 1}: `{key.value}` is given twice.")
        values[key.value] = value
    return values


def _text(node: yaml.Node | None, key: str, name: str, parent: yaml.Node, required: bool = False) -> str:
    if node is None:
        if required:
            raise LessonError(f"{name}, line {parent.start_mark.line + 1}: `{key}:` is missing.")
        return ""
    if not isinstance(node, yaml.ScalarNode):
        raise LessonError(f"{name}, line {node.start_mark.line + 1}: `{key}` must be text.")
    if len(node.value) > MAX_TEXT:
        raise LessonError(f"{name}, line {node.start_mark.line + 1}: `{key}` is longer than {MAX_TEXT} characters.")
    return node.value.strip()


def _step(node: yaml.Node, number: int, name: str) -> LessonStep:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        raise LessonError(f"{name}, line {line}: step {number} must be a set of `key: value` lines.")
    fields = _mapping(node, name)
    view_node = fields.pop("view", None)
    view = _text(view_node, "view", name, node) or "text"
    if view not in VIEWS:
        raise LessonError(f"{name}, line {view_node.start_mark.line + 1}: step {number} has view `{view}`; "
                          f"use one of: {', '.join(VIEWS)}.")
    title = _text(fields.pop("title", None), "title", name, node, required=True)
    narration = _text(fields.pop("narration", None), "narration", name, node)
    settings = {key: _setting(view, key, value, number, name) for key, value in fields.items()}
    for key in REQUIRED.get(view, ()):
        if key not in settings:
            raise LessonError(f"{name}, line {line}: step {number} (view `{view}`) needs `{key}:`.")
    lines = {key: value.start_mark.line + 1 for key, value in fields.items()}
    _check_choices(view, settings, lines, number, name)
    if view == "quiz":
        _check_quiz(settings, lines, line, number, name)
    return LessonStep(title=title, narration=narration, view=view, settings=settings, line=line)


def _setting(view: str, key: str, node: yaml.Node, number: int, name: str):
    line = node.start_mark.line + 1
    kind = VIEWS[view].get(key)
    if kind is None:
        allowed = ", ".join(("title", "narration", "view", *VIEWS[view]))
        raise LessonError(f"{name}, line {line}: step {number} does not know `{key}`; view `{view}` takes: {allowed}.")
    if not isinstance(node, yaml.ScalarNode):
        raise LessonError(f"{name}, line {line}: `{key}` must be a single value.")
    if kind is int:
        try:
            value = int(node.value)
        except ValueError:
            raise LessonError(f"{name}, line {line}: `{key}` must be a whole number, not {node.value[:40]!r}.")
        if value < 0:
            raise LessonError(f"{name}, line {line}: `{key}` counts from 0; it cannot be negative.")
        return value
    if len(node.value) > MAX_TEXT:
        raise LessonError(f"{name}, line {line}: `{key}` is longer than {MAX_TEXT} characters.")
    return node.value.strip()


def _check_choices(view: str, settings: dict, lines: dict[str, int], number: int, name: str) -> None:
    choices = {("toy", "preset"): TOY_PRESETS, ("toy", "show"): TOY_SHOWS, ("attention", "map"): ATTENTION_MAPS,
               ("page", "page"): PAGES, ("parameters", "show"): PARAMETER_SHOWS, ("quiz", "kind"): tuple(QUIZ_KINDS)}
    for (for_view, key), allowed in choices.items():
        if view == for_view and key in settings and settings[key] not in allowed:
            raise LessonError(f"{name}, line {lines[key]}: step {number} has {key} `{settings[key]}`; "
                              f"use one of: {', '.join(allowed)}.")


def _check_quiz(settings: dict, lines: dict[str, int], line: int, number: int, name: str) -> None:
    """A question's settings fit its kind: what it needs is there, nothing meant for another kind, one [MASK]."""
    kind = settings["kind"]
    needed, optional = QUIZ_KINDS[kind]
    for key in needed:
        if key not in settings:
            raise LessonError(f"{name}, line {line}: step {number} ({_a(kind)} `{kind}` question) needs `{key}:`.")
    for key in settings:
        if key not in ("kind", *needed, *optional):
            allowed = ", ".join(("kind", *needed, *optional))
            raise LessonError(f"{name}, line {lines[key]}: step {number} is {_a(kind)} `{kind}` question, which "
                              f"does not use `{key}`; it takes: {allowed}.")
    if kind == "mask" and settings["sentence"].count(MASK) != 1:
        found = "has none" if MASK not in settings["sentence"] else "has more than one"
        raise LessonError(f"{name}, line {lines['sentence']}: step {number} is a `mask` question: write {MASK} "
                          f"exactly once in its sentence, where the hidden word goes (this one {found}).")


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def load_lesson(path: str | Path) -> Lesson:
    """Read one lesson file; LessonError for a file that cannot be read or parsed.

    Parsed once per version of the file (its modification time and size): every page run of a live class's
    30 followers lists the lessons, and reading and parsing seven YAML files was most of such a run's time.
    An edited file is read again on the next page run, as the lesson list promises."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as error:
        raise LessonError(f"{path.name}: cannot be read as text ({type(error).__name__}).")
    return _parsed_lesson(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=128)
def _parsed_lesson(path: str, modified_ns: int, size: int) -> Lesson:
    """The lesson in a file as it was at (modified_ns, size): the cache key, so a changed file is a new entry."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LessonError(f"{Path(path).name}: cannot be read as text ({type(error).__name__}).")
    return parse_lesson(text, Path(path).stem)


def available_lessons(folder: str | Path = LESSONS_DIR) -> tuple[list[Lesson], list[str]]:
    """Every lesson in a folder, by file name, and a message for each file that has a problem."""
    lessons, problems = [], []
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            lessons.append(load_lesson(path))
        except LessonError as error:
            problems.append(str(error))
    return lessons, problems


def step_index(requested: str | None, lesson: Lesson) -> int:
    """The 0-based step for a 1-based step number from a URL; anything unreadable or out of range is clamped."""
    try:
        number = int(requested or 1)
    except ValueError:
        number = 1
    return min(max(number, 1), len(lesson.steps)) - 1


def first_lesson(folder: str | Path = LESSONS_DIR) -> Lesson | None:
    """The lesson a first visit should begin with (tour.FIRST_LESSON), or None when its file is missing or broken."""
    found, _ = available_lessons(folder)
    return next((lesson for lesson in found if lesson.name == tour.FIRST_LESSON), None)
