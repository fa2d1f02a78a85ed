"""docs/recovery.md's transcripts are what the commands print: the documented sequences run here.

Each scenario below runs, in a scratch folder, the commands a block of docs/recovery.md shows (a
writer killed with SIGKILL or interrupted with SIGINT at a fixed write, by tests/kill9_runner.py;
then what the operator types). Every block of the document preceded by `<!-- transcript: NAME -->`
must still appear in scenario NAME's transcript: each `$ command` line and each printed line, with
session ids, UUIDs, times, speeds and hashes compared as placeholders ('...' lines are elisions).

`python tests/test_kill9_docs.py [NAME...]` prints the transcripts (to paste into the document).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shlex
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from lto_archive_cli.main import cli
from tests.kill9_runner import run_killed

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "recovery.md"


class Shell:
    """Runs `lto-archive ...` lines in `cwd` as a terminal would show them; keeps the transcript."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.out: list[str] = []

    def __call__(self, cmd: str, *, kill_at: int | None = None, signum: int = signal.SIGKILL,
                 comment: str = "") -> tuple[int | None, str]:
        args = shlex.split(cmd)
        assert args[0] == "lto-archive"
        env = {"LTO_ARCHIVE_CATALOG": "cat.sqlite"}
        with contextlib.chdir(self.cwd), _environ(env):
            if kill_at is not None:
                device = next(a for a in args if a.startswith("vtape:")).removeprefix("vtape:")
                got = run_killed(args[1:], self.cwd / device, kill_at, self.cwd / ".runner", signum=signum,
                                 cwd=self.cwd)
                code, text = (None if got.killed else got.code), got.stdout
            else:
                r = CliRunner().invoke(cli, args[1:])
                assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
                code, text = r.exit_code, r.output
        assert "Traceback" not in text, text
        self.out.append(f"$ {cmd}" + (f"        # {comment}" if comment else ""))
        self.out.extend(text.rstrip("\n").splitlines())
        if code is None:
            self.out.append("Killed")
        elif code:
            self.out += ["$ echo $?", str(code)]
        return code, text

    def text(self) -> str:
        return "\n".join(self.out) + "\n"


@contextlib.contextmanager
def _environ(env: dict[str, str]):  # type: ignore[no-untyped-def]
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def cards(root: Path) -> None:
    """Two camera cards, A001 and B001, of six clips each (seeded: the same bytes every run)."""
    rng = random.Random(2026)
    for card in ("A001", "B001"):
        for i in range(6):
            p = root / card / "CLIPS" / f"{card}C{i:03d}.MOV"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(rng.randbytes(rng.randint(100_000, 600_000)))
            os.utime(p, (1796650000 + i, 1796650000 + i))


W = "--block-size 64K"


def tar_crash(sh: Shell) -> None:
    sh("lto-archive vtape create tape2 --barcode DOC002L9 --capacity 1G")
    sh(f"lto-archive write A001 --device vtape:tape2 {W}", kill_at=20, comment="kill -9 while A001C004.MOV is written")
    journal = next(sh.cwd.glob("logs/*/*/*.journal.jsonl")).relative_to(sh.cwd)
    sh("lto-archive verify --device vtape:tape2")
    sh(f"lto-archive write B001 --device vtape:tape2 {W}")
    sh("lto-archive ls --device vtape:tape2")
    sh(f"lto-archive verify --device vtape:tape2 --manifest {journal}")
    sh(f"lto-archive catalog import --device vtape:tape2 --manifest {journal}")
    sh("lto-archive catalog search 'A001/*'")
    sh(f"lto-archive restore --device vtape:tape2 --tape-file 0 --manifest {journal} restored")


def tar_interrupt(sh: Shell) -> None:
    sh("lto-archive vtape create tape3 --barcode DOC003L9 --capacity 1G")
    sh(f"lto-archive write A001 --device vtape:tape3 {W}", kill_at=12, signum=signal.SIGINT,
       comment="Ctrl-C while A001C003.MOV is written")
    sh("lto-archive verify --device vtape:tape3")


