"""`python -m albert_viz.pretrain [--budget-minutes N] [--init-from FOLDER] [--peak-lr LR] [--sentence-weight W] [--objectives-only] [--widen-ffn N] [--bundle-dtype float16] [--no-extra-text]`: rebuild samples, corpus and the bundled ALBERT-tiny."""

import argparse
from pathlib import Path

from albert_viz.pretrain.pipeline import PipelineConfig, config_from_args, ffn_width, run


def _non_negative(text: str) -> float:
    """argparse type: a number >= 0, so a typo like `--sentence-weight -1` is refused with a clear message."""
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def parse_config(argv: list[str] | None = None, prog: str | None = None) -> PipelineConfig:
    """The pipeline configuration the command line asks for."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--budget-minutes", type=float, default=None, help="wall-clock training budget (default 90 on CPU, 15 on a GPU)")
    parser.add_argument("--run-dir", type=Path, default=None, help="checkpoints and metrics (default .pretrain/run)")
    parser.add_argument("--bundle-dir", type=Path, default=None, help="output folder (default assets/models/albert-tiny)")
    parser.add_argument("--init-from", type=Path, default=None,
                        help="keep training a saved ALBERT-tiny folder (e.g. assets/models/albert-tiny) instead of starting from the "
                             "teacher; give it its own --run-dir, since a checkpoint already there is resumed instead")
    parser.add_argument("--peak-lr", type=float, default=None,
                        help="peak learning rate (default 5e-4; a continued model keeps more of what it knows at a lower one)")
    parser.add_argument("--sentence-weight", type=_non_negative, default=None,
                        help="weight of the sentence-level term pointing [CLS] at the teacher's sentence embedding (default 0: off; "
                             "the bundle's last part, a continuation, used 10 -- from the teacher it slows MLM down)")
    parser.add_argument("--objectives-only", action="store_true",
                        help="ALBERT's own MLM and SOP only, no teacher in the loop (about 1.8x the steps per minute); "
                             "a finishing phase for a student already distilled (use with --init-from)")
    parser.add_argument("--widen-ffn", type=int, default=None, metavar="N",
                        help="grow the shared layer's feed-forward to N units before training, keeping what the model "
                             "computes (new units start silent); for --init-from")
    parser.add_argument("--bundle-dtype", choices=("float32", "float16"), default="float32",
                        help="precision of the saved weights (float16 halves the file; the app computes in float32)")
    parser.add_argument("--no-extra-text", action="store_true",
                        help="train on the four original sources only (no Python docs or WordNet; no apt-get needed)")
    args = parser.parse_args(argv)
    if args.objectives_only and args.sentence_weight:
        parser.error("--objectives-only leaves the teacher out, so it has no sentence-level term to weigh")
    if args.init_from is not None and not (args.init_from / "config.json").is_file():
        parser.error(f"--init-from {args.init_from}: no config.json there (give a folder saved by a previous run)")
    if args.widen_ffn is not None and args.widen_ffn <= (width := ffn_width(args.init_from)):
        parser.error(f"--widen-ffn must be more than the {width} feed-forward units the model already has")
    return config_from_args(args.budget_minutes, args.run_dir, args.bundle_dir, args.init_from, args.peak_lr,
                            extra_sources=not args.no_extra_text, sentence_weight=args.sentence_weight,
                            objectives_only=args.objectives_only, widen_ffn_to=args.widen_ffn,
                            bundle_dtype=args.bundle_dtype)


def main() -> None:
    """Parse the few options and run the pipeline."""
    run(parse_config())


if __name__ == "__main__":
    main()
