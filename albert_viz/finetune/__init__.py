"""Fine-tuning ALBERT on a small labelled CSV: validation, a Trainer job with progress, runners, export, CLI.

May import: model, assets. Never analysis, figures, teaching, ui or streamlit.
"""
