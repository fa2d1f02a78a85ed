"""Is the card safe to format: every file, as it is now, against the copies and read-backs in the catalog."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lto_archive.baf import (CardChangedSinceCopy, NotSafeToFormat, check_card, issue_certificate,
                             verify_certificate)
from lto_archive.baf.check import CHANGED, COVERED, NO_COPY, NOT_A_FILE, TOO_FEW, UNPROVEN
from lto_archive.catalog import search
from lto_archive.errors import ExitCode, SourceError, UsageError, VerificationFailed

from .conftest import Lab, make_file

CLIP = "A001_C007/CLIPS/A001C007_260315_R1AB.mxf"
CARD_FILES = {CLIP, "A001_C007/CLIPS/A001C008_260315_R1AB.mxf", "A001_C007/A001C007_260315_R1AB.xml",
              "A001_C007/EMPTY.bin"}


def refusal(lab: Lab, copies: int = 2, **kw) -> NotSafeToFormat:  # type: ignore[no-untyped-def]
    with pytest.raises(NotSafeToFormat) as info:
        issue_certificate(lab.catalog, lab.card, copies, **kw)
    return info.value


def by_path(exc: NotSafeToFormat) -> dict[str, dict]:  # type: ignore[type-arg]
    return {m["path"]: m for m in exc.data["missing_files"]}


def block_of(lab: Lab, path: str, barcode: str) -> int:
    hit = search(lab.catalog, path)[0]
    return next(c.block for c in hit.copies if c.destination == barcode)


def test_two_verified_copies_on_two_tapes_issue_the_certificate(safe_lab: Lab) -> None:
    lab = safe_lab
    check = check_card(lab.catalog, lab.card)
    assert check.covered and {f.path for f in check.files} == CARD_FILES and check.folders == 2
    cert = issue_certificate(lab.catalog, lab.card, 2, operator="Lab QC")
    c = cert.content
    assert c["card"]["name"] == "A001_C007" and c["card"]["files"] == 4 and c["card"]["camera"] == "A"
    assert c["card"]["reel"] == "001" and c["card"]["bytes"] == 48_000 + 21_000 + 8
    assert c["copies_required"] == 2 and c["issued"]["by"] == "Lab QC" and c["issued"]["signing_key"] is None
    assert [d["destination"] for d in c["destinations"]] == ["LTA001L9", "LTA002L9"]
    assert all(d["files"] == 4 and d["formats"] == ["tar"] and d["generation"] == "LTO-9" for d in c["destinations"])
    f = next(f for f in c["files"] if f["path"] == CLIP)
    assert f["size"] == 48_000 and set(f["hashes"]) == {"xxh128", "md5"} and f["hashed_on_card"] == ["xxh128"]
    assert f["mtime"] == "2026-03-15T09:00:00.000000Z"
    copies = {cp["barcode"]: cp for cp in f["copies"]}
    assert set(copies) == {"LTA001L9", "LTA002L9"}
    a = copies["LTA001L9"]
    assert a["format"] == "tar" and a["position"]["tape_file"] == 0 and a["position"]["partition"] == 0
    assert a["position"]["block"] == block_of(lab, CLIP, "LTA001L9")
    assert a["written"]["by"] == "Jane DIT" and a["written"]["status"] == "ok" and a["session_id"]
    assert a["verified"] == {"at": "2026-03-15T20:00:00.000000Z", "by": "jane", "host": a["verified"]["host"],
                             "phase": "verify", "result": "ok"}
    assert copies["LTA002L9"]["verified"]["by"] == "bob"
    assert cert.digest.startswith("sha256:") and cert.signature is None


def test_one_copy_is_refused_naming_what_is_missing(lab: Lab) -> None:
    lab.copy("LTA001L9")
    lab.verify("LTA001L9", "jane", "2026-11-23T10:00:00.000000Z")
    exc = refusal(lab)
    assert type(exc) is NotSafeToFormat and exc.exit_code == ExitCode.INCOMPLETE == 5
    missing = by_path(exc)
    assert set(missing) == CARD_FILES and exc.data["covered"] == 0 and exc.data["files"] == 4
    block = block_of(lab, CLIP, "LTA001L9")
    assert missing[CLIP]["state"] == TOO_FEW
    assert missing[CLIP]["reasons"] == [f"only 1 of 2 verified copies (LTA001L9 tape file 0 block {block}, "
                                        f"verified 2026-11-23 by jane)"]
    assert f"{CLIP}: only 1 of 2 verified copies (LTA001L9 tape file 0 block {block}" in exc.message
    # one copy is what --copies 1 asks for
    assert issue_certificate(lab.catalog, lab.card, 1).content["copies_required"] == 1


def test_copies_never_verified_are_not_copies(lab: Lab) -> None:
    lab.copy("LTA001L9")
    lab.copy("LTA002L9")
    exc = refusal(lab)
    assert by_path(exc)[CLIP]["reasons"] == ["no verified copy (0 of 2)", "copy on LTA001L9 never verified",
                                             "copy on LTA002L9 never verified"]
    lab.verify("LTA001L9")
    exc = refusal(lab)
    reasons = by_path(exc)[CLIP]["reasons"]
    assert reasons[0].startswith("only 1 of 2 verified copies (LTA001L9 tape file 0 block ")
    assert reasons[1:] == ["copy on LTA002L9 never verified"]
    assert "copy on LTA002L9 never verified" in exc.message
    lab.verify("LTA002L9")
    assert check_card(lab.catalog, lab.card).covered


def test_a_file_edited_on_the_card_after_its_copy_is_refused(safe_lab: Lab) -> None:
    """The issue's key test: same name, same size, same mtime, other bytes: the hash says so."""
    lab = safe_lab
    clip = lab.card / "CLIPS" / "A001C007_260315_R1AB.mxf"
    data = bytearray(clip.read_bytes())
    data[20_000] ^= 0x01
    st = clip.stat()
    clip.write_bytes(bytes(data))
    os.utime(clip, ns=(st.st_atime_ns, st.st_mtime_ns))          # even the clock says nothing happened
    exc = refusal(lab)
    assert isinstance(exc, CardChangedSinceCopy) and isinstance(exc, VerificationFailed)
    assert exc.exit_code == ExitCode.VERIFY_FAILED == 3
    missing = by_path(exc)
    assert set(missing) == {CLIP}                                 # the other files are fine
    assert missing[CLIP]["state"] == CHANGED
    reason = missing[CLIP]["reasons"][0]
    assert reason.startswith("changed on the card since it was copied (xxh128 differs: card ")
    assert reason.endswith("on LTA001L9, LTA002L9)")
    assert "changed on the card since it was copied (xxh128 differs" in exc.message
    # another size too: said as well
    make_file(clip, b"re-recorded", "2026-03-16T08:00:00")
    reason = by_path(refusal(lab))[CLIP]["reasons"][0]
    assert "xxh128 differs" in reason and "size 11 on the card, 48,000 when copied" in reason


