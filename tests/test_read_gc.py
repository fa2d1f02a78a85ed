"""A read pass collects garbage less often (jobs/medium.fewer_collections) and puts the collector's
thresholds back afterwards, also when passes nest or the pass fails."""

from __future__ import annotations

import gc

import pytest

from lto_archive.jobs.medium import READ_GC_THRESHOLD, fewer_collections


def test_thresholds_are_raised_during_a_pass_and_restored_after_nesting_and_errors() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 11, 12)
        with fewer_collections():
            assert gc.get_threshold() == (READ_GC_THRESHOLD, 11, 12)
            with fewer_collections():             # a nested pass (a span volume's manifest, a thread)
                assert gc.get_threshold()[0] == READ_GC_THRESHOLD
            assert gc.get_threshold()[0] == READ_GC_THRESHOLD   # the outer pass still runs
        assert gc.get_threshold() == (700, 11, 12)
        with pytest.raises(RuntimeError):
            with fewer_collections():
                raise RuntimeError("the pass failed")
        assert gc.get_threshold() == (700, 11, 12)
        gc.set_threshold(90_000, 10, 10)          # a process that asked for fewer already keeps its own
        with fewer_collections():
            assert gc.get_threshold()[0] == 90_000
    finally:
        gc.set_threshold(*before)
