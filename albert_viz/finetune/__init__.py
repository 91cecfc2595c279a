"""Fine-tuning ALBERT on a small labelled CSV: validation, a Trainer job with progress, runners, export, CLI.

May import: model, assets, store (the data layer its job records live in).
Never analysis, figures, teaching, ui or streamlit.
"""
