"""Fuzz: the manifest (`.lto-archive/manifest.json`), the copy log `verify --manifest` loads, and the
session record (`.lto-archive/session.json`). Damage is ManifestDamaged (a CorruptArchive), never a
traceback; what parses is usable by the read engine (typed values, known hash algorithms)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import example, given

from lto_archive.catalog import Catalog, search
from lto_archive.errors import CorruptArchive, LtoArchiveError
from lto_archive.hashing import MultiHasher
from lto_archive.jobs.catalog_import import import_folder
from lto_archive.jobs.read import load_copy_log
from lto_archive.jobs.session import session_document
from lto_archive.manifest import (CHANGED, META_DIR, OK, FileRecord, Manifest, ManifestDamaged, SessionInfo,
                                  parse_session_record)
from tests.bad_input_helpers import run
from tests.fuzz.common import FUZZ
from tests.fuzz.mutate_bytes import mutated_bytes, mutated_json


def _session() -> SessionInfo:
    return SessionInfo(session_id="20261207-133000-ab12", tool="lto-archive 0.1.0", format="tar",
                       algorithms=["xxh128", "md5"], record_size=524288, operator="dit", host="cart",
                       sources=["/cards/A001"], device="vtape:/tmp/t", barcode="AAA001L9", generation="LTO-9",
                       tape_file=0, partition=0, start_block=0, started="2026-12-07T13:30:00.000000Z",
                       finished="2026-12-07T13:31:00.000000Z", duration_s=60.0, bytes_copied=12, files=2,
                       mb_per_s=0.2, status="ok", destinations=[{"device": "vtape:/tmp/t", "status": "ok"}],
                       span={"set_id": "s1", "sequence": 1})


def manifest() -> Manifest:
    files = [FileRecord(path="A001/CLIPS", kind="dir", mode=0o755),
             FileRecord(path="A001/CLIPS/c1.mov", size=5, mtime="2026-12-07T13:00:00.000000Z",
                        hashes={"xxh128": "0" * 32, "md5": "1" * 32}, tape_file=0, partition=0, block=3,
                        offset=512, header_offset=1536, source="/cards/A001/CLIPS/c1.mov"),
             FileRecord(path="A001/CLIPS/c2 é.mov", size=7, status=CHANGED, message="changed while read",
                        hashes={"md5": "2" * 32}, part={"number": 1, "offset": 0, "length": 7, "size": 9,
                                                        "last": False}),
             FileRecord(path="A001/link", kind="symlink", linkname="CLIPS/c1.mov")]
    return Manifest(_session(), files)


VALID = manifest().to_json()
VALID_DOC = json.loads(VALID)
SESSION = session_document(_session(), span={"set_id": "s1", "job": "j", "sequence": 1, "previous": None})


def use(m: Manifest) -> None:
    """What the readers, the copy log and the catalog do with a manifest."""
    m.to_json()
    m.checksum_lists()
    m.copy_log_text()
    for f in m.files:
        assert isinstance(f.path, str) and isinstance(f.size, int) and isinstance(f.hashes, dict)
        _ = f.provable
    MultiHasher(m.session.algorithms).hexdigests()


def parse_or_damage(raw: bytes) -> None:
    try:
        m = Manifest.from_json(raw)
    except ManifestDamaged:
        return
    use(m)


def test_valid_manifest_round_trips() -> None:
    m = Manifest.from_json(VALID)
    assert m == manifest() and m.files[1].status == OK
    use(m)


@FUZZ
@given(mutated_bytes(VALID))
@example(b'{"format": "lto-archive-manifest", "session": [], "files": []}')
@example(VALID.replace(b'"algorithms": ["xxh128", "md5"]', b'"algorithms": "md5"'))
@example(VALID.replace(b'"size": 5', b'"size": "5"'))
@example(VALID.replace(b'"hashes": {"md5"', b'"hashes": {"md5": 1, "x"'))
@example(b"[" * 100_000 + b"]" * 100_000)
@example(VALID.replace(b'"size": 5', b'"size": 5' + b"0" * 5000))
@example(VALID.replace(b"c1.mov", b"c1\xff.mov"))
def test_manifest_bytes(raw: bytes) -> None:
    parse_or_damage(raw)


@FUZZ
@given(mutated_json(VALID_DOC))
@example(json.dumps({**VALID_DOC, "files": [1]}).encode())
@example(json.dumps({**VALID_DOC, "session": {**VALID_DOC["session"], "span": {"a": "DEEP"}}}).encode()
         .replace(b'"DEEP"', b"[" * 450 + b"]" * 450))     # parsed, then asdict() recursed too deep
@example(json.dumps({**VALID_DOC, "session": {**VALID_DOC["session"], "algorithms": ["md4"]}}).encode())
def test_manifest_values(raw: bytes) -> None:
    parse_or_damage(raw)


def test_a_damaged_manifest_is_corrupt_archive_naming_it() -> None:
    try:
        Manifest.from_json(VALID[:-40])
    except CorruptArchive as exc:
        assert "manifest" in exc.message and isinstance(exc, ValueError)
    else:
        raise AssertionError("a truncated manifest parsed")


@FUZZ
@given(mutated_bytes(VALID, 3))
def test_copy_log_as_verify_manifest_loads_it(tmp_path_factory, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    path = Path(tmp_path_factory.mktemp("log")) / "copy-log.json"
    path.write_bytes(raw)
    try:
        use(load_copy_log(path))
    except LtoArchiveError:
        pass


def test_session_record_round_trips() -> None:
    doc = parse_session_record(SESSION)
    assert doc["algorithms"] == ["xxh128", "md5"] and doc["span"]["set_id"] == "s1"


@FUZZ
@given(mutated_bytes(SESSION) | mutated_json(json.loads(SESSION)))
@example(b'{"format": "lto-archive-session", "algorithms": "md5"}')
@example(b'{"format": "lto-archive-session", "algorithms": ["nope"], "span": 1}')
@example(b'"just a string"')
def test_session_record(raw: bytes) -> None:
    try:
        doc = parse_session_record(raw)
    except ManifestDamaged:
        return
    # what the read engine takes from it (jobs/read.Walker._member)
    MultiHasher(tuple(doc.get("algorithms") or ("md5",))).hexdigests()
    assert isinstance(bool(doc.get("span")), bool)


@FUZZ
@given(mutated_json(VALID_DOC) | mutated_bytes(VALID, 3))
@example(VALID.replace(b'"size": 5', b'"size": 18446744073709551616'))
@example(VALID.replace(b'"duration_s": 60.0', b'"duration_s": 1e308'))
@example(VALID.replace(b'"/cards/A001"]', b'"/cards/A001\xff"]'))
@example(VALID.replace(b"A001/CLIPS/c1.mov", b"x" * 300))
@example(VALID.replace(b"A001/CLIPS/c1.mov", b"../../../etc/passwd"))
@example(VALID.replace(b'"/cards/A001"]', b'"\\ud800"]'))
def test_a_folder_copy_imported_into_the_catalog(tmp_path_factory, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    """`catalog import FOLDER`: its manifests are read and recorded; damage is noted, never a traceback
    (names not in UTF-8 included: the catalog keeps them as their bytes)."""
    import_copy(Path(tmp_path_factory.mktemp("copy")), raw)


def test_a_folder_copy_of_a_source_not_in_utf8_imported_into_the_catalog(tmp_path: Path) -> None:
    """Found by fuzzing: a source folder's name that is not UTF-8 (a surrogate escape) went to SQLite as it
    was (UnicodeEncodeError). It is stored as its bytes and reads back as the same name."""
    raw = VALID.replace(b'"/cards/A001"]', b'"/cards/A001\xff"]').replace(b"c1.mov", b"c1\xfe.mov")
    (tmp_path / "A001" / "CLIPS").mkdir(parents=True)
    (tmp_path / "A001" / "CLIPS" / os.fsdecode(b"c1\xfe.mov")).write_bytes(b"hello")
    assert import_copy(tmp_path, raw) is None
    with Catalog.open(tmp_path / "catalog.sqlite") as catalog:
        dump = catalog.dump()
        found = search(catalog, os.fsdecode(b"c1\xfe")) + search(catalog, "CLIPS/c1")
    assert dump["jobs"][0]["sources"] == [os.fsdecode(b"/cards/A001\xff")]
    assert [f["path"] for f in dump["files"]] == [os.fsdecode(b"A001/CLIPS/c1\xfe.mov")]
    assert [f.path for f in found] == [os.fsdecode(b"A001/CLIPS/c1\xfe.mov")] * 2
    out = run("catalog", "search", "--catalog", tmp_path / "catalog.sqlite", "--json", "c1", check=0).stdout
    assert "\\udcfe" in out and json.loads(out)["results"][0]["path"] == os.fsdecode(b"A001/CLIPS/c1\xfe.mov")


def import_copy(root: Path, raw: bytes) -> LtoArchiveError | None:
    (root / "A001" / "CLIPS").mkdir(parents=True, exist_ok=True)
    (root / "A001" / "CLIPS" / "c1.mov").write_bytes(b"hello")
    meta = root / META_DIR / "20261207-133000-ab12"
    meta.mkdir(parents=True)
    (meta / "manifest.json").write_bytes(raw)
    catalog = Catalog.open(root / "catalog.sqlite")
    try:
        import_folder(catalog, root)
    except LtoArchiveError as exc:
        return exc
    finally:
        catalog.close()
    return None


def test_a_manifest_nested_deeper_than_ours_is_damage() -> None:
    """Found by the long run: a span of ~500 nested lists parsed, then asdict() (to_json) hit the
    recursion limit. Nesting is bounded where the JSON is read, whatever the stack depth."""
    deep = json.dumps({**VALID_DOC, "session": {**VALID_DOC["session"], "span": {"a": "DEEP"}}}).encode()
    try:
        Manifest.from_json(deep.replace(b'"DEEP"', b"[" * 20 + b"]" * 20))
    except ManifestDamaged as exc:
        assert "nests deeper" in exc.message
    else:
        raise AssertionError("a manifest nested 20 deep parsed")


def test_a_folder_copy_listing_a_name_too_long_for_the_disk(tmp_path: Path) -> None:
    """Found by the 5000-example run: catalogue_folder asked the disk about a manifest path with a component
    over 255 bytes (ENAMETOOLONG escaped). Such a file is not in the folder; the clip beside it is."""
    doc = json.loads(VALID)
    doc["files"].append({**doc["files"][1], "path": "A001/" + "x" * 300})
    assert import_copy(tmp_path, json.dumps(doc).encode()) is None
    with Catalog.open(tmp_path / "catalog.sqlite") as catalog:
        assert [f["path"] for f in catalog.dump()["files"]] == ["A001/CLIPS/c1.mov"]
