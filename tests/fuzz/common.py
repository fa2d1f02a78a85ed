"""What the fuzz targets share: the settings, a bound on each example's time, mutated archives read as a
restore would, and whole write jobs (a real tape, its copy log and journal) whose tape or logs are damaged
and then restored by the read engine. Every target asserts the same invariants:

- only lto-archive's own errors (LtoArchiveError) come out, never another exception;
- no hang: each example is bounded (HANG_S);
- nothing is written outside the restore root;
- no damaged file passes as ok: a file reported verified, or restored by a read whose result is 'ok',
  holds the bytes that were written.
"""

from __future__ import annotations

import functools
import io
import json
import os
import random
import signal
import stat
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from hypothesis import HealthCheck, reject, settings
from hypothesis import strategies as st

from lto_archive.catalog import Catalog
from lto_archive.errors import EndOfData, LtoArchiveError
from lto_archive.jobs.catalog_import import import_tape
from lto_archive.jobs.journal import JOURNAL_SUFFIX
from lto_archive.jobs.read import ReadResult, load_copy_log, read_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.restore_target import RestoreTarget
from lto_archive.tape import VirtualTape, create_vtape
from lto_archive.tape.device import MAX_RECORD
from tests.fuzz.mutate_bytes import mutated_bytes

#: CI runs a modest number; LTO_ARCHIVE_FUZZ_EXAMPLES=100000 is the long run (docs/fuzzing.md)
EXAMPLES = int(os.environ.get("LTO_ARCHIVE_FUZZ_EXAMPLES", "200"))
#: every target: seeded and derandomized (a run is repeatable), no deadline (the machine is shared)
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
#: data read from one member at most (a sparse file's holes may claim far more)
DATA_CAP = 1 << 20
#: one example taking this long is a hang, not a slow machine (the slowest seen take about a second)
HANG_S = 120
RS = 4096                   # the record size of the jobs written here: small, so that a file spans records
FILEMARK = None


#: crashes found by these targets in files other helpers own, reported with reproducers (the strict xfails
#: in test_fuzz_copy_log.py): (file, function) where the exception is raised. An input that hits one is
#: rejected, so that the target goes on looking for other failures; remove an entry once it is fixed.
OPEN_FINDINGS: set[tuple[str, str]] = set()     # (module, function) of crashes found but not fixed yet: none


def open_finding(exc: BaseException) -> bool:
    """Whether `exc` (not one of ours) comes from a place OPEN_FINDINGS names (its innermost frames in
    lto_archive: a comprehension is a frame of its own)."""
    ours = [f for f in traceback.extract_tb(exc.__traceback__) if "/lto_archive/" in f.filename]
    return any((f.filename.split("/lto_archive/")[-1], f.name) in OPEN_FINDINGS for f in ours[-2:])


@contextmanager
def ours_only() -> Iterator[None]:
    """An LtoArchiveError ends the step (the answer a user gets); an open finding rejects the input; any
    other exception fails the example."""
    try:
        yield
    except LtoArchiveError:
        pass
    except Exception as exc:
        if open_finding(exc):
            reject()
        raise


@contextmanager
def scratch() -> Iterator[Path]:
    """A temporary folder, removed however deep the tree a restore left in it (shutil.rmtree recurses, and
    `rm -rf` takes time quadratic in depth): each folder's subfolders are moved up to the top first."""
    path = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        yield path
    finally:
        remove_tree(path)


def remove_tree(path: Path) -> None:
    top = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        n = 0
        while names := os.listdir(top):
            for name in names:
                if not stat.S_ISDIR(os.stat(name, dir_fd=top, follow_symlinks=False).st_mode):
                    os.unlink(name, dir_fd=top)
                    continue
                fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top)
                try:
                    os.chmod(fd, 0o700)
                    for child in os.listdir(fd):
                        n += 1
                        os.rename(child, f"~{n}", src_dir_fd=fd, dst_dir_fd=top)
                finally:
                    os.close(fd)
                os.rmdir(name, dir_fd=top)
    finally:
        os.close(top)
    os.rmdir(path)


