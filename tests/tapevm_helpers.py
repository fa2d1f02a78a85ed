"""Run pytest inside tapevm (../shared/tools/tapevm: a VM with the kernel's st driver and tgt drives).

`run_in_tapevm(tests, ...)` boots one VM with the given library shape, runs
`python3 -m pytest -q TESTS` there from this repository and returns (exit status,
output). The tool lives beside the clone (../shared/tools/tapevm) and needs its
setup (/var/cache/tapevm); without them the test skips, unless
LTO_ARCHIVE_REQUIRE_TOOLS=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TAPEVM = REPO.parent / "shared" / "tools" / "tapevm"
SETUP = Path(os.environ.get("TAPEVM_HOME", "/var/cache/tapevm")) / "initrd.gz"


def require_tapevm() -> Path:
    missing = None
    if not TAPEVM.is_file():
        missing = f"{TAPEVM} is missing (the shared tools live beside the clone)"
    elif not SETUP.is_file():
        missing = f"tapevm is not set up ({SETUP} missing): run 'bash {TAPEVM} setup' as root"
    if missing:
        if os.environ.get("LTO_ARCHIVE_REQUIRE_TOOLS") == "1":
            pytest.fail(f"tapevm is required (LTO_ARCHIVE_REQUIRE_TOOLS=1): {missing}")
        pytest.skip(missing)
    return TAPEVM


def free_port() -> int:
    """A TCP port nobody listens on now (tgt's iSCSI portal for this VM)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_in_tapevm(tests: list[str], *, drives: int = 1, tapes: int = 4, tape_size_mb: int = 40,
                  changer: bool = False, env: dict[str, str] | None = None, pytest_args: tuple[str, ...] = (),
                  timeout: int = 1500) -> tuple[int, str]:
    """Boot a VM with `drives` drives and `tapes` cartridges of `tape_size_mb`, run pytest on `tests`."""
    tool = require_tapevm()
    inner_env = {"LTO_ARCHIVE_TEST_TAPE_MB": str(tape_size_mb), "PYTHONDONTWRITEBYTECODE": "1",
                 "LTO_ARCHIVE_REQUIRE_TOOLS": os.environ.get("LTO_ARCHIVE_REQUIRE_TOOLS", ""), **(env or {})}
    exports = " ".join(f"{k}={v}" for k, v in inner_env.items())
    inner = (f"cd {REPO} && export {exports} && python3 -m pytest -q -p no:cacheprovider "
             + " ".join(list(pytest_args) + tests))
    with tempfile.TemporaryDirectory(prefix="tapevm-test-") as work:
        cmd = ["bash", str(tool), "run", "--workdir", work, "--drives", str(drives), "--tapes", str(tapes),
               "--tape-size", str(tape_size_mb), "--timeout", str(timeout)]
        if changer:
            cmd.append("--changer")
        cmd += ["--", "sh", "-c", inner]
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout + 120,
                              env=dict(os.environ, TAPEVM_PORT=str(free_port())))
    return proc.returncode, proc.stdout + proc.stderr
