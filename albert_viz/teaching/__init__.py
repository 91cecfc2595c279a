"""What the app teaches with: lessons, quiz cards, the glossary, the article's claims and their corrections.

May import: analysis, model, assets. Never figures, ui or streamlit.
"""
