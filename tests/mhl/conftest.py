"""The ASC MHL reference tool (`ascmhl`, `ascmhl-debug`) for the interop tests.

ascmhl pins click ~= 8.1, which would downgrade the click lto-archive's own tests
need, so it is not in the `test` extra: it lives in a virtual environment of its
own, by default ~/.cache/lto-archive/ascmhl-<version>-py<X.Y> (or
LTO_ARCHIVE_ASCMHL_VENV). When it is not there, it is installed there with pip
if LTO_ARCHIVE_REQUIRE_TOOLS=1 (CI) or LTO_ARCHIVE_INSTALL_ASCMHL=1; otherwise
`require_tool` skips the test (and fails it in CI). An `ascmhl` already on PATH
is used as it is.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_tool

ASCMHL_VERSION = "1.2"


def _venv() -> Path:
    if os.environ.get("LTO_ARCHIVE_ASCMHL_VENV"):
        return Path(os.environ["LTO_ARCHIVE_ASCMHL_VENV"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "lto-archive" / f"ascmhl-{ASCMHL_VERSION}-py{sys.version_info[0]}.{sys.version_info[1]}"


def _install(venv: Path) -> None:
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)          # another test run may be installing it right now
        if (venv / "bin" / "ascmhl").exists() and (venv / ".complete").exists():
            return
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        f"ascmhl=={ASCMHL_VERSION}"], check=True, timeout=900)
        (venv / ".complete").write_text(ASCMHL_VERSION)


@dataclass
class Ascmhl:
    """Runs the reference tool; its update check goes to a dead local proxy, never out."""

    ascmhl: str
    ascmhl_debug: str

    def _run(self, exe: str, *args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, HTTPS_PROXY="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9",
                   NO_PROXY="", no_proxy="", PYTHONIOENCODING="utf-8", LC_ALL="C.UTF-8")
        return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)

    def __call__(self, *args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
        return self._run(self.ascmhl, *args)

    def debug(self, *args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
        return self._run(self.ascmhl_debug, *args)


@pytest.fixture(scope="session")
def ascmhl() -> Iterator[Ascmhl]:
    on_path, debug_on_path = shutil.which("ascmhl"), shutil.which("ascmhl-debug")
    if on_path and debug_on_path:
        yield Ascmhl(on_path, debug_on_path)
        return
    venv = _venv()
    bin_dir = venv / "bin"
    if not (venv / ".complete").exists() and (os.environ.get("LTO_ARCHIVE_REQUIRE_TOOLS") == "1"
                                              or os.environ.get("LTO_ARCHIVE_INSTALL_ASCMHL") == "1"):
        _install(venv)
    if (bin_dir / "ascmhl").exists() and (bin_dir / "ascmhl-debug").exists():
        # make exactly these two commands visible (not the venv's python) so require_tool finds them
        shim = venv.parent / f"{venv.name}-bin"
        shim.mkdir(exist_ok=True)
        for name in ("ascmhl", "ascmhl-debug"):
            link = shim / name
            if not link.exists():
                link.symlink_to(bin_dir / name)
        old = os.environ.get("PATH", "")
        os.environ["PATH"] = f"{shim}{os.pathsep}{old}"
        try:
            yield Ascmhl(require_tool("ascmhl"), require_tool("ascmhl-debug"))
        finally:
            os.environ["PATH"] = old
        return
    require_tool("ascmhl")       # fails under LTO_ARCHIVE_REQUIRE_TOOLS=1, skips otherwise
    pytest.fail("unreachable")   # pragma: no cover
