"""The LTFS commands of `lto-archive`: format, write --format ltfs, ls, verify, restore, ltfs check and
ltfs recover, with --json parsed and exit codes checked.

Most calls run the click program in this process (with sys.argv set as the real program sees it: the
error handler reads it to choose JSON); the exit codes that matter most are also checked through the
real program in a subprocess (`run`).
"""

from __future__ import annotations

import json
import os
import random
import sys
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from lto_archive.errors import ExitCode
from lto_archive_cli.main import cli
from lto_archive.formats.ltfs.label import Label

from ..bad_input_helpers import run, set_sidecar, tape_objects

META = ".lto-archive"


def source(top: Path, n: int = 5, seed: int = 1) -> dict[str, bytes]:
    rng = random.Random(seed)
    out = {}
    for i in range(n):
        p = top / ("A001" if i % 2 else "") / f"clip {i}: take.mov"
        p.parent.mkdir(parents=True, exist_ok=True)
        data = rng.randbytes(rng.randint(1, 60_000))
        p.write_bytes(data)
        out[str(p.relative_to(top.parent))] = data
    return out


def files_under(root: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = Path(dirpath) / n
            rel = str(p.relative_to(root))
            if not rel.startswith(META + "/"):
                out[rel] = p.read_bytes()
    return out


@pytest.fixture(autouse=True)
def _argv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["lto-archive"])


def jrun(*args, code: int = 0) -> dict:  # type: ignore[no-untyped-def]
    """`lto-archive ARGS --json` in this process: the exit code and the one JSON document it prints."""
    argv = [str(a) for a in args] + ["--json"]
    sys.argv[1:] = argv
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return json.loads(result.stdout)


def prun(*args, code: int) -> dict:  # type: ignore[no-untyped-def]
    """The same through the real program in a subprocess."""
    cp = run(*args, "--json")
    assert cp.returncode == code, (cp.returncode, cp.stdout, cp.stderr)
    assert "Traceback" not in cp.stderr
    return json.loads(cp.stdout)


def formatted(tmp: Path, *extra: str) -> tuple[Path, str, dict]:
    cart = tmp / "tape"
    doc = jrun("vtape", "create", cart, "--capacity", "64M", "--partitions", "2", "--barcode", "ABC123L9")
    assert doc["capacity"] == 64_000_000      # decimal, as tape vendors quote capacities (issue 16)
    dev = f"vtape:{cart}"
    doc = jrun("format", "--device", dev, "--barcode", "ABC123L9", "--volume-name", "Day 1", "--block-size", "16K",
               *extra)
    return cart, dev, doc


def test_format_write_ls_verify_restore_check(tmp_path: Path) -> None:
    cart, dev, doc = formatted(tmp_path)
    label = Label.from_xml((cart / "1_2_R").read_bytes())
    assert doc == {"status": "ok", "serial": "ABC123", "volume_uuid": label.volume_uuid, "volume_name": "Day 1",
                   "block_size": 16384, "generation": 1}
    assert (cart / "0_0_R").read_bytes()[4:10] == b"ABC123" and label.blocksize == 16384

    src = source(tmp_path / "src" / "card")
    doc = jrun("write", tmp_path / "src" / "card", "--device", dev, "--format", "ltfs", "--block-size", "512K",
               "--index-every", "64K", "--log-dir", tmp_path / "logs", "--no-progress")
    assert doc["status"] == "ok" and doc["problems"] == [] and doc["error"] is None
    s = doc["session"]
    assert s["format"] == "ltfs" and s["files"] == len(src) and s["record_size"] == 16384   # the volume's
    assert s["bytes_copied"] == sum(map(len, src.values()))
    assert len(list((tmp_path / "logs").glob("*.json"))) == 1

    doc = jrun("ls", "--device", dev)
    members = {m["path"]: m for m in doc["tape_files"][0]["members"]}
    assert {p for p, m in members.items() if m["kind"] == "file" and not p.startswith(META)} == set(src)
    assert members["card/A001"]["kind"] == "dir"
    assert all(members[p]["size"] == len(b) for p, b in src.items())
    assert doc["notes"] == []

    doc = jrun("verify", "--device", dev)
    t = doc["tape_files"][0]
    assert doc["status"] == "ok" and t["failed"] == [] and t["unproven"] == []
    # and the manifest, 2 checksum lists, copy log, paperwork, custody record, the card's ASC MHL (2)
    assert t["verified"] == len(src) + 6 + 2

    doc = jrun("restore", "--device", dev, tmp_path / "dest", "--no-progress")
    assert doc["status"] == "ok" and doc["tape_files"][0]["restored"] >= len(src)
    assert files_under(tmp_path / "dest") == src

    doc = jrun("ltfs", "check", "--device", dev)
    assert doc["consistent"] is True and doc["unindexed"] == [] and doc["serial"] == "ABC123"
    assert doc["current_index"] == {"source": "index partition", "generation": doc["data_partition"]["generation"]}
    assert doc["current_index"]["generation"] >= 3       # format's, >= 1 checkpoint, the final one