def ltfs_crash(sh: Shell) -> None:
    sh("lto-archive vtape create tape1 --barcode DOC001L9 --capacity 1G --partitions 2")
    sh("lto-archive format --device vtape:tape1 --block-size 64K")
    sh("lto-archive write A001 --device vtape:tape1 --format ltfs", kill_at=16,
       comment="kill -9 while A001C003.MOV is written")
    shutil.copytree(sh.cwd / "tape1", sh.cwd / "tape1-copy")
    sh("lto-archive write B001 --device vtape:tape1 --format ltfs")
    sh("lto-archive ltfs check --device vtape:tape1")
    sh("lto-archive ltfs recover --device vtape:tape1")
    sh("lto-archive write B001 --device vtape:tape1 --format ltfs")
    sh("lto-archive verify --device vtape:tape1")
    sh("lto-archive ltfs recover --device vtape:tape1-copy --log-dir nowhere")


def ltfs_interrupt(sh: Shell) -> None:
    sh("lto-archive vtape create tape4 --barcode DOC004L9 --capacity 1G --partitions 2")
    sh("lto-archive format --device vtape:tape4 --block-size 64K")
    sh("lto-archive write A001 --device vtape:tape4 --format ltfs", kill_at=12, signum=signal.SIGINT,
       comment="Ctrl-C while A001C002.MOV is written")
    sh("lto-archive ltfs check --device vtape:tape4")
    sh("lto-archive verify --device vtape:tape4")


SCENARIOS: dict[str, Callable[[Shell], None]] = {"tar-crash": tar_crash, "tar-interrupt": tar_interrupt,
                                                 "ltfs-crash": ltfs_crash, "ltfs-interrupt": ltfs_interrupt}


def run_scenario(name: str, cwd: Path) -> str:
    cwd.mkdir(parents=True, exist_ok=True)
    cards(cwd)
    sh = Shell(cwd)
    SCENARIOS[name](sh)
    return sh.text()


_VARIABLE = [
    (re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}"), "<SESSION>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<UUID>"),
    (re.compile(r"\d{4}-\d\d-\d\d[T_][\d:.]+Z"), "<TIME>"),
    (re.compile(r"/\d{4}-\d\d-\d\d/"), "/<DAY>/"),
    (re.compile(r"in [\d.]+ s \([\d.]+ [kMG]?B/s\)"), "in <SECONDS>"),
    (re.compile(r"\b[0-9a-f]{16,64}\b"), "<HASH>"),
]


def normal(line: str) -> str:
    for pattern, placeholder in _VARIABLE:
        line = pattern.sub(placeholder, line)
    return line.rstrip()


def doc_blocks() -> list[tuple[str, list[str]]]:
    """(scenario, lines) of every block of docs/recovery.md marked `<!-- transcript: NAME -->`."""
    text = DOC.read_text(encoding="utf-8")
    return [(m.group(1), m.group(2).splitlines())
            for m in re.finditer(r"<!-- transcript: ([\w-]+) -->\s*```\n(.*?)```", text, re.S)]


def test_every_transcript_block_names_a_scenario() -> None:
    blocks = doc_blocks()
    assert {name for name, _ in blocks} == set(SCENARIOS)
    assert len(blocks) >= 5


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_documented_commands_print_what_the_document_says(tmp_path: Path, name: str) -> None:
    said = {normal(line) for line in run_scenario(name, tmp_path).splitlines()}
    for block_name, lines in doc_blocks():
        if block_name != name:
            continue
        for line in lines:
            if line.strip() in ("...", ""):
                continue
            assert normal(line) in said, f"docs/recovery.md ({name}): no longer printed: {line!r}"


if __name__ == "__main__":
    import tempfile
    for name in sys.argv[1:] or list(SCENARIOS):
        with tempfile.TemporaryDirectory() as tmp:
            print(f"=== {name}")
            print(run_scenario(name, Path(tmp)))
