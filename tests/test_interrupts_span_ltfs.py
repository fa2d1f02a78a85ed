"""SIGINT and SIGTERM in LTFS jobs, LTFS-mount jobs, span sets and fan-out: the first signal stops at the next
file boundary and closes every volume properly (an LTFS index of every complete file; a set's last cartridge
with its manifest), status interrupted, exit 130/143; a second signal stops at once and the cartridges still
recover / append safely, the job journal keeping every file the drives took.

The signal is sent from inside the job at a seeded file (its progress callback, or the progress tracker's
file_started for the command line): no timing.
"""

from __future__ import annotations

import json
import os
import random
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import lto_archive
from lto_archive.catalog import Catalog
from lto_archive.errors import ExitCode, Interrupted
from lto_archive.formats.ltfs.recover import check_volume
from lto_archive.formats.ltfs.volume import open_volume
from lto_archive.jobs import journal as journal_mod
from lto_archive.jobs.journal import find_journals, journal_path, read_journal
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.manifest import Manifest
from lto_archive.progress import ProgressTracker
from lto_archive.streaming import RecordStream
from lto_archive.tape import VirtualTape
from lto_archive_cli.main import cli

from tests.ltfs.test_ltfs_recover import append_and_verify, footage, ltfs_opts, make_source, new_volume, read_back

FILES = 10
CODES = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED}


def signal_at(n: int, signum: int = signal.SIGINT, times: int = 1):  # type: ignore[no-untyped-def]
    """A progress callback that sends `signum` to this process `times` times once file n has started."""
    sent = []

    def progress(p) -> None:  # type: ignore[no-untyped-def]
        if p.phase == "write" and p.files_done == n and p.path and not sent:
            for _ in range(times):
                sent.append(signum)
                os.kill(os.getpid(), signum)
    return progress


def kill_at_file(monkeypatch, n: int, signum: int = signal.SIGINT) -> None:  # type: ignore[no-untyped-def]
    """The command line's progress bar is its own: the tracker sends the signal when the write starts file n."""
    started, send = ProgressTracker.file_started, signal_at(n, signum)

    def file_started(self, path: str) -> None:  # type: ignore[no-untyped-def]
        started(self, path)
        send(SimpleNamespace(phase=self.phase, files_done=self.files_done, path=path))
    monkeypatch.setattr(ProgressTracker, "file_started", file_started)


