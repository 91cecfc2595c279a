"""Every plotly builder (data in, go.Figure out), one module per subject, `common` for what they share; exports.

May import: analysis, finetune, model, assets. Never teaching, ui or streamlit.
"""
