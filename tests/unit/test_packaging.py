"""pyproject.toml and requirements.txt name the same runtime pins, so `pip install .` and `make` cannot drift."""
import tomllib
from pathlib import Path

from albert_viz import cli

ROOT = Path(__file__).resolve().parents[2]


def requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("-r")]


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_pyproject_pins_exactly_the_runtime_requirements():
    assert sorted(project()["dependencies"]) == sorted(requirement_lines(ROOT / "requirements.txt"))


def test_the_cluster_extra_pins_what_requirements_cluster_adds():
    assert project()["optional-dependencies"]["cluster"] == requirement_lines(ROOT / "requirements-cluster.txt")


def test_the_console_command_is_albert_viz():
    assert project()["scripts"] == {"albert-viz": "albert_viz.cli:main"}


def test_serve_applies_the_apps_streamlit_settings_and_lets_the_user_override_them():
    command = cli.serve_command(8600, ["--server.maxUploadSize=10"])
    assert command[1:4] == ["-m", "streamlit", "run"] and Path(command[4]).name == "app.py"
    assert "--server.enableAgentApi=false" in command and "--server.fileWatcherType=none" in command
    assert command.index("--server.maxUploadSize=50") < command.index("--server.maxUploadSize=10")


def test_an_unknown_option_outside_serve_is_refused(capsys):
    import pytest

    with pytest.raises(SystemExit):
        cli.main(["finetune", "--csv", "x.csv", "--out", "o", "--no-such-option"])
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err