def synced_records(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every record on the device before the next file starts, a journal commit point after every file: which
    files the journal holds when the job is stopped at once depends on the file, not on thread timing."""
    end_record = RecordStream.end_record

    def end_and_sync(self) -> None:  # type: ignore[no-untyped-def]
        end_record(self)
        self.sync()
    monkeypatch.setattr(RecordStream, "end_record", end_and_sync)
    monkeypatch.setattr(journal_mod, "COMMIT_EVERY_BYTES", 0)


def journaled_files(path: Path) -> set[str]:
    return {r.path for r in read_journal(path).records() if r.kind == "file"}


# --- LTFS --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ltfs_first_signal_closes_the_volume_with_an_index_of_every_complete_file(tmp_path: Path,
                                                                                  signum: int) -> None:
    src = make_source(tmp_path / "src" / "card", FILES, 5)
    cart, logs = tmp_path / "tape", tmp_path / "logs"
    new_volume(cart).close()
    stop_at = random.Random(signum).randrange(1, FILES - 2)
    before = signal.getsignal(signal.SIGINT)
    with VirtualTape(cart) as dev:
        result = write_archive([tmp_path / "src" / "card"], dev, ltfs_opts(log_dir=logs),
                               progress=signal_at(stop_at, signum))
    assert signal.getsignal(signal.SIGINT) is before
    assert result.status == "interrupted" and result.manifest.session.status == "interrupted"
    order = [f.path for f in result.files]
    done = {f.path for f in result.files if f.status == "ok"}
    assert done == set(order[:stop_at + 1])                  # the file in flight is finished, no more
    rest = [f for f in result.files if f.status != "ok"]
    assert rest and all(f.status == "not-written" and f"interrupted ({signal.Signals(signum).name})" in f.message
                        for f in rest)
    with pytest.raises(Interrupted) as err:
        result.raise_for_status()
    assert err.value.exit_code == CODES[signum]
    [dest] = result.destinations
    assert dest["status"] == "interrupted" and dest["verified"] == len(done)
    with VirtualTape(cart) as dev:
        state = open_volume(dev)
        assert state.consistent and check_volume(dev).consistent      # closed: no ltfs recover needed
        assert footage(state) == done
        assert read_back(dev, tmp_path / "dest", patterns=["card"]) == {p: src[p] for p in done}
        append_and_verify(dev, tmp_path)                               # and it takes the next session
    sid = result.manifest.session.session_id
    log = json.loads((logs / f"{sid}.json").read_text())
    assert log["session"]["status"] == "interrupted"
    assert journaled_files(journal_path(logs, sid)) == done            # every complete file journaled


def test_ltfs_second_signal_stops_at_once_and_recover_keeps_the_journaled_files(tmp_path: Path,
                                                                                monkeypatch) -> None:
    synced_records(monkeypatch)
    src = make_source(tmp_path / "src" / "card", FILES, 6)
    cart, logs = tmp_path / "tape", tmp_path / "logs"
    new_volume(cart).close()
    stop_at = 6
    with VirtualTape(cart) as dev:
        with pytest.raises(Interrupted) as err:
            write_archive([tmp_path / "src" / "card"], dev, ltfs_opts(log_dir=logs),
                          progress=signal_at(stop_at, times=2))
    assert err.value.exit_code == 130 and "stopped at once by SIGINT" in err.value.message
    assert "ltfs recover" in err.value.message
    assert not list(logs.glob("*.json"))                                # no copy log: stopped at once
    with VirtualTape(cart) as dev:
        uuid = open_volume(dev).label.volume_uuid
        assert not check_volume(dev).consistent
        with pytest.raises(lto_archive.LtoArchiveError, match="ltfs recover"):    # no append before recover
            write_archive([tmp_path / "src" / "card"], dev, ltfs_opts())
    [jpath] = find_journals(logs, uuid)
    journaled = journaled_files(jpath)
    names = sorted(src)
    assert set(names[:stop_at - 1]) <= journaled <= set(names[:stop_at])   # the file in flight is not
    with VirtualTape(cart) as dev:
        report = lto_archive.recover_ltfs(dev, log_dir=logs)
        assert report.consistent and set(report.recovered) == journaled and not report.unproven
        assert footage(open_volume(dev)) == journaled
        assert read_back(dev, tmp_path / "dest", patterns=["card"]) == {p: src[p] for p in journaled}
        append_and_verify(dev, tmp_path)


def test_cli_ltfs_ctrl_c_exits_130_and_catalogs_the_job_as_interrupted(tmp_path: Path, monkeypatch) -> None:
    src = make_source(tmp_path / "src" / "card", FILES, 7)
    cart = tmp_path / "tape"
    new_volume(cart).close()
    kill_at_file(monkeypatch, 3, signal.SIGTERM)
    catalog = tmp_path / "cat.sqlite"
    r = CliRunner().invoke(cli, ["write", str(tmp_path / "src" / "card"), "--device", f"vtape:{cart}",
                                 "--format", "ltfs", "--log-dir", str(tmp_path / "logs"), "--catalog", str(catalog)])
    assert r.exit_code == 143, r.output
    assert "Traceback" not in r.output and "Aborted!" not in r.output
    assert "interrupted by SIGTERM: the session was closed with the 4 file(s) taken before" in r.output
    assert ": interrupted, 4 files proven by read-back" in r.output
    with Catalog.open(catalog, create=False) as cat:
        assert [tuple(j) for j in cat.conn.execute("SELECT status FROM jobs").fetchall()] == [("interrupted",)]
    with lto_archive.Catalog(catalog) as c:
        assert len([h for h in c.search("card/*") if h.copies]) == 4
    v = CliRunner().invoke(cli, ["verify", "--device", f"vtape:{cart}", "--no-catalog"])
    assert v.exit_code == 0, v.output
    with VirtualTape(cart) as dev:
        assert len(footage(open_volume(dev)) & set(src)) == 4


def test_ltfs_fan_out_stops_every_volume_and_each_destination_says_interrupted(tmp_path: Path) -> None:
    src = make_source(tmp_path / "src" / "card", FILES, 8)
    carts = [tmp_path / "a", tmp_path / "b"]
    for c in carts:
        new_volume(c).close()
    with VirtualTape(carts[0]) as a, VirtualTape(carts[1]) as b:
        result = write_archive([tmp_path / "src" / "card"], [a, b], ltfs_opts(log_dir=tmp_path / "logs"),
                               progress=signal_at(4), folders=[tmp_path / "copy"])
    done = {f.path for f in result.files if f.status == "ok"}
    assert result.status == "interrupted" and len(done) == 5
    assert [d["status"] for d in result.destinations] == ["interrupted"] * 3
    assert [d["verified"] for d in result.destinations] == [5, 5, 5]
    for c in carts:
        with VirtualTape(c) as dev:
            assert open_volume(dev).consistent and footage(open_volume(dev)) == done
    assert {p for p in src if (tmp_path / "copy" / p).exists()} == done
    assert Manifest.from_json((tmp_path / "logs" / f"{result.manifest.session.session_id}.json").read_text()
                              ).session.status == "interrupted"


# --- LTFS mount ---------------------------------------------------------------------------------------------

def mount_point(tmp_path: Path):  # type: ignore[no-untyped-def]
    from tests.ltfs_mount import FakeLtfsXattrs
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    return mnt, FakeLtfsXattrs(mnt)


def on_mount(mnt: Path) -> dict[str, bytes]:
    return {str(p.relative_to(mnt)): p.read_bytes() for p in mnt.rglob("*")
            if p.is_file() and ".lto-archive" not in p.parts}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_mount_first_signal_syncs_every_complete_file_and_our_records(tmp_path: Path, signum: int) -> None:
    from lto_archive.jobs.ltfs_mounted import write_to_mount
    src = make_source(tmp_path / "src" / "card", FILES, 9)
    mnt, store = mount_point(tmp_path)
    logs = tmp_path / "logs"
    result = write_to_mount([tmp_path / "src" / "card"], mnt, WriteOptions(log_dir=logs), xattrs=store,
                            progress=signal_at(3, signum))
    done = {f.path for f in result.files if f.status == "ok"}
    assert result.status == "interrupted" and len(done) == 4
    with pytest.raises(Interrupted) as err:
        result.raise_for_status()
    assert err.value.exit_code == CODES[signum]
    assert on_mount(mnt) == {p: src[p] for p in done}           # complete files only, under their names
    assert store.syncs == 2                                      # the files, then our records: both indexed
    sid = result.manifest.session.session_id
    on_volume = Manifest.from_json((mnt / ".lto-archive" / sid / "manifest.json").read_text())
    assert on_volume.session.status == "interrupted"
    assert Manifest.from_json((logs / f"{sid}.json").read_text()).session.status == "interrupted"
    got = read_journal(journal_path(logs, sid))
    assert {r.path for r in got.records() if r.kind == "file"} == done
    assert got.volume_uuids == [store.uuid]


def test_mount_second_signal_stops_at_once_leaving_only_complete_files(tmp_path: Path) -> None:
    from lto_archive.jobs.ltfs_mounted import write_to_mount
    src = make_source(tmp_path / "src" / "card", FILES, 10)
    mnt, store = mount_point(tmp_path)
    logs = tmp_path / "logs"
    with pytest.raises(Interrupted) as err:
        write_to_mount([tmp_path / "src" / "card"], mnt, WriteOptions(log_dir=logs), xattrs=store,
                       progress=signal_at(5, signal.SIGTERM, times=2))
    assert err.value.exit_code == 143 and "stopped at once by SIGTERM" in err.value.message
    assert on_mount(mnt) == {p: src[p] for p in sorted(src)[:5]}        # no partial file under any name
    [jpath] = list(logs.glob("*.journal.jsonl"))
    assert journaled_files(jpath) == set(sorted(src)[:5])
    again = write_to_mount([tmp_path / "src" / "card"], mnt, WriteOptions(), xattrs=store, overwrite=True)
    assert again.status == "ok" and on_mount(mnt) == src



def test_cli_mount_ctrl_c_exits_130_and_the_mount_line_says_interrupted(tmp_path: Path, monkeypatch) -> None:
    src = make_source(tmp_path / "src" / "card", FILES, 17)
    mnt, store = mount_point(tmp_path)
    monkeypatch.setattr("lto_archive.jobs.ltfs_mounted.OsXattrs", lambda: store)     # LTFS's attributes
    monkeypatch.setattr("lto_archive.jobs.ltfs_mount_read.OsXattrs", lambda: store)
    kill_at_file(monkeypatch, 2)
    r = CliRunner().invoke(cli, ["write", str(tmp_path / "src" / "card"), "--device", f"ltfs-mount:{mnt}",
                                 "--no-catalog", "--log-dir", str(tmp_path / "logs")])
    assert r.exit_code == 130, r.output
    assert f"ltfs-mount {mnt}: interrupted, 3 files proven by read-back" in r.output
    assert on_mount(mnt) == {p: src[p] for p in sorted(src)[:3]}

# --- span sets ---------------------------------------------------------------------------------------------

def span_card(root: Path, n: int = 12, size: int = 1_500_000, seed: int = 11) -> dict[str, bytes]:
    rng = random.Random(seed)
    out = {}
    for i in range(n):
        p = root / "card" / "CLIPS" / f"C{i:03}.mov"
        p.parent.mkdir(parents=True, exist_ok=True)
        data = rng.randbytes(size + rng.randrange(1000))
        p.write_bytes(data)
        out[f"card/CLIPS/C{i:03}.mov"] = data
    return out


def span_verified(lib, barcodes: list[str]) -> set[str]:  # type: ignore[no-untyped-def]
    from lto_archive.span.read import LibraryLoader, read_span
    v = read_span(LibraryLoader(lib, barcodes), "verify")
    assert v.status == "ok" and v.complete, v.to_dict()
    return {p for t in v.tape_files for p in t.verified}


@pytest.mark.parametrize("fmt", ["tar", "cpio", "axf"])
def test_span_first_signal_closes_the_open_cartridge_as_the_sets_last(tmp_path: Path, fmt: str) -> None:
    from lto_archive.span.supply import LibrarySupply
    from lto_archive.span.write import write_span
    from tests.span.helpers import RS, make_library
    # 12 clips of 1.2 MB on 8 MiB cartridges: TAR and CPIO take 6 a cartridge (files 6-11 on the second), AXF,
    # whose volume footers and metadata object take whole records, 4 (files 4-7): clip 7 is on the second
    # cartridge in every format, with room to spare either way (1.1 to 1.3 MB clips put it there too), so a
    # larger metadata reserve does not move it to a third
    src = span_card(tmp_path, size=1_200_000)
    lib = make_library(tmp_path / "lib", cartridges=4, capacity=8 << 20, slots=5)
    logs = tmp_path / "logs"
    stop_at = 7                                  # on the second cartridge
    result = write_span([tmp_path / "card"], LibrarySupply(lib, "LTA*"),
                        WriteOptions(format=fmt, record_size=RS, log_dir=logs), progress=signal_at(stop_at))
    assert result.status == "interrupted" and result.error is None
    done = {f.path for f in result.files if f.status == "ok" and not (f.part and not f.part.get("last"))}
    assert done == set(sorted(src)[:stop_at + 1])
    rest = [f for f in result.files if f.path not in done]
    assert rest and all(f.status == "not-written" and "interrupted (SIGINT)" in f.message for f in rest)
    with pytest.raises(Interrupted) as err:
        result.raise_for_status()
    assert err.value.exit_code == 130 and result.barcodes[-1] in err.value.message
    assert len(result.barcodes) == 2
    sessions = [v.manifest.session for v in result.volumes]
    assert [s.span["last"] for s in sessions] == [False, True]           # the set ends where it stopped
    assert [s.status for s in sessions] == ["ok", "interrupted"]
    assert span_verified(lib, result.barcodes) == done                    # every complete file, read back
    for s in sessions:
        assert Manifest.from_json((logs / f"{s.session_id}.json").read_text()).session.status == s.status
    got = read_journal(journal_path(logs, result.job_id))
    assert {r.path for r in got.records() if r.kind == "file"} == done
    by_path = {e["file"]["path"]: e for e in got.entries}
    for v in result.volumes:                     # each entry names its cartridge and where its tape file starts
        for f in v.files:
            if f.path in by_path and not f.part:
                assert by_path[f.path]["cartridges"][0]["barcode"] == v.manifest.session.barcode
                assert by_path[f.path]["sequence"] == v.manifest.session.span["sequence"]
                assert by_path[f.path]["file"]["block"] == f.block


def test_span_second_signal_stops_at_once_and_the_cartridge_takes_the_next_job(tmp_path: Path,
                                                                              monkeypatch) -> None:
    from lto_archive.jobs.read import load_copy_log, verify_tape
    from lto_archive.span.supply import LibrarySupply
    from lto_archive.span.write import write_span
    from tests.span.helpers import RS, make_library
    monkeypatch.setattr(journal_mod, "COMMIT_EVERY_BYTES", 0)
    src = span_card(tmp_path)
    lib = make_library(tmp_path / "lib", cartridges=4, capacity=8 << 20, slots=5)
    logs = tmp_path / "logs"
    with pytest.raises(Interrupted) as err:
        write_span([tmp_path / "card"], LibrarySupply(lib, "LTA*"),
                   WriteOptions(record_size=RS, chunk_size=RS, log_dir=logs), progress=signal_at(7, times=2))
    assert err.value.exit_code == 130 and "stopped at once" in err.value.message
    jpath = next(logs.glob("*.journal.jsonl"))
    journal = read_journal(jpath)
    entries = [e for e in journal.entries if e["file"]["kind"] == "file"]
    assert {e["sequence"] for e in entries} <= {1, 2}
    on_second = [e for e in entries if e["sequence"] == 2]
    assert on_second and {e["sequence"] for e in entries} == {1, 2}
    [cart] = on_second[0]["cartridges"]
    # the cartridge that was open: the next job closes its open tape file and appends after it
    drive = lib.load_barcode(cart["barcode"], None)
    with lib.open_drive(drive) as dev:
        (tmp_path / "next" / "n.mov").parent.mkdir()
        (tmp_path / "next" / "n.mov").write_bytes(random.Random(1).randbytes(50_000))
        again = write_archive([tmp_path / "next"], dev, WriteOptions(record_size=RS))
        assert again.status == "ok" and any("was not closed" in n for n in again.notes)
        assert again.manifest.session.tape_file == cart["tape_file"] + 1
        # the journal proves the members of the interrupted tape file that were complete
        v = verify_tape(dev, tape_files=[cart["tape_file"]], manifest=load_copy_log(jpath))
        proven = set(v.tape_files[0].verified)
    assert {e["file"]["path"] for e in on_second if not e["file"].get("part")} <= proven
    assert proven and all(src[p] for p in proven)


def write_ltfs_set(card: Path, lib, log_dir: Path, progress):  # type: ignore[no-untyped-def]
    from lto_archive.span.supply import LibrarySupply
    from lto_archive.span.write import write_span
    from tests.span.ltfs_helpers import BS
    return write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(format="ltfs", record_size=BS, log_dir=log_dir),
                      progress=progress)


def test_ltfs_span_first_signal_indexes_the_open_cartridge_as_the_sets_last(tmp_path: Path) -> None:
    from tests.span.ltfs_helpers import ltfs_library
    src = span_card(tmp_path, seed=12)
    lib = ltfs_library(tmp_path / "lib", cartridges=4)
    logs = tmp_path / "logs"
    result = write_ltfs_set(tmp_path / "card", lib, log_dir=logs, progress=signal_at(9, signal.SIGTERM))
    assert result.status == "interrupted" and len(result.barcodes) == 2
    done = {f.path for f in result.files if f.status == "ok"}
    assert done == set(sorted(src)[:10])
    with pytest.raises(Interrupted) as err:
        result.raise_for_status()
    assert err.value.exit_code == 143
    sessions = [v.manifest.session for v in result.volumes]
    assert [s.span["last"] for s in sessions] == [False, True] and sessions[-1].status == "interrupted"
    assert span_verified(lib, result.barcodes) == done
    for barcode, v in zip(result.barcodes, result.volumes):     # each cartridge alone: a consistent LTFS volume
        drive = lib.load_barcode(barcode, None)
        with lib.open_drive(drive) as dev:
            state = open_volume(dev)
            assert state.consistent and footage(state) == {f.path for f in v.files if f.status == "ok"}
        lib.unload(drive)
    got = read_journal(journal_path(logs, result.job_id))
    assert {r.path for r in got.records() if r.kind == "file"} == done
    assert got.volume_uuids == [s.span["volume_uuid"] for s in sessions]


def test_ltfs_span_second_signal_then_recover_finds_the_journal_of_a_later_cartridge(tmp_path: Path,
                                                                                    monkeypatch) -> None:
    from tests.span.ltfs_helpers import ltfs_library
    synced_records(monkeypatch)
    src = span_card(tmp_path, seed=13)
    lib = ltfs_library(tmp_path / "lib", cartridges=4)
    logs = tmp_path / "logs"
    with pytest.raises(Interrupted) as err:
        write_ltfs_set(tmp_path / "card", lib, log_dir=logs, progress=signal_at(9, times=2))
    assert err.value.exit_code == 130 and "stopped at once" in err.value.message
    entries = read_journal(journal_path(logs, next(logs.glob("*.journal.jsonl")).name.split(".")[0])).entries
    second = [e for e in entries if e["sequence"] == 2 and e["file"]["kind"] == "file"]
    assert second and len({e["barcode"] for e in second}) == 1
    names = sorted(src)
    journaled = {e["file"]["path"] for e in entries if e["file"]["kind"] == "file"}
    # the files before the signal, and the one the drive had all of when the second came (its hashes are
    # flushed before the journal commits): recover below proves every one of them against the tape
    assert set(names[:8]) <= journaled <= set(names[:9])
    drive = lib.load_barcode(second[0]["barcode"], None)
    with lib.open_drive(drive) as dev:
        assert not check_volume(dev).consistent
        report = lto_archive.recover_ltfs(dev, log_dir=logs)       # the span journal, found by a later volume
        assert report.consistent and set(report.recovered) == {e["file"]["path"] for e in second}
        state = open_volume(dev)
        assert footage(state) == {e["file"]["path"] for e in second}
        assert read_back(dev, tmp_path / "dest", patterns=["card"]) == {e["file"]["path"]: src[e["file"]["path"]]
                                                                        for e in second}
        append_and_verify(dev, tmp_path)


# --- fan-out ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["tar", "axf"])
def test_cli_fan_out_stops_every_destination_and_each_line_says_interrupted(tmp_path: Path, monkeypatch,
                                                                             fmt: str) -> None:
    from lto_archive.jobs.read import verify_tape
    from lto_archive.tape import create_vtape
    src = make_source(tmp_path / "src" / "card", FILES, 14)
    carts = [tmp_path / "a", tmp_path / "b"]
    for i, c in enumerate(carts):
        create_vtape(c, "LTO-9", capacity=1 << 30, barcode=f"FAN00{i}L9").close()
    kill_at_file(monkeypatch, 2)
    r = CliRunner().invoke(cli, ["write", str(tmp_path / "src" / "card"), "--format", fmt,
                                 "--device", f"vtape:{carts[0]}", "--device", f"vtape:{carts[1]}",
                                 "--copy-to", str(tmp_path / "copy"), "--block-size", "16K", "--no-catalog",
                                 "--log-dir", str(tmp_path / "logs")])
    assert r.exit_code == 130, r.output
    lines = [line for line in r.output.splitlines() if line.startswith("  tape ") or line.startswith("  folder ")]
    assert len(lines) == 3 and all(": interrupted, 3 files proven by read-back" in line for line in lines), lines
    done = set(sorted(src)[:3])
    for c in carts:
        with VirtualTape(c) as dev:
            v = verify_tape(dev)
        assert v.status == "ok" and set(v.tape_files[0].verified) == done
        assert v.tape_files[0].manifest.session.status == "interrupted"
    assert {p for p in src if (tmp_path / "copy" / p).exists()} == done


def test_two_span_sets_in_one_pass_both_stop_and_the_folder_says_interrupted(tmp_path: Path) -> None:
    from lto_archive.span.supply import library_supplies
    from lto_archive.span.write import write_spans
    from tests.span.helpers import RS
    from tests.span.test_span_two_drives import _library
    src = span_card(tmp_path, seed=15)
    lib = _library(tmp_path / "lib", [8 << 20] * 3, [8 << 20] * 3)
    results = write_spans([tmp_path / "card"], library_supplies(lib, ["LTA*", "LTB*"]),
                          WriteOptions(record_size=RS, log_dir=tmp_path / "logs"), progress=signal_at(6, signal.SIGTERM),
                          folders=[tmp_path / "copy"])
    done = set(sorted(src)[:7])
    assert [r.status for r in results] == ["interrupted", "interrupted"]
    for r in results:
        assert {f.path for f in r.files if f.status == "ok"} == done and len(r.barcodes) == 2
        assert r.volumes[-1].manifest.session.status == "interrupted" and r.volumes[-1].manifest.session.span["last"]
        with pytest.raises(Interrupted) as err:
            r.raise_for_status()
        assert err.value.exit_code == 143 and r.barcodes[-1] in err.value.message
        assert span_verified(lib, r.barcodes) == done
    [folder] = [f for r in results for f in r.folders]
    assert folder.status == "interrupted" and set(folder.verified) == done
    assert {p for p in src if (tmp_path / "copy" / p).exists()} == done


def test_cli_span_two_drives_exits_143_and_each_set_says_interrupted(tmp_path: Path, monkeypatch) -> None:
    from tests.span.test_span_two_drives import _library
    span_card(tmp_path, seed=16)
    _library(tmp_path / "lib", [8 << 20] * 3, [8 << 20] * 3)
    kill_at_file(monkeypatch, 5, signal.SIGTERM)
    catalog = tmp_path / "cat.sqlite"
    r = CliRunner().invoke(cli, ["write", str(tmp_path / "card"), "--device", f"vlib:{tmp_path / 'lib'}", "--span",
                                 "--barcodes", "LTA*", "--barcodes", "LTB*", "--block-size", "64K",
                                 "--log-dir", str(tmp_path / "logs"), "--catalog", str(catalog)])
    assert r.exit_code == 143, r.output
    assert "Traceback" not in r.output
    assert len([line for line in r.output.splitlines() if line.startswith("span set ") and
                line.endswith(" - interrupted")]) == 2
    with Catalog.open(catalog, create=False) as cat:
        statuses = sorted(tuple(j) for j in cat.conn.execute("SELECT status FROM jobs").fetchall())
    assert statuses == [("interrupted",)] * 2 + [("ok",)] * 2      # each set: volume 1 complete, volume 2 stopped


def test_a_file_that_never_reached_the_tape_does_not_hold_the_journal_back(tmp_path: Path) -> None:
    from lto_archive.jobs.journal import Journal
    from lto_archive.manifest import FileRecord, SessionInfo
    s = SessionInfo(session_id="s", tool="t", format="tar", algorithms=["xxh128"], record_size=512, operator="o",
                    host="h", sources=[], device="d", barcode=None, generation="LTO-9", tape_file=0, partition=0,
                    start_block=0, started="")
    j = Journal(journal_path(tmp_path, "s"), s, [])
    unreadable = FileRecord("a", size=5, status="unreadable")          # no hashes, never will have any
    j.offer(unreadable, 0)
    j.offer(FileRecord("b", size=1, hashes={"xxh128": "1"}), 1)
    assert j.commit(1) == 2
    j.close()
    assert [r.path for r in read_journal(j.path).records()] == ["b"]
    assert j.commit(None) == 0                                           # closed: nothing more, no error
