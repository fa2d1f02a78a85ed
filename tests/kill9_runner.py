"""Run the lto-archive CLI in a child process that kills itself (SIGKILL) at a chosen record.

The kill is placed, not timed: `VirtualTape.write_record` and `write_filemarks` are wrapped so that
the child SIGKILLs itself when cartridge `target` (the first `--device`) is about to take its write
number `kill_at` (records and filemark writes counted together, from 0): exactly the first `kill_at`
of them are on that cartridge, nothing after. Nothing runs after the kill: no `finally`, no atexit,
no flush, as after `kill -9` or a power cut that spares the page cache.

`journal_every` sets the journal's commit interval (jobs/journal.COMMIT_EVERY_BYTES: 0 is a commit
point after every file; the default batches 32 MiB of small files into one, and a trial with a few
small files would journal none of them). The job also waits, after placing each entry, until the
drives have taken its whole records (an event, polled; not a time): the reader thread of a small job
otherwise runs far ahead of the drives, and which entries are journaled when the kill comes would
depend on thread timing. With it, the journal holds the same entries every run of a trial.

Two ways in: `run_killed(...)` forks the test process (the CLI is imported already, which keeps 50
trials quick), and `python tests/kill9_runner.py KILL_AT [JOURNAL_EVERY] -- ARGS...` runs it as a
fresh process. Both run the real click command line, `lto_archive_cli.main.cli`.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Outcome:
    """How the child ended: killed (SIGKILL) or exited with `code`; its stdout and stderr."""

    killed: bool
    code: int | None
    stdout: str
    stderr: str


def arm(target: str, kill_at: int | None, journal_every: int | None = None,
        signum: int = signal.SIGKILL) -> dict[str, int]:
    """Wrap the virtual tape's writes so the process kills itself at write `kill_at` to cartridge
    `target` (a folder path; None: never). Returns the live count of writes per cartridge. `signum`:
    another signal instead (SIGINT: a Ctrl-C at that write, as an operator would give it)."""
    from lto_archive.jobs import journal
    from lto_archive.streaming import RecordStream
    from lto_archive.tape import VirtualTape

    if journal_every is not None:
        journal.COMMIT_EVERY_BYTES = journal_every
    counts: dict[str, int] = {}
    lock = threading.Lock()
    target = os.path.realpath(target)

    def count(dev: VirtualTape) -> None:
        key = os.path.realpath(dev.path)
        with lock:
            n = counts.get(key, 0)
            if key == target and n == kill_at:
                os.kill(os.getpid(), signum)              # SIGKILL: this write and everything after never happen
            counts[key] = n + 1

    write_record, write_filemarks = VirtualTape.write_record, VirtualTape.write_filemarks
    placed = journal.JobJournal.placed
    RecordStream.__init__.__kwdefaults__["chunk_size"] = 1     # hand each record to the drives at once

    def paced_placed(self, rec, **extra):  # type: ignore[no-untyped-def]
        s = self.stream
        give_up = time.monotonic() + 30                        # a guard against a hang, not a timing
        while journal.written_slots(s.status) < s.offset // s.record_size and time.monotonic() < give_up:
            time.sleep(0.0005)                                  # the drives catch up (or the kill comes)
        placed(self, rec, **extra)

    def killing_write_record(self, data):  # type: ignore[no-untyped-def]
        count(self)
        return write_record(self, data)

    def killing_write_filemarks(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        count(self)
        return write_filemarks(self, *args, **kwargs)

    VirtualTape.write_record = killing_write_record            # type: ignore[method-assign]
    VirtualTape.write_filemarks = killing_write_filemarks      # type: ignore[method-assign]
    journal.JobJournal.placed = paced_placed                   # type: ignore[method-assign]
    return counts


def _cli(args: list[str]) -> int:
    from lto_archive_cli.main import cli
    try:
        cli.main(args, prog_name="lto-archive", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def run_killed(args: list[str], target: Path, kill_at: int | None, workdir: Path,
               journal_every: int | None = 0, signum: int = signal.SIGKILL, cwd: Path | None = None) -> Outcome:
    """Fork, arm the kill in the child, run `lto-archive ARGS` there (in `cwd`, default `workdir`); wait
    for it. With `cwd`, stdout and stderr go to one file, in the order a terminal shows them."""
    workdir.mkdir(parents=True, exist_ok=True)
    out, err = workdir / "child.stdout", workdir / ("child.stdout" if cwd else "child.stderr")
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:                                                # the child: never returns
        code = 1
        try:
            fo = open(out, "w", encoding="utf-8", buffering=1)
            fe = fo if err == out else open(err, "w", encoding="utf-8")
            sys.stdout, sys.stderr = fo, fe
            os.dup2(fo.fileno(), 1)
            os.dup2(fe.fileno(), 2)
            os.chdir(cwd or workdir)
            signal.alarm(120)                                   # a hung child dies (SIGALRM), never the suite
            counts = arm(str(target), kill_at, journal_every, signum)
            code = _cli(args)
            (workdir / "counts.json").write_text(json.dumps(counts))    # not killed: what it wrote
            fo.flush()
            fe.flush()
        except BaseException:                                   # noqa: BLE001 - report it, then leave
            import traceback
            traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    return Outcome(killed, code, out.read_text(encoding="utf-8", errors="replace"),
                   "" if err == out else err.read_text(encoding="utf-8", errors="replace"))


def main(argv: list[str]) -> int:
    """`kill9_runner.py KILL_AT [JOURNAL_EVERY] -- ARGS...`: KILL_AT counts the first --device's writes."""
    sep = argv.index("--")
    head, args = argv[:sep], argv[sep + 1:]
    kill_at = None if head[0] == "none" else int(head[0])
    device = args[args.index("--device") + 1].removeprefix("vtape:")
    arm(device, kill_at, int(head[1]) if len(head) > 1 else None)
    return _cli(args)


if __name__ == "__main__":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", line_buffering=True)
    sys.exit(main(sys.argv[1:]))
