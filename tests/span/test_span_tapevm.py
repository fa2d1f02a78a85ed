"""The span set on tapevm's real changer (mtx, sg, st): tests/span/test_span_vm.py in a VM with one drive,
three 100 MB cartridges and a changer. One VM boot; deselect with `-m "not tapevm"`."""

from __future__ import annotations

import pytest

from ..tapevm_helpers import run_in_tapevm

pytestmark = [pytest.mark.tapevm, pytest.mark.slow]


def test_span_set_in_tapevm() -> None:
    code, output = run_in_tapevm(["tests/span/test_span_vm.py"], drives=1, tapes=3, tape_size_mb=100,
                                 changer=True, pytest_args=("-rs",))
    assert code == 0, f"span tests inside tapevm failed (exit {code}):\n{output[-20000:]}"
    assert "1 passed" in output and "skipped" not in output, output[-5000:]