def test_format_takes_the_serial_from_the_cartridge_label(tmp_path: Path) -> None:
    """Like mkltfs: without --barcode/--serial the volume serial comes from the cartridge's own barcode."""
    cart = tmp_path / "tape"
    jrun("vtape", "create", cart, "--capacity", "64M", "--partitions", "2", "--barcode", "XYZ789L9")
    doc = jrun("format", "--device", f"vtape:{cart}", "--block-size", "16K")
    assert doc["serial"] == "XYZ789" and (cart / "0_0_R").read_bytes()[4:10] == b"XYZ789"
    assert jrun("ltfs", "check", "--device", f"vtape:{cart}")["serial"] == "XYZ789"


def test_format_refuses_a_cartridge_with_data_without_force(tmp_path: Path) -> None:
    cart, dev, first = formatted(tmp_path)
    source(tmp_path / "src" / "card", 2)
    jrun("write", tmp_path / "src" / "card", "--device", dev, "--format", "ltfs", "--log-dir", tmp_path / "logs",
         "--no-progress")
    before = tape_objects(cart)
    doc = prun("format", "--device", dev, "--block-size", "16K", code=ExitCode.USAGE)
    assert doc["status"] == "error" and doc["error"] == "UsageError" and doc["exit_code"] == 2
    assert "already holds an LTFS volume" in doc["message"] and "--force" in doc["message"]
    assert tape_objects(cart) == before
    doc = jrun("format", "--device", dev, "--block-size", "16K", "--force", "--serial", "NEW001")
    assert doc["status"] == "ok" and doc["volume_uuid"] != first["volume_uuid"] and doc["serial"] == "NEW001"
    doc = jrun("ls", "--device", dev)
    assert doc["tape_files"][0]["members"] == []


def test_format_refuses_a_tar_cartridge_and_ltfs_write_needs_a_formatted_one(tmp_path: Path) -> None:
    cart = tmp_path / "tar"
    jrun("vtape", "create", cart, "--capacity", "64M")
    source(tmp_path / "src" / "card", 2)
    jrun("write", tmp_path / "src" / "card", "--device", f"vtape:{cart}", "--block-size", "16K",
         "--log-dir", tmp_path / "logs", "--no-progress")
    before = tape_objects(cart)
    doc = jrun("format", "--device", f"vtape:{cart}", code=ExitCode.USAGE)
    assert "already holds data" in doc["message"]
    doc = jrun("write", tmp_path / "src" / "card", "--device", f"vtape:{cart}", "--format", "ltfs",
               "--log-dir", tmp_path / "logs", "--no-progress", code=ExitCode.ARCHIVE)
    assert "lto-archive format" in doc["message"]
    assert tape_objects(cart) == before


