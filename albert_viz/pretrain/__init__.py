"""Build the bundled ALBERT-tiny: corpus from packaged text, distillation from a real teacher, MLM + SOP.

May import: assets only (a build tool beside the app). Never the app's rooms or streamlit.
"""
