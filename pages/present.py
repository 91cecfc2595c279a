"""Lessons: pick a lesson, then present it one step per screen (the step lives in the URL); or a live class."""
import streamlit as st

from albert_viz.ui import live_class_panel, presenter

code = live_class_panel.class_in_url()
lesson = presenter.lesson_from_url() if code is None else None
if code is not None:  # ?class=CODE: the teacher's class screen in the teacher's tab, a student's everywhere else
    live_class_panel.class_page(code)
elif lesson is None:
    st.title("Lessons")
    st.caption("A lesson steps through the app one screen at a time, in large type, for a projector. "
               "Next and previous: the buttons or the ← → keys. The address bar always shows the step, "
               "so a link opens exactly this screen.")
    live_class_panel.join_by_code()
    presenter.lesson_list()
else:
    presenter.present(lesson)
    live_class_panel.open_class_box(lesson)