def test_a_file_added_after_the_copy_is_refused(safe_lab: Lab) -> None:
    lab = safe_lab
    make_file(lab.card / "CLIPS" / "A001C009_260315_R1AB.mxf", os.urandom(1000))
    exc = refusal(lab)
    assert type(exc) is NotSafeToFormat and exc.exit_code == 5
    assert by_path(exc) == {"A001_C007/CLIPS/A001C009_260315_R1AB.mxf": {
        "path": "A001_C007/CLIPS/A001C009_260315_R1AB.mxf", "state": NO_COPY, "reasons": ["no copy"],
        "copies": [], "others": []}}
    assert exc.data["covered"] == 4 and exc.data["files"] == 5


def test_deleting_files_from_the_card_still_certifies_what_is_left(safe_lab: Lab) -> None:
    os.unlink(safe_lab.card / "EMPTY.bin")
    assert check_card(safe_lab.catalog, safe_lab.card).covered


def test_two_copies_on_one_cartridge_are_one_copy(lab: Lab) -> None:
    lab.copy("LTA001L9")
    lab.copy("LTA001L9")                          # a second job, same tape
    lab.verify("LTA001L9")
    exc = refusal(lab)
    reasons = by_path(exc)[CLIP]["reasons"]
    assert len(reasons) == 1 and reasons[0].startswith("only 1 of 2 verified copies (LTA001L9 tape file ")
    # the certificate lists the tape once, with the copy last proven
    cert = issue_certificate(lab.catalog, lab.card, 1)
    assert [cp["barcode"] for cp in next(f for f in cert.content["files"] if f["path"] == CLIP)["copies"]] == \
        ["LTA001L9"]


