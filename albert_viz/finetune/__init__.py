"""Fine-tuning ALBERT on a small labelled CSV: validation, a Trainer job with live progress, metrics, export, CLI."""
