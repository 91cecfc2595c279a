"""Start N app servers on consecutive ports against one database, to try several servers on one machine.

    make servers N=2                      # ports 8501, 8502; a throwaway PostgreSQL if none is configured
    ALBERT_VIZ_DATABASE_URL=postgresql+psycopg://albert:pw@db:5432/albert_viz make servers N=4 PORT=8601

Without ALBERT_VIZ_DATABASE_URL (or --database-url) it starts a PostgreSQL of its own in a temporary folder
(as the test suite does; stopped and removed on exit), since SQLite is one machine's file, not a server.
Every server uses the same ALBERT_VIZ_DATA folder for finished models. Put a reverse proxy with sticky
sessions in front (README: "Several app servers"); Ctrl-C stops them all.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from albert_viz.cli import serve_command  # noqa: E402
from albert_viz.store.engine import URL_VARIABLE, data_dir, shown_url  # noqa: E402


@contextlib.contextmanager
def database(url: str | None):
    """The URL to use: the one given, or a throwaway local PostgreSQL's."""
    if url:
        yield url
        return
    from tests.postgres import remove, start_postgres

    print("No database configured: starting a throwaway PostgreSQL for these servers...", flush=True)
    server = start_postgres()
    try:
        yield server.new_database()
    finally:
        remove(server)


def wait_healthy(port: int, process: subprocess.Popen, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        time.sleep(0.5)
    raise SystemExit(f"the server on port {port} did not start (exit code {process.poll()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--servers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8501, help="the first server's port; the others follow")
    parser.add_argument("--database-url", default=os.environ.get(URL_VARIABLE, ""))
    parser.add_argument("--address", default="127.0.0.1", help="where they listen (the proxy's side)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a service manager's stop cleans up like Ctrl-C
    with database(args.database_url) as url:
        env = dict(os.environ, **{URL_VARIABLE: url, "ALBERT_VIZ_DATA": str(data_dir())})
        servers = {}
        try:
            for port in range(args.port, args.port + args.servers):
                command = serve_command(port, ["--server.headless=true", f"--server.address={args.address}"])
                servers[port] = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.DEVNULL)
            for port, process in servers.items():
                wait_healthy(port, process)
            print(f"\n{args.servers} app servers on {shown_url(url)}, finished models in {data_dir()}:")
            for port in servers:
                print(f"  http://{args.address}:{port}")
            print("Ctrl-C stops them.", flush=True)
            while all(process.poll() is None for process in servers.values()):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            for process in servers.values():
                process.terminate()
            for process in servers.values():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(15)


if __name__ == "__main__":
    main()
