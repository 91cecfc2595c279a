"""The library stays pure and its rooms stay in order: only albert_viz/ui imports streamlit, and arrows point down
the data flow (model -> analysis -> figures -> ui), never back up."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[2] / "albert_viz"

# What each room may import from the library besides itself. A room missing here is a new room: name its place.
MAY_IMPORT = {
    "assets": set(),
    "model": {"assets"},
    "store": {"assets", "model"},  # the data layer: every table sessions and servers share
    "finetune": {"assets", "model", "store"},
    "pretrain": {"assets"},
    "analysis": {"assets", "model", "finetune"},
    "teaching": {"assets", "model", "analysis", "store"},  # store: a live class's tables
    "figures": {"assets", "model", "finetune", "analysis"},
    "ui": {"assets", "model", "finetune", "analysis", "teaching", "figures"},
    # the command line sits on top: it starts the app (as a subprocess), fine-tuning and pretraining
    "cli": {"assets", "model", "finetune", "pretrain"},
    "__main__": {"cli"},
    "__init__": set(),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "albert_viz":  # from albert_viz import model  ->  albert_viz.model
                names.update(f"albert_viz.{alias.name}" for alias in node.names)
    return names


def room_of(path: Path) -> str:
    """The room a library file lives in: its first folder under albert_viz/, or its own name at the top."""
    parts = path.relative_to(LIBRARY).parts
    return parts[0] if len(parts) > 1 else path.stem


def rooms_imported(path: Path) -> set[str]:
    return {name.split(".")[1] for name in imported_modules(path) if name.startswith("albert_viz.")}


def library_files() -> list[Path]:
    return sorted(LIBRARY.rglob("*.py"))


def test_every_room_has_a_place_in_the_order():
    assert {room_of(path) for path in library_files()} <= set(MAY_IMPORT)


def test_every_room_says_what_it_holds_and_what_it_may_import():
    for package in (path for path in LIBRARY.iterdir() if (path / "__init__.py").exists()):
        docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8"))) or ""
        assert "May import" in docstring, package.name


@pytest.mark.parametrize("path", library_files(), ids=lambda path: str(path.relative_to(LIBRARY)))
def test_no_module_imports_a_room_above_its_own(path):
    room = room_of(path)
    upward = rooms_imported(path) - MAY_IMPORT[room] - {room}
    assert upward == set(), f"{path.relative_to(LIBRARY)} ({room}) imports {sorted(upward)}"


def test_the_rule_catches_an_upward_import(tmp_path):
    """The check itself: analysis importing figures is refused (the rule is not vacuous)."""
    fake = LIBRARY / "analysis" / "example.py"
    source = tmp_path / "example.py"
    source.write_text("from albert_viz.figures import attention_maps\nfrom albert_viz import teaching\n")
    assert rooms_imported(source) - MAY_IMPORT[room_of(fake)] == {"figures", "teaching"}


def test_no_library_module_outside_ui_imports_streamlit():
    offenders = [
        str(path.relative_to(LIBRARY))
        for path in library_files()
        if room_of(path) != "ui" and any(name.split(".")[0] == "streamlit" for name in imported_modules(path))
    ]
    assert offenders == []


def test_pages_and_app_reach_the_library_but_the_library_never_reaches_them():
    for path in library_files():
        assert not {name for name in imported_modules(path) if name.split(".")[0] in ("pages", "app")}, path


def test_importing_the_library_does_not_load_streamlit():
    modules = sorted(
        ".".join(path.relative_to(LIBRARY.parent).with_suffix("").parts)
        for path in library_files()
        # pretrain/ is build-time code whose extra packages (the teacher) CI does not install
        if not {"ui", "pretrain"} & set(path.relative_to(LIBRARY).parts) and path.name != "__main__.py"
    )
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('streamlit' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=LIBRARY.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