def files_under(root: Path) -> dict[str, bytes]:
    """Every regular file under `root` (not through symlinks) and its bytes, walked without recursion and
    through folder descriptors, however deep the tree."""
    out: dict[str, bytes] = {}
    stack = [(os.open(root, os.O_RDONLY | os.O_DIRECTORY), "")]
    while stack:
        fd, rel = stack.pop()
        try:
            for e in os.scandir(fd):
                name = f"{rel}{e.name}"
                if e.is_dir(follow_symlinks=False):
                    stack.append((os.open(e.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd), name + "/"))
                elif e.is_file(follow_symlinks=False):
                    f = os.open(e.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
                    with os.fdopen(f, "rb") as fh:
                        out[name] = fh.read()
        finally:
            os.close(fd)
    return out


class Hang(AssertionError):
    """An example ran past HANG_S."""


@contextmanager
def bounded(seconds: int = HANG_S) -> Iterator[None]:
    """Fail the example with Hang when its work does not end within `seconds` (a loop without bound)."""
    def expired(signum: int, frame: Any) -> None:
        raise Hang(f"no answer after {seconds} s: a hang")
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --- one archive's bytes, mutated and read by a format's reader ----------------------------------

@st.composite
def mutated(draw: Any, seeds: list[bytes]) -> bytes:
    """One of `seeds`, with bytes flipped, a stretch zeroed or garbled, blocks dropped or repeated,
    and maybe cut short."""
    raw = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "zero", "junk", "drop", "dup", "digits"]))
        at = draw(st.integers(0, max(0, len(raw) - 1)))
        n = draw(st.integers(1, 1100))
        if op == "flip" and raw:
            raw[at] ^= draw(st.integers(1, 255))
        elif op == "zero":
            raw[at:at + n] = bytes(len(raw[at:at + n]))
        elif op == "junk":
            raw[at:at + n] = draw(st.binary(min_size=1, max_size=64)) * (n // 64 + 1)
        elif op == "drop":
            del raw[at:at + n]
        elif op == "dup":
            raw[at:at] = raw[at:at + n]
        elif op == "digits":    # a plausible but wrong number in a header field
            raw[at:at + 11] = draw(st.sampled_from([b"77777777777", b"00000000000", b"\x80" + bytes(10),
                                                    b"\xff" * 11, b"99999999999", b"-0000000001"]))
    if draw(st.booleans()):
        del raw[draw(st.integers(0, len(raw))):]
    return bytes(raw)


def restore_all(make_reader: Callable[[Any], Any], raw: bytes) -> None:
    """Read every member of `raw` and restore it into a fresh folder; only LtoArchiveError may come out,
    and nothing may appear outside the folder."""
    with scratch() as outside, bounded():
        dest = outside / "dest"
        dest.mkdir()
        target = RestoreTarget(dest)
        try:
            reader = make_reader(io.BytesIO(raw))
            for m in reader:
                _restore(target, reader, m)
            reader.check_damage()
        except LtoArchiveError:
            pass
        finally:
            target.close()
        assert sorted(p.name for p in outside.iterdir()) == ["dest"]


def _restore(target: RestoreTarget, reader: Any, m: Any) -> None:
    try:
        if m.kind == "file":
            chunks = []
            n = 0
            for c in reader.iter_data(m, 65536):
                chunks.append(bytes(c))
                n += len(c)
                if n >= DATA_CAP:
                    break
            target.write_file(m.path, chunks, m.mode & 0o777, mtime_ns=m.mtime_ns)
        elif m.kind == "dir":
            target.make_dir(m.path)
        elif m.kind == "symlink":
            target.make_symlink(m.path, m.linkname)
        elif m.kind == "hardlink":
            target.make_hardlink(m.path, m.linkname)
    except LtoArchiveError:
        pass


# --- a whole job: written by the write engine, damaged, restored by the read engine -------------------

@dataclass(frozen=True)
class WrittenJob:
    """A write job's tape (records, None for a filemark), what it wrote, and the logs beside it."""

    fmt: str
    objects: tuple[bytes | None, ...]
    want: dict[str, bytes]          # path on tape -> the bytes written
    copy_log: bytes                 # <session>.json
    journal: bytes                  # <session>.journal.jsonl


def tape_objects(path: Path) -> list[bytes | None]:
    """Every record and filemark of a virtual tape's last partition, in order."""
    objs: list[bytes | None] = []
    with VirtualTape(path) as vt:
        vt.locate(vt.partitions - 1, 0)
        while True:
            try:
                rec = vt.read_record(MAX_RECORD)
            except EndOfData:
                return objs
            objs.append(bytes(rec) if rec else FILEMARK)


def make_vtape(objs: list[bytes | None], path: Path) -> None:
    """A virtual tape holding `objs` (a record each; None: a filemark), then end of data."""
    with create_vtape(path, "LTO-9", capacity=1 << 28) as vt:
        for o in objs:
            if o is FILEMARK:
                vt.write_filemarks(1)
            else:
                vt.write_record(o)


@functools.cache
def written_job(fmt: str) -> WrittenJob:
    """One card (empty, tiny, record-spanning files and a symlink) written as `fmt` with a log folder."""
    rnd = random.Random(fmt)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        card = root / "card"
        (card / "CLIPS").mkdir(parents=True)
        want = {}
        for i, size in enumerate((0, 1, 700, RS + 3, 2 * RS + 10)):
            want[f"card/CLIPS/c{i}.mov"] = data = rnd.randbytes(size)
            (card / "CLIPS" / f"c{i}.mov").write_bytes(data)
        (card / "link").symlink_to("CLIPS/c2.mov")
        with create_vtape(root / "tape", "LTO-9", capacity=1 << 28) as tape:
            done = write_archive([card], tape, WriteOptions(format=fmt, record_size=RS, chunk_size=2 * RS,
                                                            log_dir=root / "logs"))
        assert done.status == "ok", done.status
        [log] = (root / "logs").glob("*.json")
        [journal] = (root / "logs").glob(f"*{JOURNAL_SUFFIX}")
        return WrittenJob(fmt, tuple(tape_objects(root / "tape")), want, log.read_bytes(), journal.read_bytes())


@st.composite
def damaged_records(draw: Any, objects: tuple[bytes | None, ...] | list[bytes | None],
                    max_ops: int = 3) -> list[bytes | None]:
    """`objects` with 1..max_ops records mutated, zeroed, dropped, cut short, repeated or turned into
    filemarks."""
    objs = list(objects)
    for _ in range(draw(st.integers(1, max_ops))):
        i = draw(st.integers(0, len(objs) - 1))
        op = draw(st.sampled_from(["bytes", "bytes", "bytes", "zero", "drop", "filemark", "dup", "short"]))
        rec = objs[i]
        if op == "bytes" and rec is not None:
            objs[i] = draw(mutated_bytes(rec, 3)) or b"\0"
        elif op == "zero" and rec is not None:
            objs[i] = bytes(len(rec))
        elif op == "drop":
            del objs[i]
        elif op == "filemark":
            objs[i] = FILEMARK
        elif op == "dup":
            objs.insert(i, rec)
        elif op == "short" and rec:
            objs[i] = rec[:draw(st.integers(1, len(rec)))]
        if not objs:
            objs = [b"\0"]
    return objs


def in_place(objects: tuple[bytes | None, ...], old: bytes, new: bytes) -> list[bytes | None]:
    """`objects` with the bytes `old` (found in the first tape file, across records) replaced by `new`,
    padded with spaces or cut to the same length, so that the member around them keeps its size."""
    end = objects.index(FILEMARK) if FILEMARK in objects else len(objects)
    sizes = [len(o) for o in objects[:end]]                 # type: ignore[arg-type]
    stream = b"".join(objects[:end])                        # type: ignore[arg-type]
    at = stream.index(old)
    stream = stream[:at] + new[:len(old)].ljust(len(old), b" ") + stream[at + len(old):]
    out: list[bytes | None] = []
    for n in sizes:
        out.append(stream[:n])
        stream = stream[n:]
    return out + list(objects[end:])


def interrupted(job: WrittenJob) -> list[bytes | None]:
    """The job's tape as a crash left it: cut inside the tape file after its last data record (no
    manifest, no filemark), as `verify --manifest JOURNAL` finds it."""
    last = max(i for i, o in enumerate(job.objects) if o is not FILEMARK and any(
        len(w) >= 64 and w[-64:] in o for w in job.want.values()))
    return list(job.objects[:last + 1])


def json_doc(objects: tuple[bytes | None, ...], marker: bytes) -> bytes:
    """The JSON document holding `marker` in the first tape file (its bytes as on tape)."""
    end = objects.index(FILEMARK) if FILEMARK in objects else len(objects)
    stream = b"".join(objects[:end])                        # type: ignore[arg-type]
    start = stream.rindex(b"{", 0, stream.index(marker))
    text = stream[start:].decode("utf-8", "surrogateescape")
    _, n = json.JSONDecoder().raw_decode(text)
    return stream[start:start + len(text[:n].encode("utf-8", "surrogateescape"))]


def restore_checked(job: WrittenJob, objs: list[bytes | None], copy_log: bytes | None = None, *,
                    catalogue: bool = False) -> ReadResult | None:
    """Restore `objs` (the job's tape, damaged) with the read engine, given `copy_log` as --manifest (or the
    tape's own manifests), and assert the invariants of the module's docstring. `catalogue`: then also
    `catalog import` the tape with it, as `lto-archive catalog import --manifest` does."""
    with scratch() as top, bounded():
        make_vtape(objs, top / "tape")
        (top / "log.json").write_bytes(copy_log or b"")
        (top / "outside.txt").write_bytes(b"keep")
        root = top / "root"
        root.mkdir()
        before = sorted(os.listdir(top))
        result = None
        with ours_only():
            manifest = load_copy_log(top / "log.json") if copy_log is not None else None
            with VirtualTape(top / "tape") as dev:
                result = read_tape(dev, "restore", dest=root, manifest=manifest,
                                   tape_files=None if manifest is None else [0])
        if catalogue:
            with ours_only():
                catalog_import(top, copy_log)
        assert sorted(os.listdir(top)) == before and (top / "outside.txt").read_bytes() == b"keep", \
            "written outside the restore root"
        check_claims(job, result, files_under(root), whole=copy_log is None)
        return result


def catalog_import(top: Path, copy_log: bytes | None) -> None:
    with Catalog.open(top / "root" / "catalog.sqlite") as catalog, VirtualTape(top / "tape") as dev:
        import_tape(catalog, dev, load_copy_log(top / "log.json") if copy_log is not None else None)


def check_claims(job: WrittenJob, result: ReadResult | None, restored: dict[str, bytes], whole: bool) -> None:
    """No damaged file passes as ok: what is verified holds the bytes written; a result 'ok' restored every
    file right (`whole`: and every file the job wrote, when the tape's own manifest was the reference)."""
    if result is None:
        return
    for t in result.tape_files:
        for p in t.verified:
            if p in restored and p in job.want:
                assert restored[p] == job.want[p], f"{p}: verified, but its bytes are not those written"
    if result.status == "ok":
        wrong = sorted(p for p, data in restored.items() if p in job.want and data != job.want[p])
        assert not wrong, f"result ok, but restored with other bytes: {wrong}"
        if whole:
            missing = sorted(set(job.want) - set(restored))
            assert not missing, f"result ok, but never restored: {missing}"