def test_a_copy_whose_last_check_failed_does_not_count(safe_lab: Lab) -> None:
    lab = safe_lab
    cat = lab.catalog
    ids = [r[0] for r in cat.conn.execute(
        "SELECT c.id FROM copies c JOIN destinations d ON d.id = c.destination_id JOIN files f ON f.id = c.file_id "
        "WHERE d.label = 'LTA002L9' AND f.path = ?", (CLIP,))]
    assert len(ids) == 1
    cat.add_verification(ids[0], at="2026-12-01T08:00:00.000000Z", who="night shift", host="qc", phase="verify",
                         result="failed", message="xxh128 mismatch")
    exc = refusal(lab)
    assert set(by_path(exc)) == {CLIP}
    assert by_path(exc)[CLIP]["reasons"][1] == ("copy on LTA002L9 failed its last check (2026-12-01T08:00:00.000000Z "
                                                "by night shift: xxh128 mismatch)")
    # read back fine again later: it counts again
    cat.add_verification(ids[0], at="2026-12-02T08:00:00.000000Z", who="day shift", host="qc", phase="restore",
                         result="ok")
    cert = issue_certificate(cat, lab.card)
    copy = next(cp for cp in next(f for f in cert.content["files"] if f["path"] == CLIP)["copies"]
                if cp["barcode"] == "LTA002L9")
    assert copy["verified"]["by"] == "day shift" and copy["verified"]["phase"] == "restore"


def test_a_tar_and_an_ltfs_copy(lab: Lab) -> None:
    lab.copy("LTA001L9")
    lab.copy("LTF002L9", fmt="ltfs")
    lab.verify("LTA001L9")
    lab.verify("LTF002L9")
    cert = issue_certificate(lab.catalog, lab.card)
    f = next(f for f in cert.content["files"] if f["path"] == CLIP)
    ltfs = next(cp for cp in f["copies"] if cp["barcode"] == "LTF002L9")
    assert ltfs["format"] == "ltfs" and ltfs["volume_uuid"] and ltfs["position"]["partition"] == 1
    assert ltfs["position"]["tape_file"] is None and ltfs["position"]["block"] >= 5


def test_the_card_archived_under_another_name(safe_lab: Lab) -> None:
    """The catalog names files as the write job did (its source folder's name): a card mounted under another
    name is matched with --root-name, and without it the refusal says where the same bytes are."""
    lab = safe_lab
    mounted = lab.root / "Volumes" / "NO NAME"
    shutil.copytree(lab.card, mounted, copy_function=shutil.copy2)
    with pytest.raises(NotSafeToFormat) as info:
        check_card(lab.catalog, mounted).raise_if_not_covered()
    reason = by_path(info.value)["NO NAME/CLIPS/A001C007_260315_R1AB.mxf"]["reasons"][0]
    assert reason == (f"no copy under this name; the same content is catalogued as {CLIP} "
                      "(archived under another folder name? see --root-name)")
    cert = issue_certificate(lab.catalog, mounted, root_name="A001_C007")
    assert cert.content["card"]["name"] == "A001_C007" and cert.content["card"]["source"] == str(mounted)
    with pytest.raises(UsageError):
        check_card(lab.catalog, mounted, root_name="../x")


def test_empty_or_missing_card_is_refused(lab: Lab) -> None:
    empty = lab.root / "unmounted"
    (empty / "EMPTY_FOLDER").mkdir(parents=True)
    with pytest.raises(SourceError, match="holds no file"):
        issue_certificate(lab.catalog, empty)
    with pytest.raises(SourceError, match="does not exist"):
        issue_certificate(lab.catalog, lab.root / "nowhere")
    with pytest.raises(SourceError, match="not a folder"):
        issue_certificate(lab.catalog, lab.card / "EMPTY.bin")
    with pytest.raises(UsageError):
        check_card(lab.catalog, lab.card, 0)


def test_a_symlink_on_the_card_is_refused(safe_lab: Lab) -> None:
    os.symlink("CLIPS/A001C007_260315_R1AB.mxf", safe_lab.card / "link.mxf")
    missing = by_path(refusal(safe_lab))
    assert set(missing) == {"A001_C007/link.mxf"} and missing["A001_C007/link.mxf"]["state"] == NOT_A_FILE


