"""Pure maths on captures and models: attention, rollout, norm-weighted, attribution, layers, layer norm, anatomy.

May import: model, finetune (datasets for probing), assets. Never figures, teaching, ui or streamlit.
"""
