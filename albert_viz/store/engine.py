"""Open the app's database from its URL: SQLite under ALBERT_VIZ_DATA by default, PostgreSQL when configured.

Every failure a user can cause (server down, wrong password, unknown database) becomes DatabaseUnavailable,
whose message names ALBERT_VIZ_DATABASE_URL and shows the URL with its password masked.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Callable, TypeVar

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine, make_url

URL_VARIABLE = "ALBERT_VIZ_DATABASE_URL"
DATA_VARIABLE = "ALBERT_VIZ_DATA"
DEFAULT_DATA_DIR = Path.home() / ".cache" / "albert_viz"
SQLITE_FILE = "jobs.sqlite3"  # today's store's file name: an old store is this database at schema version 1
CONNECT_TIMEOUT_S = 5  # a PostgreSQL that does not answer fails the page in seconds, not minutes
SQLITE_BUSY_S = 30.0

T = TypeVar("T")


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or refused us; the message is for the page (no password in it)."""


def data_dir() -> Path:
    """ALBERT_VIZ_DATA, or ~/.cache/albert_viz; created on first use."""
    folder = Path(os.environ.get(DATA_VARIABLE) or DEFAULT_DATA_DIR).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def database_url(folder: str | Path | None = None) -> str:
    """ALBERT_VIZ_DATABASE_URL if set, else the SQLite file in `folder` (or the data folder)."""
    configured = os.environ.get(URL_VARIABLE, "").strip()
    if configured:
        return configured
    folder = Path(folder) if folder else data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / SQLITE_FILE}"


def shown_url(url: str | sa.URL) -> str:
    """The URL as a page may show it: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "(not a database URL)"


def open_engine(url: str) -> Engine:
    """An engine for this URL, checked with one connection; DatabaseUnavailable with a clear message if not."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise DatabaseUnavailable(f"{URL_VARIABLE} is not a database URL. Expected e.g. "
                                  "postgresql+psycopg://user:password@host:5432/albert_viz.") from None
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed)
    elif parsed.get_backend_name() == "postgresql":
        engine = sa.create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10,
                                  connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    else:
        raise DatabaseUnavailable(f"{URL_VARIABLE} names a {parsed.get_backend_name()} database; the app "
                                  "supports postgresql+psycopg://... (or nothing set, for SQLite).")
    guarded(lambda: engine.connect().close(), engine.url)()
    return engine


def _sqlite_engine(url: sa.URL) -> Engine:
    """SQLite in WAL mode (readers never wait for the writer), with transactions SQLAlchemy controls."""
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_S, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # pysqlite's own BEGIN handling is off: ours below is used
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # a claim or a migration takes the write lock at once, so two servers never both read "free"
        immediate = connection.get_execution_options().get("write_lock")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def unavailable_message(error: Exception, url: str | sa.URL) -> str:
    """Why the database refused us, in words, with the URL's password masked (and never the password itself)."""
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0] if str(error).strip() else ""
    password = make_url(url).password if not isinstance(url, sa.URL) else url.password
    if password:
        reason = reason.replace(str(password), "***")
    return (f"The app's database at {shown_url(url)} cannot be used: {reason or type(error).__name__}. "
            f"Check {URL_VARIABLE} (host, port, user, password, database name) and that the database server "
            "is running; pages that need it will work again once it is back.")


def guarded(function: Callable[..., T], url: str | sa.URL) -> Callable[..., T]:
    """The same call, with a lost or refusing database turned into DatabaseUnavailable."""
    @functools.wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (exc.OperationalError, exc.InterfaceError) as error:
            raise DatabaseUnavailable(unavailable_message(error, url)) from None
    return call
