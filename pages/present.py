"""Lessons: pick a lesson, then present it one step per screen (the step lives in the URL)."""
import streamlit as st

from albert_viz.ui import presenter

lesson = presenter.lesson_from_url()
if lesson is None:
    st.title("Lessons")
    st.caption("A lesson steps through the app one screen at a time, in large type, for a projector. "
               "Next and previous: the buttons or the ← → keys. The address bar always shows the step, "
               "so a link opens exactly this screen.")
    presenter.lesson_list()
else:
    presenter.present(lesson)
