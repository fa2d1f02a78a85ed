"""Bad input, end to end: the real jobs and the real `lto-archive` command on virtual tapes.

Every test checks both halves of the promise: a clear error (exception type or
exit code, naming the file or cartridge) AND that nothing already written was
lost or damaged (earlier files verify and restore byte-exact, existing files
are untouched, nothing appears outside DEST).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from lto_archive.errors import CorruptArchive, JobIncomplete
from lto_archive.jobs.read import load_copy_log, verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.manifest import CHANGED
from lto_archive.tape import VirtualTape

from .bad_input_helpers import (KiB, MiB, card_files, copy_log, make_card, new_tape, restored_files,
                                run, set_sidecar, snapshot, statuses, tape_objects, write_cli,
                                write_raw_tape_file)
from .conftest import require_tool

OPTS = dict(record_size=16 * KiB, chunk_size=16 * KiB)


def verify_ok(tape: Path, *extra: str) -> dict:
    cp = run("verify", "--device", f"vtape:{tape}", "--json", *extra)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    return json.loads(cp.stdout)


def restore_all(tape: Path, dest: Path, *extra: str, code: int = 0) -> dict[str, bytes]:
    cp = run("restore", "--device", f"vtape:{tape}", dest, "--no-progress", *extra)
    assert cp.returncode == code, (cp.returncode, cp.stdout, cp.stderr)
    return restored_files(dest)


# --- 1. a source file that cannot be read ------------------------------------------------

def test_unreadable_source_file_is_reported_and_the_rest_verifies(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        require_tool("setpriv")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all", "--"]
    else:
        prefix = []
    card = make_card(tmp_path / "src")
    want = card_files(card)
    (card / "b.bin").chmod(0)
    tape = new_tape(tmp_path / "tape")
    try:
        cp = write_cli(tape, card, log_dir=tmp_path / "logs", prefix=prefix)
    finally:
        (card / "b.bin").chmod(0o644)
    assert cp.returncode == 5, (cp.stdout, cp.stderr)
    assert "card/b.bin" in cp.stderr and "unreadable" in cp.stderr
    _, log = copy_log(tmp_path / "logs")
    assert statuses(log) == {"card/a.bin": "ok", "card/b.bin": "unreadable", "card/c.bin": "ok"}
    doc = verify_ok(tape)
    assert doc["tape_files"][0]["verified"] == 2
    got = restore_all(tape, tmp_path / "dest")
    assert got == {k: v for k, v in want.items() if k != "card/b.bin"}


# --- 2. a source file that changes while it is read ------------------------------------------

def test_file_changed_while_read_is_never_verified(tmp_path: Path) -> None:
    card = make_card(tmp_path / "src")
    want = card_files(card)
    tape = new_tape(tmp_path / "tape")
    appended = []

    def progress(p) -> None:  # type: ignore[no-untyped-def]
        if p.phase == "write" and p.path == "card/b.bin" and not appended:
            with open(card / "b.bin", "ab") as f:
                f.write(b"late bytes from the camera")
            appended.append(p.path)

    vt = VirtualTape(tape)
    try:
        result = write_archive([card], vt, WriteOptions(**OPTS), progress=progress)
    finally:
        vt.close()
    assert appended == ["card/b.bin"]
    assert {f.path: f.status for f in result.files} == {"card/a.bin": "ok", "card/b.bin": CHANGED,
                                                         "card/c.bin": "ok"}
    with pytest.raises(JobIncomplete) as ei:
        result.raise_for_status()
    assert "card/b.bin" in str(ei.value) and ei.value.data["files"] == ["card/b.bin"]

    vt = VirtualTape(tape)
    try:
        v = verify_tape(vt)
    finally:
        vt.close()
    assert sorted(v.tape_files[0].verified) == ["card/a.bin", "card/c.bin"]
    assert [u["path"] for u in v.unproven] == ["card/b.bin"]
    assert not v.failed and not v.errors
    with pytest.raises(JobIncomplete, match="card/b.bin"):
        v.raise_for_status()
    # the CLI says the same: exit 5, and a/c restore byte-exact
    cp = run("verify", "--device", f"vtape:{tape}")
    assert cp.returncode == 5 and "card/b.bin" in cp.stdout + cp.stderr
    got = restore_all(tape, tmp_path / "dest", code=5)
    assert got["card/a.bin"] == want["card/a.bin"] and got["card/c.bin"] == want["card/c.bin"]
    assert got["card/b.bin"] == want["card/b.bin"]   # the bytes as they were when opened


# --- 4. write-protected cartridge ----------------------------------------------------------

def test_write_protected_cartridge_refuses_and_keeps_what_is_on_it(tmp_path: Path) -> None:
    first = make_card(tmp_path / "src1", seed=1)
    second = make_card(tmp_path / "src2", name="card2", seed=2)
    tape = new_tape(tmp_path / "tape")
    write_cli(tape, first, log_dir=tmp_path / "logs", check=0)
    set_sidecar(tape, write_protected=True)
    before = tape_objects(tape)
    cp = write_cli(tape, second, log_dir=tmp_path / "logs2")
    assert cp.returncode == 4, (cp.stdout, cp.stderr)
    assert "write-protected" in cp.stderr and "TST001L9" in cp.stderr
    assert tape_objects(tape) == before     # nothing written, EOD unchanged
    assert verify_ok(tape)["tape_files"][0]["verified"] == 3
    assert restore_all(tape, tmp_path / "dest") == card_files(first)

    # the API way (vt.write_protected) refuses the same way, before anything is written
    set_sidecar(tape, write_protected=False)
    vt = VirtualTape(tape)
    try:
        vt.write_protected = True
        from lto_archive.errors import WriteProtected
        with pytest.raises(WriteProtected, match="write-protected"):
            write_archive([second], vt, WriteOptions(**OPTS))
    finally:
        vt.close()
    assert tape_objects(tape) == before


# --- 5. medium older than LTO-5 ----------------------------------------------------------------

def test_lto4_medium_is_refused_unless_allowed(tmp_path: Path) -> None:
    card = make_card(tmp_path / "src")
    tape = tmp_path / "tape"
    run("vtape", "create", tape, "--generation", "LTO-4", "--capacity", "8M", check=0)
    before = tape_objects(tape)
    cp = write_cli(tape, card, log_dir=tmp_path / "logs")
    assert cp.returncode == 4, (cp.stdout, cp.stderr)
    assert "LTO-5" in cp.stderr and "--allow-old-generation" in cp.stderr
    assert tape_objects(tape) == before

    info = json.loads(run("info", "--device", f"vtape:{tape}", "--json", check=0).stdout)
    assert info["generation"] == "LTO-4"
    # the emulated drive defaults to the newest that writes LTO-4 media: an LTO-5 drive, which can
    cp = write_cli(tape, card, log_dir=tmp_path / "logs", extra=("--allow-old-generation",))
    assert info["drive_generation"] == "LTO-5"
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert verify_ok(tape)["tape_files"][0]["verified"] == 3
    assert restore_all(tape, tmp_path / "dest") == card_files(card)

    # a drive that cannot write LTO-4 (LTO-6 reads it only) is refused even when allowed
    set_sidecar(tape, drive_generation="LTO-6")
    before = tape_objects(tape)
    cp = write_cli(tape, card, log_dir=tmp_path / "logs3", extra=("--allow-old-generation",))
    assert cp.returncode == 4, (cp.stdout, cp.stderr)
    assert "cannot write" in cp.stderr and "LTO-4" in cp.stderr
    assert tape_objects(tape) == before


# --- 6. the medium fills up ---------------------------------------------------------------------

def test_full_cartridge_closes_the_archive_cleanly(tmp_path: Path) -> None:
    sizes = {f"f{i}.bin": 200 * KiB for i in range(6)}
    card = make_card(tmp_path / "src", sizes=sizes)
    want = card_files(card)
    tape = new_tape(tmp_path / "tape", capacity=1 * MiB)
    cp = write_cli(tape, card, log_dir=tmp_path / "logs")
    assert cp.returncode == 5, (cp.stdout, cp.stderr)
    _, log = copy_log(tmp_path / "logs")
    st = statuses(log)
    written = sorted(p for p, s in st.items() if s == "ok")
    skipped = sorted(p for p, s in st.items() if s == "not-written")
    assert written and skipped and len(written) + len(skipped) == 6
    for p in skipped:
        assert p in cp.stderr
    # the archive is complete on tape (own manifest, filemark) and the written files are proven
    doc = verify_ok(tape)
    assert doc["tape_files"][0]["manifest"] == "tape" and doc["tape_files"][0]["verified"] == len(written)
    assert restore_all(tape, tmp_path / "dest") == {p: want[p] for p in written}


def test_hard_end_of_medium_inside_a_file(tmp_path: Path) -> None:
    sizes = {f"f{i}.bin": 100 * KiB for i in range(5)}
    card = make_card(tmp_path / "src", sizes=sizes)
    want = card_files(card)
    tape = new_tape(tmp_path / "tape")
    set_sidecar(tape, faults={"end_of_medium_at": 250 * KiB})
    cp = write_cli(tape, card, log_dir=tmp_path / "logs")
    assert cp.returncode == 4, (cp.stdout, cp.stderr)
    log_path, log = copy_log(tmp_path / "logs")
    st = statuses(log)
    assert st["card/f0.bin"] == "ok" and st["card/f1.bin"] == "ok"
    assert st["card/f2.bin"] == "lost" and st["card/f3.bin"] == st["card/f4.bin"] == "not-written"
    assert "card/f2.bin" in cp.stderr
    complete = {p: want[p] for p, s in st.items() if s == "ok"}
    for rec in log["files"]:
        if rec["kind"] == "file" and rec["status"] == "ok":
            assert rec["hashes"], f"{rec['path']} has no hashes in the copy log"

    # verify against the copy log: every complete file proven, the cut-off archive reported as damage
    cp = run("verify", "--device", f"vtape:{tape}", "--manifest", log_path, "--json")
    assert cp.returncode == 6, (cp.stdout, cp.stderr)
    doc = json.loads(cp.stdout)
    assert doc["status"] == "error" and doc["exit_code"] == 6 and doc["error"] == "CorruptArchive"
    t0 = doc["result"]["tape_files"][0]
    assert t0["manifest"] == "copy log" and t0["verified"] == len(complete) and not t0["failed"]
    assert t0["error"] and t0["error"]["error"] == "CorruptArchive"
    vt = VirtualTape(tape)
    try:
        v = verify_tape(vt, manifest=load_copy_log(log_path))
    finally:
        vt.close()
    assert sorted(v.tape_files[0].verified) == sorted(complete)

    got = restore_all(tape, tmp_path / "dest", "--manifest", str(log_path), code=6)
    for p, b in complete.items():
        assert got[p] == b
    assert "card/f3.bin" not in got and "card/f4.bin" not in got
    assert "card/f2.bin" not in got


# --- 7. a corrupt archive on read -------------------------------------------------------------

def _records(tape: Path) -> list[Path]:
    return sorted(tape.glob("0_*_R"), key=lambda p: int(p.name.split("_")[1]))


def _find(tape: Path, needle: bytes) -> tuple[Path, int]:
    for rec in _records(tape):
        i = rec.read_bytes().find(needle)
        if i >= 0:
            return rec, i
    raise AssertionError(f"{needle!r} not on tape")


def _flip(path: Path, at: int, n: int = 4) -> None:
    b = bytearray(path.read_bytes())
    for i in range(at, at + n):
        b[i] ^= 0xFF
    path.write_bytes(bytes(b))


def _written_tape(tmp_path: Path, sizes: dict[str, int] | None = None) -> tuple[Path, Path, dict[str, bytes]]:
    card = make_card(tmp_path / "src", sizes=sizes or {"a.bin": 20 * KiB, "b.bin": 40 * KiB, "c.bin": 30 * KiB})
    tape = new_tape(tmp_path / "tape")
    write_cli(tape, card, log_dir=tmp_path / "logs", check=0)
    return tape, card, card_files(card)


def test_flipped_bytes_in_file_data_fail_verification_naming_the_file(tmp_path: Path) -> None:
    tape, _, want = _written_tape(tmp_path)
    rec, i = _find(tape, want["card/b.bin"][1000:1064])
    _flip(rec, i + 10)
    cp = run("verify", "--device", f"vtape:{tape}")
    assert cp.returncode == 3, (cp.stdout, cp.stderr)
    assert "card/b.bin" in cp.stderr and "FAILED" in cp.stdout
    assert "card/a.bin" not in cp.stderr and "card/c.bin" not in cp.stderr
    # the others are still proven
    doc = json.loads(run("verify", "--device", f"vtape:{tape}", "--json").stdout)
    assert doc["exit_code"] == 3 and doc["files"] == ["card/b.bin"]
    assert doc["result"]["tape_files"][0]["verified"] == 2
    assert [f["path"] for f in doc["result"]["tape_files"][0]["failed"]] == ["card/b.bin"]


def test_flipped_bytes_in_a_tar_header_are_a_corrupt_archive(tmp_path: Path) -> None:
    tape, _, want = _written_tape(tmp_path)
    _, log = copy_log(tmp_path / "logs")
    c = next(f for f in log["files"] if f["path"] == "card/c.bin")
    rec = tape / f"0_{c['block']}_R"
    _flip(rec, c["offset"] + 148, 8)     # the header's checksum field
    cp = run("verify", "--device", f"vtape:{tape}")
    assert cp.returncode == 6, (cp.stdout, cp.stderr)
    assert "tape file 0" in cp.stderr
    vt = VirtualTape(tape)
    try:
        v = verify_tape(vt)
    finally:
        vt.close()
    assert isinstance(v.errors[0], CorruptArchive)
    with pytest.raises(CorruptArchive):
        v.raise_for_status()
    # the reader reads on past the damage, as GNU tar does (here c.bin's pax header: its ustar header
    # follows and still names it): every member restores byte-exact, and the damage is still exit 6
    got = restore_all(tape, tmp_path / "dest", code=6)
    assert got == want
    log_path, _ = copy_log(tmp_path / "logs")
    cp = run("restore", "--device", f"vtape:{tape}", tmp_path / "dest2", "--manifest", log_path, "--no-progress")
    assert cp.returncode == 6 and "damaged region" in cp.stderr, (cp.stdout, cp.stderr)
    assert restored_files(tmp_path / "dest2") == want


def test_truncated_archive_is_a_clear_error(tmp_path: Path) -> None:
    tape, _, want = _written_tape(tmp_path)
    log_path, log = copy_log(tmp_path / "logs")
    c = next(f for f in log["files"] if f["path"] == "card/c.bin")
    cut = c["block"] + 1                 # keep c's header record, lose the rest, filemark and E marker
    for p in list(tape.iterdir()):
        parts = p.name.split("_")
        if len(parts) == 3 and parts[0] == "0" and int(parts[1]) >= cut:
            p.unlink()
    cp = run("verify", "--device", f"vtape:{tape}")
    assert cp.returncode == 6, (cp.stdout, cp.stderr)
    assert "tape file 0" in cp.stderr
    assert sorted(os.listdir(tape)).count(f"0_{cut}_E") == 1    # repaired on open: E marker at the new EOD
    got = restore_all(tape, tmp_path / "dest", code=6)
    assert got == {"card/a.bin": want["card/a.bin"], "card/b.bin": want["card/b.bin"]}
    cp = run("restore", "--device", f"vtape:{tape}", tmp_path / "dest2", "--manifest", log_path, "--no-progress")
    assert cp.returncode == 3 and "card/c.bin" in cp.stderr, (cp.stdout, cp.stderr)
    got = restored_files(tmp_path / "dest2")
    assert "not read back to its end" in cp.stderr and "mismatch" not in cp.stderr
    assert got == {"card/a.bin": want["card/a.bin"], "card/b.bin": want["card/b.bin"]}   # c never half-written


# --- 8. restore of hostile archives --------------------------------------------------------

def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for info, body in members:
            if body is not None:
                info.size = len(body)
                tf.addfile(info, io.BytesIO(body))
            else:
                tf.addfile(info)
    return buf.getvalue()


def _file(name: str, body: bytes) -> tuple[tarfile.TarInfo, bytes]:
    ti = tarfile.TarInfo(name)
    ti.mode = 0o644
    return ti, body


def _link(name: str, target: str) -> tuple[tarfile.TarInfo, None]:
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname = tarfile.SYMTYPE, target
    return ti, None


def test_hostile_archives_restore_nothing_outside_dest(tmp_path: Path) -> None:
    box = tmp_path / "box"
    dest, sentinel = box / "dest", box / "sentinel"
    sentinel.mkdir(parents=True)
    (sentinel / "keep.txt").write_bytes(b"keep me")
    tape = new_tape(tmp_path / "tape")
    outside = tmp_path / "outside"
    outside.mkdir()
    tapes = [
        [_file("safe1.txt", b"one"), _file("../evil", b"EVIL"), _file("../sentinel/evil", b"EVIL")],
        [_file("/abs/evil", b"EVIL"), _file(str(box / "sentinel" / "abs_evil"), b"EVIL"),
         _file("safe2.txt", b"two")],
        [_link("tmplink", str(outside)), _file("tmplink/evil", b"EVIL"), _file("safe3.txt", b"three")],
        [_link("esc", "../sentinel"), _file("esc/evil", b"EVIL"), _link("up/deep", "../../../outside"),
         _file("safe4.txt", b"four")],
    ]
    for members in tapes:
        write_raw_tape_file(tape, _tar(members))
    before_sentinel, before_outside = snapshot(sentinel), snapshot(outside)
    before_box = set(os.listdir(box))

    cp = run("restore", "--device", f"vtape:{tape}", dest, "--no-progress", "--json")
    assert cp.returncode == 6, (cp.stdout, cp.stderr)
    doc = json.loads(cp.stdout)
    assert doc["exit_code"] == 6 and doc["error"] == "UnsafePath"
    refused = {r for t in doc["result"]["tape_files"] for r in _refused_paths(t)}
    for name in ("../evil", "../sentinel/evil", "/abs/evil", str(box / "sentinel" / "abs_evil"),
                 "tmplink", "esc", "up/deep"):
        assert name in refused, (name, refused)
    # a file "through" a refused link is either refused too or lands in a real folder inside DEST
    through = {n for n in ("tmplink/evil", "esc/evil") if n not in refused}
    cp2 = run("restore", "--device", f"vtape:{tape}", tmp_path / "dest2", "--no-progress")
    assert cp2.returncode == 6 and "../evil" in cp2.stderr   # the text error names refused members

    assert snapshot(sentinel) == before_sentinel and snapshot(outside) == before_outside
    assert set(os.listdir(box)) == before_box | {"dest"}
    assert not Path("/abs/evil").exists()
    got = restored_files(dest)
    assert got == {"safe1.txt": b"one", "safe2.txt": b"two", "safe3.txt": b"three", "safe4.txt": b"four",
                   **{n: b"EVIL" for n in through}}
    for n in through:
        assert not (dest / n).parent.is_symlink() and (dest / n).parent.is_dir()
    for p in dest.rglob("*"):      # no link in DEST leads out of it
        assert not p.is_symlink() or (p.resolve().is_relative_to(dest.resolve())), p


def _refused_paths(t: dict) -> list[str]:
    return [r["path"] for r in t["refused"]]


# --- 9. restore never overwrites -----------------------------------------------------------

def test_restore_never_overwrites_unless_asked(tmp_path: Path) -> None:
    tape, _, want = _written_tape(tmp_path)
    dest = tmp_path / "dest"
    (dest / "card").mkdir(parents=True)
    (dest / "card" / "b.bin").write_bytes(b"the editor's version")
    cp = run("restore", "--device", f"vtape:{tape}", dest, "--no-progress")
    assert cp.returncode == 6, (cp.stdout, cp.stderr)
    assert "card/b.bin" in cp.stderr
    assert (dest / "card" / "b.bin").read_bytes() == b"the editor's version"
    assert (dest / "card" / "a.bin").read_bytes() == want["card/a.bin"]

    shutil.rmtree(dest / ".lto-archive", ignore_errors=True)
    got = restore_all(tape, dest, "--overwrite")
    assert got == want
