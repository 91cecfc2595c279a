"""albert_viz: look inside a real ALBERT (library; never imports streamlit)."""
