"""Interop with the ASC MHL reference tool (ascmitc/mhl `ascmhl` 1.2), both ways.

* on a folder where we wrote a generation, `ascmhl create` finds every file
  verified and exits 0 (and `ascmhl-debug verify` agrees, directory hashes too);
  after one file is damaged it records it failed and exits non-zero;
* a history the reference tool wrote is read and checked by us (`mhl verify`),
  and a generation we append to it is accepted by the tool again.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lto_archive.mhl import (CreatorInfo, c4_id, create_generation, generation_from_manifest, read_history,
                             verify_tree, write_generation)

from .conftest import Ascmhl
from .test_manifest import _manifest

pytestmark = pytest.mark.interop

NAMES = ["A001C001_240501_R1AB.mov", "clip with spaces.mov", "été ü 日本語.mov", "a&b <c> 'd'.txt",
         "CLIPS/deep/er/frame.0001.dpx", "CLIPS/deep/er/frame.0002.dpx", "Sound/BWF ä.wav", "zero.bin"]


def _card(root: Path) -> Path:
    for i, n in enumerate(NAMES):
        p = root / n
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"" if n == "zero.bin" else (n.encode() + bytes([i])) * (100 * (i + 1)))
    (root / "empty folder").mkdir()
    return root


def _newest(root: Path):  # type: ignore[no-untyped-def]
    return read_history(root).generations[-1]


def _ok(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 0, f"exit {res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}"
    return res.stdout


def test_reference_tool_verifies_our_generation(tmp_path: Path, ascmhl: Ascmhl) -> None:
    card = _card(tmp_path / "A001_C007")
    create_generation(card, ["xxh128", "md5"], creator=CreatorInfo.create("Jane DIT", role="DIT",
                                                                         email="jane@example.org",
                                                                         location="Stage 3", comment="offload"))
    out = _ok(ascmhl("create", "-v", card))
    assert "ERROR" not in out
    verified = [line for line in out.splitlines() if line.strip().startswith("verified")]
    assert len(verified) == len(NAMES)
    gen = _newest(card)                                   # the tool's generation, read by us
    assert gen.creator.tool == "ascmhl" and gen.sequence_nr == 2
    assert len(gen.files) == len(NAMES)
    assert {e.action for f in gen.files for e in f.hashes} == {"verified"}
    # its reader accepts our history and our directory hashes
    _ok(ascmhl.debug("verify", card))
    _ok(ascmhl.debug("verify", "-dh", card))
    _ok(ascmhl("info", "-v", card))


def test_reference_tool_fails_a_damaged_copy(tmp_path: Path, ascmhl: Ascmhl) -> None:
    card = _card(tmp_path / "A001_C007")
    create_generation(card, ["md5"])
    victim = card / "CLIPS" / "deep" / "er" / "frame.0002.dpx"
    data = bytearray(victim.read_bytes())
    data[100] ^= 0x40
    victim.write_bytes(bytes(data))
    res = ascmhl("create", card)
    assert res.returncode != 0 and res.returncode == 11, res          # 11: VerificationFailedException in 1.2
    assert "hash mismatch" in res.stderr and "frame.0002.dpx" in res.stderr
    rec = _newest(card).file("CLIPS/deep/er/frame.0002.dpx")
    assert rec is not None and "failed" in {e.action for e in rec.hashes}
    res = ascmhl.debug("verify", card)
    assert res.returncode == 11
    assert verify_tree(card).status == "failed"                        # and so do we, on its history


def test_reference_tool_verifies_a_job_destination(tmp_path: Path, ascmhl: Ascmhl) -> None:
    """The write job's path: Manifest hashes -> transfer generation in a destination folder."""
    card = _card(tmp_path / "A001_C007")
    build = generation_from_manifest(_manifest(card, ["xxh64", "sha256"]), "A001_C007")
    write_generation(card, build.generation)
    out = _ok(ascmhl("create", "-v", "-h", "xxh64", card))
    assert out.count("verified") >= len(NAMES) and "ERROR" not in out
    _ok(ascmhl.debug("verify", "-dh", card))


def test_we_read_and_verify_a_history_the_reference_tool_wrote(tmp_path: Path, ascmhl: Ascmhl) -> None:
    card = _card(tmp_path / "B002_C001")
    _ok(ascmhl("create", "-h", "xxh64", "-h", "md5", "--author_name", "Ref Tool", "--location", "Lab", card))
    h = read_history(card)
    assert len(h.generations) == 1 and h.generations[0].creator.tool == "ascmhl"
    assert h.generations[0].creator.authors[0].name == "Ref Tool" and h.generations[0].creator.location == "Lab"
    r = verify_tree(card)
    assert r.status == "verified" and r.counts["verified"] == len(NAMES)
    assert r.directories_checked >= 5 and r.directory_mismatches == []
    # through the command as well
    res = subprocess.run(["lto-archive", "mhl", "verify", str(card), "--json"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["counts"]["verified"] == len(NAMES)
    # a generation we append to its history is accepted by it
    create_generation(card, ["xxh128"])
    _ok(ascmhl.debug("verify", card))
    _ok(ascmhl("create", card))
    assert [g.creator.tool for g in read_history(card).generations] == ["ascmhl", "lto-archive", "ascmhl"]
    # damage: the command says so with exit 3
    (card / "zero.bin").write_bytes(b"\0")
    res = subprocess.run(["lto-archive", "mhl", "verify", str(card)], capture_output=True, text=True)
    assert res.returncode == 3 and "zero.bin" in res.stdout


def test_reference_tool_detects_our_tampered_chain_the_same_way(tmp_path: Path, ascmhl: Ascmhl) -> None:
    card = _card(tmp_path / "C003")
    w = create_generation(card, ["xxh128"]).written[0]
    w.path.write_bytes(w.path.read_bytes().replace(b"<hostname>", b"<hostname>x"))
    res = ascmhl("create", card)
    assert res.returncode == 31, res                                   # ModifiedMHLManifestFileException
    with pytest.raises(Exception, match="was modified"):
        read_history(card)


def test_c4_ids_agree(tmp_path: Path, ascmhl: Ascmhl) -> None:
    for i, data in enumerate([b"", b"abc", bytes(range(256)) * 50]):
        p = tmp_path / f"f{i}"
        p.write_bytes(data)
        out = _ok(ascmhl.debug("hash", "-h", "c4", p))
        assert out.strip().endswith("= " + c4_id(data)), out
