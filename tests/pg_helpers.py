"""A throw-away PostgreSQL cluster for the tests: initdb + pg_ctl in a temporary folder, on 127.0.0.1.

Nothing is mocked: the tests that need PostgreSQL run against this real server. `.ci/run` installs the
Debian `postgresql` package; where its binaries are missing the tests skip (and fail under
LTO_ARCHIVE_REQUIRE_TOOLS=1, as CI sets). As root (CI), the server runs as the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from itertools import count
from pathlib import Path

_numbers = count(1)


def pg_bin() -> Path | None:
    """The folder of initdb and pg_ctl (Debian keeps them under /usr/lib/postgresql/N/bin)."""
    found = shutil.which("initdb") and shutil.which("pg_ctl")
    if found:
        return Path(str(found)).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """One running PostgreSQL server; `new_database()` gives each test its own empty database."""

    def __init__(self, root: Path, bin_dir: Path) -> None:
        self.root, self.bin = root, bin_dir
        self.port = _free_port()
        self.data = root / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:       # initdb refuses root: run the server as postgres (or nobody)
            user = "postgres" if _has_user("postgres") else "nobody"
            self._as = ["runuser", "-u", user, "--"]
            shutil.chown(root, user)
        self._run(str(bin_dir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")
        self._run(str(bin_dir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l", str(root / "log"),
                  "-o", f"-h 127.0.0.1 -p {self.port} -k {root} -c fsync=off -c max_connections=100", "start")

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self._as, *cmd], check=True, capture_output=True, cwd=self.root)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg
        name = f"catalog_{os.getpid()}_{next(_numbers)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        subprocess.run([*self._as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True, cwd=self.root)
        shutil.rmtree(self.root, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def start_cluster() -> Cluster | str:
    """A running cluster, or why there is none (the reason a test skips with)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    bin_dir = pg_bin()
    if bin_dir is None:
        return "PostgreSQL's initdb/pg_ctl are not installed (Debian: apt-get install postgresql)"
    root = Path(tempfile.mkdtemp(prefix="lto-archive-pg-"))
    root.chmod(0o755)
    try:
        return Cluster(root, bin_dir)
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(root, ignore_errors=True)
        return f"could not start PostgreSQL: {exc} {detail.decode(errors='replace')[-400:]}"
