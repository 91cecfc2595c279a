"""`python -m albert_viz <command>`: the same commands as `albert-viz` (albert_viz/cli.py)."""
import sys

from albert_viz.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m albert_viz"))
