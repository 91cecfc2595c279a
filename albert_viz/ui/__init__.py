"""The one library package that imports streamlit: cached resources, session keys, shared widgets."""