def test_unstorable_name_and_clash_exit_codes(tmp_path: Path) -> None:
    cart, dev, _ = formatted(tmp_path)
    top = tmp_path / "src" / "card"
    source(top, 2)
    jrun("write", top, "--device", dev, "--format", "ltfs", "--log-dir", tmp_path / "logs", "--no-progress")
    before = tape_objects(cart)
    # the same paths again: refused, nothing written
    doc = jrun("write", top, "--device", dev, "--format", "ltfs", "--log-dir", tmp_path / "logs2", "--no-progress",
               code=ExitCode.ARCHIVE)
    assert doc["error"] == "ArchiveError" and "already on LTFS volume" in doc["message"]
    assert "volume :" not in doc["message"] and "volume  " not in doc["message"]   # the serial is named
    # a name LTFS cannot store as it is: refused before anything is written (a source error)
    other = tmp_path / "src2" / "card2"
    other.mkdir(parents=True)
    (other / unicodedata.normalize("NFD", "é.wav")).write_bytes(b"x")
    doc = jrun("write", other, "--device", dev, "--format", "ltfs", "--log-dir", tmp_path / "logs3", "--no-progress",
               code=ExitCode.USAGE)
    assert doc["error"] == "UnstorableName" and "NFC" in doc["message"]
    assert tape_objects(cart) == before


def test_crash_check_recover_check(tmp_path: Path) -> None:
    cart, dev, _ = formatted(tmp_path)
    first = source(tmp_path / "one" / "card1", 3, seed=2)
    jrun("write", tmp_path / "one" / "card1", "--device", dev, "--format", "ltfs", "--log-dir", tmp_path / "l1",
         "--no-progress")
    second = source(tmp_path / "two" / "card2", 12, seed=3)
    set_sidecar(cart, faults={"write_error_after_calls": 12})
    doc = jrun("write", tmp_path / "two" / "card2", "--device", dev, "--format", "ltfs", "--index-every", "32K",
               "--log-dir", tmp_path / "l2", "--no-progress", code=ExitCode.DEVICE)
    assert doc["error"] == "MediumError" and "ltfs recover" in doc["message"]
    assert doc["result"]["status"] == "failed"
    set_sidecar(cart, faults={})

    doc = prun("ltfs", "check", "--device", dev, code=ExitCode.ARCHIVE)
    assert doc["error"] == "ArchiveError" and "ltfs recover" in doc["message"]
    r = doc["result"]
    assert r["consistent"] is False and r["unindexed"] and r["unindexed_bytes"] == doc["unindexed_bytes"] > 0
    assert r["current_index"]["source"] == "data partition"
    sys.argv[1:] = ["ltfs", "check", "--device", dev]
    text = CliRunner().invoke(cli, sys.argv[1:])
    assert text.exit_code == 6 and "NOT consistent" in text.stdout and "not in any index" in text.stdout
    assert text.stderr.startswith("error: the LTFS volume is not consistent")

    doc = prun("ltfs", "recover", "--device", dev, code=0)
    assert doc["consistent"] is True and doc["salvaged"] == [] and len(doc["actions"]) == 2
    doc = prun("ltfs", "check", "--device", dev, code=0)
    assert doc["consistent"] is True and doc["unindexed"] == [] and doc["notes"] == []
    assert doc["current_index"]["source"] == "index partition"

    doc = jrun("verify", "--device", dev)
    assert doc["status"] == "ok" and doc["tape_files"][0]["failed"] == []
    jrun("restore", "--device", dev, tmp_path / "dest", "--no-progress")
    got = files_under(tmp_path / "dest")
    assert {p: got[p] for p in first} == first
    # of the crashed session, only whole files are on the volume, bit-exact
    crashed = {p: b for p, b in got.items() if p.startswith("card2/")}
    assert set(crashed) < set(second) and all(second[p] == b for p, b in crashed.items())


def test_index_every_default_is_one_figure_everywhere() -> None:
    """The library's, the format's and the CLI's default index interval are the same bytes (64G, decimal)."""
    from lto_archive.api.targets import parse_capacity
    from lto_archive.formats.ltfs.session import Checkpoints
    from lto_archive.jobs.session import WriteOptions
    option = next(p for p in cli.commands["write"].params if p.name == "index_every")
    assert WriteOptions().index_every_bytes == Checkpoints().every_bytes == parse_capacity(option.default) \
        == 64_000_000_000
