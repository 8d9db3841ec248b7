"""A private PostgreSQL server for the test session, started and stopped by the tests.

Uses the Debian ``postgresql`` package's binaries (``.ci/run`` installs it). As root, the server
runs as the ``postgres`` user, since PostgreSQL refuses to run as root. ``PORCH_TEST_PG_URL``
points the tests at an existing server instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    def __init__(self) -> None:
        self.url = ""
        self._dir: str | None = None
        self._as: list[str] = []

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self._as, *cmd], check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        existing = os.environ.get("PORCH_TEST_PG_URL")
        if existing:
            self.url = existing
            return existing
        initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self._dir = tempfile.mkdtemp(prefix="porch-pg-")
        if os.geteuid() == 0:
            shutil.chown(self._dir, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        data = str(Path(self._dir) / "data")
        port = free_port()
        self._run(
            initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"
        )
        conf = (
            f"listen_addresses = '127.0.0.1'\nport = {port}\n"
            f"unix_socket_directories = '{self._dir}'\n"
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n"
        )
        with open(Path(data) / "postgresql.conf", "a") as f:
            f.write(conf)
        self._run(pg_ctl, "-D", data, "-l", str(Path(self._dir) / "log"), "-w", "start")
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        return self.url

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        if self._dir is None:
            return
        pg_ctl = _bin("pg_ctl")
        assert pg_ctl
        subprocess.run(
            [*self._as, pg_ctl, "-D", str(Path(self._dir) / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        time.sleep(0.2)
        shutil.rmtree(self._dir, ignore_errors=True)
