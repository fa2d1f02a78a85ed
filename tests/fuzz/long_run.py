"""The long fuzz run (docs/fuzzing.md): every hypothesis target in tests/fuzz, one at a time, each with
LTO_ARCHIVE_FUZZ_EXAMPLES examples or its share of the time left before --until, whichever comes first.

    python3 tests/fuzz/long_run.py --examples 100000 --until 16:58 --out /tmp/fuzzlong

Run it from a checkout (the current directory); it re-reads the list of targets before each one, so
targets added to that checkout while it runs are picked up. Per target: OUT/<target>.log (pytest's
output), OUT/<target>.json (the tally tests/fuzz/conftest.py keeps: examples run, exceptions, slowest
example) and one line in OUT/summary.jsonl with the wall time and pytest's exit code (0: all examples
passed; 2: its time share ran out, the tally says how many ran; 1: a failure, shrunk and printed in the
log; killed (124/137): an example ran BACKSTOP_S past the time share, a hang). Started again with the
same OUT, it goes on with the targets not in the summary yet."""

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

BACKSTOP_S = 120    # an example still running this long after its target's time share ended: killed, a hang


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
    env = dict(os.environ, LTO_ARCHIVE_FUZZ_EXAMPLES=str(examples), LTO_ARCHIVE_FUZZ_TALLY=str(tally),
               LTO_ARCHIVE_FUZZ_STOP_AT=str(time.time() + budget), PYTHONUNBUFFERED="1")
    start = time.monotonic()
    with open(out / f"{name}.log", "w") as log:
        rc = subprocess.call(["nice", "-n", "19", "timeout", "-s", "KILL", str(int(budget + BACKSTOP_S)),
                              sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node],
                             stdout=log, stderr=subprocess.STDOUT, env=env)
    fig = json.loads(tally.read_text()).get(node, {}) if tally.exists() else {}
    killed = rc in (124, 137, -9)
    row = {"target": node, "rc": rc, "wall_s": round(time.monotonic() - start, 1), "examples": fig.get("examples", 0),
           "raised": fig.get("raised", {}), "slowest_s": fig.get("slowest_s"), "stopped": bool(fig.get("stopped")),
           "hang": killed, "failed": not killed and rc not in (0, 2)}
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
    summary = args.out / "summary.jsonl"      # a run started again goes on where it stopped
    done = [json.loads(line)["target"] for line in summary.read_text().splitlines()] if summary.exists() else []
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
