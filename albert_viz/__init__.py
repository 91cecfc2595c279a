"""albert_viz: look inside a real ALBERT. Pure Python + torch; never imports streamlit."""
