"""The data layer: every table the app shares between sessions and servers, on SQLAlchemy Core.

SQLite (WAL, `<ALBERT_VIZ_DATA>/jobs.sqlite3`) when nothing is configured; PostgreSQL when
ALBERT_VIZ_DATABASE_URL=postgresql+psycopg://... is set, so several app servers share one state.
engine.py opens it (clear messages, passwords never shown), schema.py holds the tables, migrations.py
versions them, jobs.py holds the job rows, the servers and the training slots counted across servers.

May import: assets, model. Never finetune, analysis, figures, teaching, ui or streamlit.
"""
