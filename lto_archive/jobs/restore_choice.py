"""Which copy of a path a restore keeps when a tape (or the catalog) holds it in several sessions.

A card written twice to one cartridge is in two tape files. By default a restore keeps the newest copy of
each path, in a single pass: tape files are read in tape order (the order they were written), and a later
copy replaces the one this restore placed from an older session (`RestoreTarget(replace_own=True)`; a file
that was in the restore folder before is still refused without --overwrite). What was passed over is said
(`pass_over_older`). `--tape-file N` or `--session ID` (`session_tape_files`) restore one session instead.
A catalog restore chooses before the tape moves (`newest_entries`: the newest session of each path, or the
one asked for), so no cartridge is loaded for a copy that would be passed over.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Any

from ..errors import ArchiveError, UsageError
from ..manifest import SESSION_MEMBER, parse_session_record
from ..tape.device import TapeDevice

if TYPE_CHECKING:
    from .read import TapeFileResult

SESSION_HELP = ("`lto-archive verify` and `restore` name each tape file's session; "
                "`lto-archive catalog search` the sessions the catalog knows")


def _copies(n: int) -> str:
    return f"{n} older cop{'y' if n == 1 else 'ies'}"


def _files(n: int) -> str:
    return f"{n} file{'' if n == 1 else 's'}"


def pass_over_older(results: list["TapeFileResult"]) -> list[str]:
    """After a restore of several tape files in tape order: a file or link restored again by a later tape file
    (a newer session) replaced this restore's earlier copy. Move such paths from the earlier result's
    `restored` to its `passed_over`; the notes that say so, one per pair of tape files."""
    newest: dict[str, int] = {}
    for i, t in enumerate(results):
        folders = {m.path for m in t.members if m.kind == "dir"}
        for p in t.restored:
            if p not in folders:
                newest[p] = i
    notes = []
    for i, t in enumerate(results):
        older = [p for p in t.restored if newest.get(p, i) > i]
        if not older:
            continue
        gone = set(older)
        t.restored = [p for p in t.restored if p not in gone]
        t.restored_seen, t.restored_indexed = set(), 0     # add_restored's index of `restored`, rebuilt
        t.passed_over.extend(older)
        for j, n in sorted(Counter(newest[p] for p in older).items()):
            newer = results[j].tape_file
            notes.append(f"{_files(n)} restored from tape file {newer} (a newer session); {_copies(n)} in tape "
                         f"file {t.tape_file} passed over (--tape-file {t.tape_file} restores them)")
    return notes


def tape_file_sessions(device: TapeDevice, open_tape_file: Callable[[TapeDevice], tuple[Any, Any, Any]],
                       locate: Callable[[TapeDevice, int], bool]) -> Iterable[tuple[int, str | None]]:
    """(tape file number, its session ID or None) for every tape file, from each one's first member (the
    session record, `.lto-archive/session.json`): a few records read per tape file, no file data."""
    n = 0
    while locate(device, n):
        sid = None
        try:
            _fmt, _stream, reader = open_tape_file(device)
            m = reader.next()
            if m is not None and m.path == SESSION_MEMBER:
                sid = parse_session_record(reader.read_data(m)).get("session_id")
        except ArchiveError:
            pass
        yield n, sid if isinstance(sid, str) else None
        n += 1


def session_tape_files(sessions: Iterable[tuple[int, str | None]], session: str) -> list[int]:
    """The tape files of `session` (its ID, or a prefix naming one session); else a UsageError."""
    found: dict[str, list[int]] = {}
    for n, sid in sessions:
        if sid is not None and (sid == session or sid.startswith(session)):
            found.setdefault(sid, []).append(n)
    if session in found:
        return found[session]
    if len(found) > 1:
        raise UsageError(f"--session {session!r} names {len(found)} sessions on this tape "
                         f"({', '.join(sorted(found))}): give more of the ID", session=session)
    if not found:
        raise UsageError(f"no session {session!r} on this tape ({SESSION_HELP})", session=session)
    return next(iter(found.values()))


def newest_entries(entries: list[Any], started: Callable[[str], str], *, session: str | None = None,
                   tape_files: Collection[int] | None = None) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """Catalog plan entries (catalog.search.PlanEntry, over all cartridges) cut to one copy per path: the
    newest session's (by when its job started, then its place on tape), or only those of `session` / `tape_files`.
    Returns (kept, [(passed over, the copy kept instead)])."""
    if session is not None:
        entries = [e for e in entries if e.session_id == session or e.session_id.startswith(session)]
    if tape_files:
        entries = [e for e in entries if e.tape_file in tape_files]
    def age(e: Any) -> tuple[str, int, int, str]:      # when its job started; on one tape, the later tape file
        return started(e.session_id), -1 if e.tape_file is None else e.tape_file, e.block or -1, e.session_id
    best: dict[str, Any] = {}
    for e in entries:
        b = best.get(e.path)
        if b is None or age(e) > age(b):
            best[e.path] = e
    kept = [e for e in entries if best[e.path] is e]
    return kept, [(e, best[e.path]) for e in entries if best[e.path] is not e]


def passed_over_notes(passed: list[tuple[Any, Any]], where: Callable[[Any], str]) -> list[str]:
    """"3 files restored from TST001L9 tape file 1; 3 older copies in TST001L9 tape file 0 passed over"."""
    pairs = Counter((where(kept), where(old)) for old, kept in passed)
    return [f"{_files(n)} restored from {new} (a newer session); {_copies(n)} in {old} passed over "
            f"(--session or --tape-file choose)" for (new, old), n in sorted(pairs.items())]


__all__ = ["pass_over_older", "tape_file_sessions", "session_tape_files", "newest_entries", "passed_over_notes",
           "SESSION_HELP"]
