"""The long fuzz run (docs/fuzzing.md): every hypothesis target in tests/fuzz, one at a time, each with
LTO_ARCHIVE_FUZZ_EXAMPLES examples or its share of the time left before --until, whichever comes first.

    python3 tests/fuzz/long_run.py --examples 100000 --until 16:58 --out /tmp/fuzzlong

Run it from a checkout (the current directory); it re-reads the list of targets before each one, so
targets added to that checkout while it runs are picked up. Per target: OUT/<target>.log (pytest's
output), OUT/<target>.json (the tally tests/fuzz/conftest.py keeps: examples run, exceptions, slowest
example) and one line in OUT/summary.jsonl with the wall time and pytest's exit code (124: its time
share ran out; 0: all examples passed; 1: a failure, shrunk and printed in the log)."""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HANG_S = 60.0       # an example still running this long when its time share ran out is reported as a hang


def targets(root: Path) -> list[str]:
    """Node ids of the tests in tests/fuzz/test_fuzz_*.py that hypothesis drives (@given)."""
    out = []
    for path in sorted((root / "tests" / "fuzz").glob("test_fuzz_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and any(
                    isinstance(d, ast.Call) and getattr(d.func, "id", None) == "given" for d in node.decorator_list):
                out.append(f"{path.relative_to(root)}::{node.name}")
    return out


def run_one(node: str, budget: float, examples: int, out: Path) -> dict[str, object]:
    name = re.sub(r"[^A-Za-z0-9_]+", "_", node.split("tests/fuzz/", 1)[-1])
    tally = out / f"{name}.json"
    env = dict(os.environ, LTO_ARCHIVE_FUZZ_EXAMPLES=str(examples), LTO_ARCHIVE_FUZZ_TALLY=str(tally))
    start = time.monotonic()
    with open(out / f"{name}.log", "w") as log:
        rc = subprocess.call(["nice", "-n", "19", "timeout", "-s", "INT", "-k", "60", str(int(budget)),
                              sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node],
                             stdout=log, stderr=subprocess.STDOUT, env=env)
    fig = json.loads(tally.read_text()).get(node, {}) if tally.exists() else {}
    in_flight = fig.get("in_flight_s") or 0.0
    row = {"target": node, "rc": rc, "wall_s": round(time.monotonic() - start, 1), "examples": fig.get("examples", 0),
           "raised": fig.get("raised", {}), "slowest_s": fig.get("slowest_s"),
           "hang": rc == 124 and in_flight >= HANG_S, "failed": rc not in (0, 124)}
    with open(out / "summary.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=100_000)
    ap.add_argument("--until", required=True, help="HH:MM UTC today: stop by then")
    ap.add_argument("--out", type=Path, default=Path("/tmp/fuzzlong"))
    ap.add_argument("--expect", type=int, default=0, help="targets expected in all (to share the time)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    hh, mm = map(int, args.until.split(":"))
    now = dt.datetime.now(dt.timezone.utc)
    end = time.monotonic() + (now.replace(hour=hh, minute=mm, second=0) - now).total_seconds()
    done: list[str] = []
    while True:
        todo = [t for t in targets(Path.cwd()) if t not in done]
        left = end - time.monotonic()
        if not todo or left < 30:
            break
        share = left / max(len(todo), args.expect - len(done))
        node = todo[0]
        done.append(node)
        print(json.dumps(run_one(node, max(share, 30), args.examples, args.out)), flush=True)
    print(json.dumps({"not_run": [t for t in targets(Path.cwd()) if t not in done]}), flush=True)


if __name__ == "__main__":
    main()
