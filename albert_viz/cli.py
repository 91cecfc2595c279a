"""`albert-viz <command>` (or `python -m albert_viz <command>`): serve the app, fine-tune, pretrain.

    albert-viz serve [--port N] [streamlit options]   the app on the bundled model, from wherever it is installed
    albert-viz finetune --csv FILE --out DIR ...       the page's fine-tuning job from the command line
    albert-viz pretrain [options]                      rebuild the bundled ALBERT-tiny (needs requirements-pretrain.txt)
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from albert_viz.assets import APP_DIR

APP_SCRIPT = APP_DIR / "app.py"
APP_SETTINGS = APP_DIR / ".streamlit" / "config.toml"


def settings_flags(config: Path = APP_SETTINGS) -> list[str]:
    """The app's .streamlit/config.toml as `streamlit run` flags: Streamlit reads that file only from the current
    directory, and `serve` must apply it wherever it is started (upload limit, no file watcher, no agent API...)."""
    if not config.is_file():
        return []
    flags = []
    for section, options in tomllib.loads(config.read_text(encoding="utf-8")).items():
        for name, value in options.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            flags.append(f"--{section}.{name}={text}")
    return flags


def serve_command(port: int, streamlit_options: list[str]) -> list[str]:
    """The `streamlit run` command line of the installed app; the user's own options come last and win."""
    return [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT), f"--server.port={port}",
            *settings_flags(), *streamlit_options]


def serve(args: argparse.Namespace) -> int:
    command = serve_command(args.port, args.streamlit_options)
    if not APP_SCRIPT.is_file():
        print(f"albert-viz: the app is missing from this installation ({APP_SCRIPT}); reinstall the package.",
              file=sys.stderr)
        return 2
    if os.name == "posix":  # become the server: Ctrl-C and a service manager's signals reach Streamlit itself
        os.execv(sys.executable, command)
    return subprocess.call(command)


def finetune(args: argparse.Namespace) -> int:
    from albert_viz.finetune import cli as finetune_cli
    from albert_viz.model import runtime

    runtime.start_up(role="cli")  # no web server here: the job's process may use every core
    return finetune_cli.run(args)


def pretrain(args: argparse.Namespace) -> int:
    try:  # build-time code whose teacher package only requirements-pretrain.txt installs
        from albert_viz.pretrain.__main__ import parse_config
        from albert_viz.pretrain.pipeline import run
    except ImportError as error:
        print(f"albert-viz pretrain needs the build-time packages: pip install -r requirements-pretrain.txt ({error})",
              file=sys.stderr)
        return 2
    run(parse_config(args.pretrain_options, prog="albert-viz pretrain"))
    return 0


def build_parser(prog: str = "albert-viz") -> argparse.ArgumentParser:
    from albert_viz.finetune import cli as finetune_cli

    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="{serve,finetune,pretrain}")
    served = commands.add_parser("serve", help="run the web app (Streamlit) on the bundled model",
                                 description="Run the web app from the installed package. Options after --port that "
                                             "albert-viz does not know go to `streamlit run` (e.g. "
                                             "--server.address=127.0.0.1, --server.headless=true).")
    served.add_argument("--port", type=int, default=8501, help="port to listen on (default 8501)")
    served.set_defaults(handler=serve)
    tuned = commands.add_parser("finetune", help="fine-tune ALBERT on a labelled CSV", description=finetune_cli.__doc__)
    finetune_cli.add_arguments(tuned)
    tuned.set_defaults(handler=finetune)
    built = commands.add_parser("pretrain", help="rebuild the bundled ALBERT-tiny (about 90 minutes on 2 cores)",
                                add_help=False, description="albert-viz pretrain --help lists the options.")
    built.add_argument("pretrain_options", nargs=argparse.REMAINDER)
    built.set_defaults(handler=pretrain)
    return parser


def main(argv: list[str] | None = None, prog: str = "albert-viz") -> int:
    parser = build_parser(prog)
    args, unknown = parser.parse_known_args(argv)
    if args.command == "serve":
        args.streamlit_options = unknown
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
