"""The app's pages in one list: app.py builds its navigation from it, Home lists it, lessons may link to it.

Pure data, no imports of the library: app.py reads it before anything heavy loads.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageEntry:
    """One page: its file, its name in the menu, its icon, and what a visitor finds there."""

    path: str
    title: str
    icon: str
    what: str


PAGES = (
    PageEntry("pages/home.py", "Home", ":material/home:", "what this app is, and where to begin"),
    PageEntry("pages/attention.py", "Attention", ":material/visibility:",
              "what every head of every layer looks at, bertviz views, your sentence as the model's pieces"),
    PageEntry("pages/layer_norm.py", "Layer norm", ":material/straighten:",
              "the numbers at every place ALBERT normalises, and one worked by hand"),
    PageEntry("pages/anatomy.py", "Anatomy", ":material/account_tree:",
              "where the parameters are: factorised embeddings, one shared layer, SOP"),
    PageEntry("pages/worked_examples.py", "Worked examples", ":material/edit_note:",
              "“I love programming” by hand, then checked against the model"),
    PageEntry("pages/finetune.py", "Fine-tuning", ":material/school:",
              "teach the model your own labelled sentences and see what changed"),
    PageEntry("pages/explain.py", "Explain & compare", ":material/psychology:",
              "which words a prediction relied on, what each layer knows, two models side by side"),
    PageEntry("pages/present.py", "Lessons", ":material/co_present:",
              "step-by-step lessons for a projector, one screen at a time"),
)
HOME = PAGES[0]

# Where a first visit should begin: the lesson that goes from the whiteboard to the real model.
FIRST_LESSON = "self_attention"


def page(path: str) -> PageEntry:
    """The entry for a page file (KeyError for a page the app does not have)."""
    for entry in PAGES:
        if entry.path == path:
            return entry
    raise KeyError(path)



def first_visit_advice(lesson_title: str | None, steps: int = 0) -> str:
    """Where a newcomer should begin, in one paragraph (markdown); no title when the lesson cannot be read."""
    then = "Then open **Attention** and type a sentence of your own."
    if lesson_title is None:
        return f"**New here? Begin with Worked examples**: the article's example by hand, then in the model. {then}"
    return (f"**New here? Begin with the lesson “{lesson_title}”**: {steps} short screens, one idea each, "
            f"from numbers small enough for a whiteboard to the real model's heads. {then}")
