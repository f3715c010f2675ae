"""A throwaway PostgreSQL server for the tests: its own data folder, 127.0.0.1 and a free port, stopped at the end.

It runs Debian's server binaries (/usr/lib/postgresql/VERSION/bin, from `make setup`'s apt-get install
postgresql) or any initdb on PATH. PostgreSQL refuses to run as root, so as root it runs as `nobody`.
Missing binaries skip the tests that need the server, except under CI=true, where they fail.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI

PASSWORD = "tuning-test-pw"  # scram-sha-256: the URL's password is really checked


@dataclass
class Server:
    """A running server: its URL template (database name left to fill) and how to stop it."""

    port: int
    data: Path
    bindir: Path
    user: str | None  # the account it runs as (None: this one)

    def url(self, database: str = "tuning", password: str = PASSWORD) -> str:
        """A SQLAlchemy URL with the psycopg2 driver -> str."""
        return f"postgresql+psycopg2://postgres:{password}@127.0.0.1:{self.port}/{database}"


def server_binaries() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres (the newest Debian version first), or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    on_path = shutil.which("initdb")
    for initdb in [*reversed(candidates), *([on_path] if on_path else [])]:
        folder = Path(initdb).parent
        if all(os.access(folder / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as(user: str | None) -> dict:
    """subprocess arguments that run a command as ``user`` (None: as this process)."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [], "env": {"PATH": "/usr/bin:/bin"}}


def start_server(bindir: Path) -> Server:
    """initdb a data folder in a new temporary folder, start the server on a free port and wait for it."""
    user = "nobody" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="tune-postgres-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    (root / "pw").write_text(PASSWORD + "\n")
    if user:
        os.chown(root / "pw", entry.pw_uid, entry.pw_gid)
    server = Server(free_port(), root / "data", bindir, user)
    run = dict(check=True, capture_output=True, text=True, timeout=120, cwd=root, **_as(user))
    subprocess.run(
        [bindir / "initdb", "-D", server.data, "-U", "postgres", "--pwfile", root / "pw", "--auth", "scram-sha-256"],
        **run,
    )
    options = f"-p {server.port} -c listen_addresses=127.0.0.1 -k {root} -c max_connections=200 -c fsync=off"
    try:
        subprocess.run(
            [bindir / "pg_ctl", "-D", server.data, "-l", root / "log", "-o", options, "-w", "-t", "60", "start"], **run
        )
    except subprocess.CalledProcessError as err:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {err.stderr or err.stdout}\n{log}") from None
    return server


def create_database(server: Server, name: str) -> None:
    import psycopg2

    connection = psycopg2.connect(host="127.0.0.1", port=server.port, user="postgres", password=PASSWORD)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    connection.close()


def stop_server(server: Server) -> None:
    """pg_ctl stop -m immediate; the postmaster killed if that fails; the temporary folder removed."""
    stopped = subprocess.run(
        [server.bindir / "pg_ctl", "-D", server.data, "-m", "immediate", "-w", "-t", "30", "stop"],
        capture_output=True,
        timeout=60,
        cwd=server.data.parent,
        **_as(server.user),
    )
    pid_file = server.data / "postmaster.pid"
    if stopped.returncode != 0 and pid_file.exists():
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        time.sleep(0.5)
    shutil.rmtree(server.data.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of the tests' own, for the whole session -> Server (skipped without one, failed in CI)."""
    bindir = server_binaries()
    if bindir is None:
        reason = "no PostgreSQL server binaries (initdb, pg_ctl, postgres); `make setup` as root installs them"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}: the multi-worker tuning tests must run in CI")
        pytest.skip(reason)
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        pytest.fail("psycopg2 is missing: it is one of the project's dependencies (pip install -e .)")
    server = start_server(bindir)
    try:
        create_database(server, "tuning")
        yield server
    finally:
        stop_server(server)
