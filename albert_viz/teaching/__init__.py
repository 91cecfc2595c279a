"""What the app teaches with: lessons, quiz cards, live classes, the glossary, the article's claims and their
corrections.

May import: analysis, model, assets, store (a live class keeps its state in the data layer). Never figures, ui or
streamlit.
"""
