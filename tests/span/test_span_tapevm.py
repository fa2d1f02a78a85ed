"""The span set on tapevm's real changer (mtx, sg, st): tests/span/test_span_vm.py in the VM with a
changer and 100 MB cartridges, booted once for it and the library tests (tests/conftest.py,
`tapevm_changer_run`); deselect with `-m "not tapevm"`."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.tapevm, pytest.mark.slow]


def test_span_set_in_tapevm(tapevm_changer_run) -> None:  # type: ignore[no-untyped-def]
    tapevm_changer_run.check(["tests/span/test_span_vm.py"])
    assert len(tapevm_changer_run.of("tests/span/test_span_vm.py")) == 1, tapevm_changer_run.outcomes
