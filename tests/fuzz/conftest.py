"""The long run's tally (docs/fuzzing.md): with LTO_ARCHIVE_FUZZ_TALLY=FILE, every example a fuzz target runs
is counted, with its slowest time and the exceptions it raised, and FILE gets the figures as JSON when the
session ends (also when the run is stopped at its time share, LTO_ARCHIVE_FUZZ_STOP_AT) and every 500 examples.
Without the variable nothing changes."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

TALLY = os.environ.get("LTO_ARCHIVE_FUZZ_TALLY")
#: the long run's time share ends here (seconds since the epoch): the next example stops the run instead
STOP_AT = float(os.environ.get("LTO_ARCHIVE_FUZZ_STOP_AT") or "inf")
_figures: dict[str, dict[str, Any]] = {}
_running: dict[str, float] = {}


def _write() -> None:
    if TALLY:
        now = time.monotonic()
        doc = {k: {**v, "in_flight_s": round(now - _running[k], 3) if k in _running else None}
               for k, v in _figures.items()}
        Path(TALLY).write_text(json.dumps(doc, indent=1))


def _counted(name: str, inner: Any) -> Any:
    fig = _figures.setdefault(name, {"examples": 0, "raised": {}, "slowest_s": 0.0})

    def run(*args: Any, **kwargs: Any) -> Any:
        if time.time() >= STOP_AT:          # not an Exception: hypothesis lets it through, unshrunk
            fig["stopped"] = True
            raise KeyboardInterrupt("the long run's time share for this target is over")
        _running[name] = start = time.monotonic()
        try:
            result = inner(*args, **kwargs)
        except KeyboardInterrupt:           # stopped from outside: this example is not counted
            fig["stopped"] = True
            raise
        except BaseException as exc:        # counted, then hypothesis sees it as it would
            key = type(exc).__name__
            fig["raised"][key] = fig["raised"].get(key, 0) + 1
            _done(name, fig, start)
            raise
        _done(name, fig, start)
        return result
    return run


def _done(name: str, fig: dict[str, Any], start: float) -> None:
    _running.pop(name, None)
    fig["examples"] += 1
    fig["slowest_s"] = max(fig["slowest_s"], round(time.monotonic() - start, 3))
    if fig["examples"] % 500 == 0:
        _write()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not TALLY:
        return
    for item in items:
        fn = getattr(item, "obj", None)
        handle = getattr(fn, "hypothesis", None)
        if handle is not None:
            handle.inner_test = _counted(item.nodeid, handle.inner_test)


def pytest_sessionfinish() -> None:
    _write()
