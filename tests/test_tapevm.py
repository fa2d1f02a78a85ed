"""The st backend on the kernel's real st driver, inside tapevm (tests/tapevm_helpers.py).

The test boots one VM (a minute or more under emulation) and runs a batch of tests there;
deselect it with `-m "not tapevm"`. The VM with a changer (drives start empty) is booted once, for the
empty-drive, span, SCSI and library tests (tests/conftest.py, `tapevm_changer_run`): the SCSI checks
run there, on a drive the changer loaded.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .tapevm_helpers import VmRun, junit_outcomes, run_in_tapevm


@pytest.mark.tapevm
@pytest.mark.slow
def test_st_backend_in_tapevm() -> None:
    """Conformance suite first (on the blank cartridge), then interop and bad input on /dev/nst0."""
    run = run_in_tapevm(["tests/tape/test_st_conformance.py", "tests/st", "tests/health/test_health_st_vm.py"],
                        tape_size_mb=40,
                        env={"LTO_ARCHIVE_TEST_TAPE": "/dev/nst0"}, pytest_args=("-rs",))
    assert run.code == 0, f"tests inside tapevm failed (exit {run.code}):\n{run.output[-20000:]}"
    assert " passed" in run.output, run.output[-5000:]
    run.check(["tests/st/test_st_vm.py"], may_skip=("tests/st/test_st_vm.py",))   # it ran there, and passed
    run.check(["tests/health/test_health_st_vm.py"], may_skip=())    # health read at load through SG_IO, no skip



def test_the_outcomes_inside_the_vm_are_read_from_pytests_junit_report(tmp_path: Path) -> None:
    """What the tapevm tests check comes from the JUnit report pytest writes in the VM: read one written
    by this pytest, with a pass, a failure, a skip and a test in a class."""
    side = tmp_path / "tests" / "vmside"
    side.mkdir(parents=True)
    (side / "test_a.py").write_text(
        "import pytest\n"
        "def test_ok(): pass\n"
        "def test_bad(): assert False\n"
        "class TestC:\n"
        "    def test_in_class(self): pass\n")
    (side / "test_b.py").write_text(
        "import pytest\n"
        "def test_ok(): pass\n"
        "def test_skip(): pytest.skip('no drive here')\n")
    report = tmp_path / "junit.xml"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                           "tests/vmside"], cwd=tmp_path, capture_output=True, text=True)
    run = VmRun(proc.returncode, proc.stdout, junit_outcomes(report))
    assert run.code == 1
    assert run.of("tests/vmside/test_a.py") == {"tests.vmside.test_a::test_ok": "passed",
                                               "tests.vmside.test_a::test_bad": "failed",
                                               "tests.vmside.test_a.TestC::test_in_class": "passed"}
    assert run.of("tests/vmside/test_b.py") == {"tests.vmside.test_b::test_ok": "passed",
                                               "tests.vmside.test_b::test_skip": "skipped: no drive here"}
    assert len(run.of("tests/vmside")) == 5 and run.of("tests/vmside/test_c.py") == {}
    run.check(["tests/vmside/test_b.py"], may_skip=("tests/vmside/test_b.py",))
    for modules, may_skip, why in ((["tests/vmside/test_a.py"], (), "failed"),
                                   (["tests/vmside/test_b.py"], (), "skipped"),
                                   (["tests/vmside/test_c.py"], (), "no test")):
        with pytest.raises(AssertionError, match=why):
            run.check(modules, may_skip)
    with pytest.raises(AssertionError, match="did not finish"):
        VmRun(2, "", run.outcomes).check(["tests/vmside/test_b.py"], ("tests/vmside/test_b.py",))
    assert junit_outcomes(tmp_path / "none.xml") == {}
