"""Home lists every page the app has, from the list the navigation itself is built from, and says where to begin."""
from albert_viz.teaching import lessons, tour


def page_links(at) -> list:
    return [link.proto for link in at.get("page_link")]


def test_home_links_every_page_of_the_navigation(open_page):
    at = open_page()
    assert not at.exception
    main_links = [link for link in page_links(at) if link.label.startswith("**")]  # the sidebar's are plain titles
    assert [link.label.split("**")[1] for link in main_links] == [entry.title for entry in tour.PAGES[1:]]
    sidebar = [link.label for link in page_links(at) if not link.label.startswith("**")]
    assert [entry.title for entry in tour.PAGES] == [label for label in sidebar if label in
                                                     {entry.title for entry in tour.PAGES}]


def test_the_navigation_is_built_from_the_same_list():
    source = open("app.py", encoding="utf-8").read()
    assert "tour.PAGES" in source and "st.Page(\"pages/" not in source


def test_home_says_where_a_first_visit_should_begin_and_links_to_that_lesson(open_page):
    at = open_page()
    first = lessons.first_lesson()
    advice = next(markdown.value for markdown in at.markdown if markdown.value.startswith("**New here?"))
    assert first.title in advice and f"{len(first.steps)} short screens" in advice
    start = next(link for link in page_links(at) if link.label == "Start the lesson")
    assert start.page == "present"  # the url path of pages/present.py
    assert f"lesson={first.name}" in start.query_string and "step=1" in start.query_string
