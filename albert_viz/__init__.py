"""albert_viz: look inside a real ALBERT. Pure Python + torch; never imports streamlit (only ui/ does).

Rooms, along the data flow: model -> analysis -> figures -> ui, with finetune and pretrain beside model and
teaching beside figures. Each room's __init__ says what it may import; tests/unit/test_library_boundaries.py
holds the rule.
"""
