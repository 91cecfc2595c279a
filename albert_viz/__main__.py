"""`python -m albert_viz <command>`: command-line entry points of the library."""
from __future__ import annotations

import argparse
import sys

from albert_viz import runtime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m albert_viz")
    commands = parser.add_subparsers(dest="command", required=True)
    from albert_viz.finetune import cli as finetune_cli

    finetune_cli.add_arguments(commands.add_parser("finetune", help="fine-tune ALBERT on a labelled CSV",
                                                   description=finetune_cli.__doc__))
    args = parser.parse_args(argv)
    runtime.start_up(role="job")  # this process trains: one slot's share of the cores
    if args.command == "finetune":
        return finetune_cli.run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
