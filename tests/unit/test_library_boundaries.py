"""The library stays pure: only albert_viz/ui may import streamlit."""
import ast
import subprocess
import sys
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[2] / "albert_viz"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_library_module_outside_ui_imports_streamlit():
    offenders = [
        str(path.relative_to(LIBRARY))
        for path in LIBRARY.rglob("*.py")
        if "ui" not in path.relative_to(LIBRARY).parts
        and any(name.split(".")[0] == "streamlit" for name in imported_modules(path))
    ]
    assert offenders == []


def test_importing_the_library_does_not_load_streamlit():
    modules = sorted(
        ".".join(path.relative_to(LIBRARY.parent).with_suffix("").parts)
        for path in LIBRARY.rglob("*.py")
        # pretrain/ is build-time code whose extra packages (the teacher) CI does not install
        if not {"ui", "pretrain"} & set(path.relative_to(LIBRARY).parts) and path.name != "__main__.py"
    )
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('streamlit' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=LIBRARY.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
