"""Run pytest inside tapevm (../shared/tools/tapevm: a VM with the kernel's st driver and tgt drives).

`run_in_tapevm(tests, ...)` boots one VM with the given library shape, runs
`python3 -m pytest -q TESTS` there from this repository and returns a VmRun: exit
status, output, and each test's outcome (from a JUnit report written to the shared
work folder). A boot costs a minute or more under emulation, so the tests that need
the same VM shape share one boot: the session fixture `tapevm_changer_run` in
tests/conftest.py. The tool lives beside the clone (../shared/tools/tapevm; another
path with LTO_ARCHIVE_TAPEVM) and needs its setup (/var/cache/tapevm); without them
the test skips, unless LTO_ARCHIVE_REQUIRE_TOOLS=1 (CI), where it fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TAPEVM = Path(os.environ.get("LTO_ARCHIVE_TAPEVM") or REPO.parent / "shared" / "tools" / "tapevm")
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


@dataclass
class VmRun:
    """What pytest did inside one VM: exit status, output, and {"module::test": outcome} per test
    (outcome "passed", "failed", "error" or "skipped: REASON")."""

    code: int
    output: str
    outcomes: dict[str, str] = field(default_factory=dict)

    def of(self, module: str) -> dict[str, str]:
        """The outcomes of the tests in `module` (a path such as tests/st/test_empty_drive.py)."""
        dotted = module.removesuffix(".py").replace("/", ".")
        return {k: v for k, v in self.outcomes.items() if k == dotted or k.startswith(dotted + "::")
                or k.startswith(dotted + ".")}

    def check(self, modules: list[str], may_skip: tuple[str, ...] = ()) -> None:
        """Every test of `modules` ran inside the VM and passed; only the modules in `may_skip` may skip."""
        where = f"(exit {self.code}):\n{self.output[-20000:]}"
        assert self.code in (0, 1), f"pytest inside tapevm did not finish its tests {where}"
        for module in modules:
            got = self.of(module)
            assert got, f"no test of {module} ran inside tapevm {where}"
            bad = {k: v for k, v in got.items() if v in ("failed", "error")}
            assert not bad, f"tests inside tapevm failed: {sorted(bad)} {where}"
            skipped = {k: v for k, v in got.items() if v.startswith("skipped")}
            assert module in may_skip or not skipped, f"tests skipped inside tapevm: {skipped}"
            assert "passed" in got.values(), f"no test of {module} passed inside tapevm {where}"


def junit_outcomes(path: Path) -> dict[str, str]:
    """{"module::test": outcome} from pytest's JUnit XML report (empty when there is none)."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return {}
    out: dict[str, str] = {}
    for case in root.iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed" if child.tag == "failure" else "error"
            elif child.tag == "skipped" and outcome == "passed":
                outcome = f"skipped: {child.get('message', '')}"
        out[f"{case.get('classname')}::{case.get('name')}"] = outcome
    return out


def run_in_tapevm(tests: list[str], *, drives: int = 1, tapes: int = 4, tape_size_mb: int = 40,
                  changer: bool = False, env: dict[str, str] | None = None, pytest_args: tuple[str, ...] = (),
                  timeout: int = 1500) -> VmRun:
    """Boot a VM with `drives` drives and `tapes` cartridges of `tape_size_mb`, run pytest on `tests`
    (in that order: pytest keeps the order of the paths it is given)."""
    tool = require_tapevm()
    inner_env = {"LTO_ARCHIVE_TEST_TAPE_MB": str(tape_size_mb), "PYTHONDONTWRITEBYTECODE": "1",
                 "LTO_ARCHIVE_REQUIRE_TOOLS": os.environ.get("LTO_ARCHIVE_REQUIRE_TOOLS", ""), **(env or {})}
    exports = " ".join(f"{k}={v}" for k, v in inner_env.items())
    with tempfile.TemporaryDirectory(prefix="tapevm-test-") as work:
        report = Path(work) / "junit.xml"        # the work folder is shared with the VM: it comes back
        inner = (f"cd {REPO} && export {exports} && python3 -m pytest -q -p no:cacheprovider "
                 f"--junitxml={report} " + " ".join(list(pytest_args) + tests))
        cmd = ["bash", str(tool), "run", "--workdir", work, "--drives", str(drives), "--tapes", str(tapes),
               "--tape-size", str(tape_size_mb), "--timeout", str(timeout)]
        if changer:
            cmd.append("--changer")
        cmd += ["--", "sh", "-c", inner]
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout + 120,
                              env=dict(os.environ, TAPEVM_PORT=str(free_port())))
        return VmRun(proc.returncode, proc.stdout + proc.stderr, junit_outcomes(report))