def test_catalogued_without_checksum_is_not_proof(safe_lab: Lab) -> None:
    cat = safe_lab.catalog
    path = "A001_C007/NOHASH.bin"
    make_file(safe_lab.card / "NOHASH.bin", b"abc")
    with cat.transaction():
        fid = cat.file(path, 3, "2026-03-15T09:00:00.000000Z", {})
        dest = cat.destination("tape", label="FOREIGN1", barcode="FOREIGN1")
        job = cat.job("foreign-1", dest, "tape", format="tar")
        cat.copy(fid, dest, job, status="unproven")
    missing = by_path(refusal(safe_lab))
    assert missing[path]["state"] == UNPROVEN and "without a checksum (FOREIGN1)" in missing[path]["reasons"][0]


def test_covered_files_and_progress(safe_lab: Lab) -> None:
    seen: list[tuple[str, int, int]] = []
    check = check_card(safe_lab.catalog, safe_lab.card, progress=lambda p, d, t: seen.append((p, d, t)))
    assert all(f.state == COVERED and len(f.copies) == 2 and not f.reasons for f in check.files)
    assert seen[-1] == ("", 69_008, 69_008) and {p for p, _, _ in seen[:-1]} == CARD_FILES


def test_certificate_issued_then_card_changes_then_refused_then_old_certificate_still_verifies(
        safe_lab: Lab, tmp_path: Path) -> None:
    cert = issue_certificate(safe_lab.catalog, safe_lab.card)
    out = cert.write(tmp_path / "baf.json")
    make_file(safe_lab.card / "CLIPS" / "A001C007_260315_R1AB.mxf", b"x")
    refusal(safe_lab)
    assert verify_certificate(out).digest == cert.digest     # the certificate says what was true when issued


def test_the_cards_asc_mhl_history_is_not_checked_and_the_certificate_says_so(lab: Lab) -> None:
    """The write job writes the card's history, updated, with every copy instead of copying its files:
    the catalog holds no copy of them, so they are listed as not checked rather than refusing every such card."""
    from lto_archive.mhl import create_generation

    create_generation(lab.card, ["xxh128"])
    history = sorted(str(p.relative_to(lab.card.parent)) for p in (lab.card / "ascmhl").rglob("*") if p.is_file())
    assert history
    lab.copy("LTA001L9")
    lab.copy("LTA002L9")
    lab.verify("LTA001L9")
    lab.verify("LTA002L9")
    check = check_card(lab.catalog, lab.card)
    assert check.covered and {f.path for f in check.files} == CARD_FILES and check.not_checked == history
    cert = issue_certificate(lab.catalog, lab.card)
    assert cert.content["card"]["not_checked"] == history and "ASC MHL" in cert.content["card"]["not_checked_reason"]
    assert f"Not checked</th><td>{len(history)} file(s): the card&#x27;s ASC MHL history" in cert.to_html()


def test_a_file_contradicting_the_cards_history_was_never_proven(lab: Lab) -> None:
    """The write job marks it CHANGED (its bytes are not what the card recorded): such a copy never counts."""
    from lto_archive.mhl import create_generation

    create_generation(lab.card, ["xxh128"])
    clip = lab.card / "CLIPS" / "A001C008_260315_R1AB.mxf"
    data = bytearray(clip.read_bytes())
    data[100] ^= 0xFF
    clip.write_bytes(bytes(data))
    for barcode in ("LTA001L9", "LTA002L9"):
        result = write_archive_changed(lab, barcode)
        assert {f.path: f.status for f in result.manifest.files}["A001_C007/CLIPS/A001C008_260315_R1AB.mxf"] == \
            "changed"
    missing = by_path(refusal(lab))
    assert set(missing) == {"A001_C007/CLIPS/A001C008_260315_R1AB.mxf"}
    assert "copy on LTA001L9 was written as 'changed' (not proven when written)" in \
        missing["A001_C007/CLIPS/A001C008_260315_R1AB.mxf"]["reasons"]


def write_archive_changed(lab: Lab, barcode: str):  # type: ignore[no-untyped-def]
    """A write whose status is not ok (a file contradicts the card's history), recorded, then verified."""
    from lto_archive.catalog import record_read, record_write
    from lto_archive.jobs.read import verify_tape
    from lto_archive.jobs.write import WriteOptions, write_archive

    dev = lab.tape(barcode)
    result = write_archive([lab.card], dev, WriteOptions(record_size=16384, operator="Jane DIT"))
    record_write(lab.catalog, result, dev.medium())
    record_read(lab.catalog, verify_tape(dev), dev.medium(), "jane")
    return result
