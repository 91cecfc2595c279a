"""A real PostgreSQL server for the tests: initdb into a temporary folder, loopback only, a free port.

PostgreSQL refuses to run as root, so under root the server runs as `nobody` (runuser). Local socket
connections are trusted; TCP ones (the app's) need the password, so a wrong password is really refused.
`make test` installs the server first (scripts/ensure_postgres.sh); a missing one fails, never skips.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

PASSWORD = "s3cret-Pw-for-tests"
START_S = 60


def pg_bin() -> Path:
    """The folder with initdb and pg_ctl: ALBERT_VIZ_PG_BIN, Debian's newest, or the PATH's."""
    if os.environ.get("ALBERT_VIZ_PG_BIN"):
        return Path(os.environ["ALBERT_VIZ_PG_BIN"])
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    found = debian[-1] if debian else shutil.which("initdb")
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run scripts/ensure_postgres.sh (make test does).")
    return Path(found).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    folder: Path
    port: int
    as_user: list[str]

    def url(self, database: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql+psycopg://postgres:{password}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        return self.url(name)

    def pg_ctl(self, *args: str) -> None:
        subprocess.run([*self.as_user, str(pg_bin() / "pg_ctl"), "-D", str(self.folder / "data"), *args],
                       check=True, capture_output=True, timeout=START_S)

    def start(self) -> None:
        self.pg_ctl("-w", "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
                    "-l", str(self.folder / "log"), "start")

    def stop(self) -> None:
        self.pg_ctl("-w", "-m", "fast", "stop")


def start_postgres() -> PostgresServer:
    """initdb a fresh cluster into a temporary folder and start it; the caller stops it."""
    folder = Path(tempfile.mkdtemp(prefix="albert_viz_pg_"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        as_user = ["runuser", "-u", "nobody", "--"]
    (folder / "pw").write_text(PASSWORD)
    if as_user:
        os.chown(folder / "pw", pwd.getpwnam("nobody").pw_uid, -1)
    subprocess.run([*as_user, str(pg_bin() / "initdb"), "-D", str(folder / "data"), "-U", "postgres",
                    "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={folder / 'pw'}"],
                   check=True, capture_output=True, timeout=START_S)
    server = PostgresServer(folder, free_port(), as_user)
    server.start()
    deadline = time.monotonic() + START_S
    while True:
        try:
            sa.create_engine(server.url()).connect().close()
            return server
        except sa.exc.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def remove(server: PostgresServer) -> None:
    try:
        server.stop()
    finally:
        shutil.rmtree(server.folder, ignore_errors=True)
