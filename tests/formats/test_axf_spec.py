"""The specification is complete enough to read a tape: the reader in its Appendix A, written from
the text alone with the standard library, lists and proves what the write job wrote."""

from __future__ import annotations

import os
import re
from pathlib import Path

from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.tape import create_vtape
from tests.tape_helpers import tape_file_bytes

SPEC = Path(__file__).resolve().parents[2] / "docs" / "formats" / "axf-style.md"


def spec_reader():  # type: ignore[no-untyped-def]
    text = SPEC.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    ns: dict = {}
    exec(compile(blocks[0], str(SPEC), "exec"), ns)
    return ns["read_tape_file"]


def test_spec_does_not_claim_smpte_conformance() -> None:
    text = SPEC.read_text(encoding="utf-8")
    assert "claims no conformance to ST\n2034-1" in text or "claims no conformance" in text
    for doc in (SPEC, *sorted((Path(__file__).resolve().parents[2] / "lto_archive" / "formats" / "axf").glob("*.py"))):
        assert not re.search(r"conform(s|ing|ant) (to|with) (SMPTE|ST 2034)", doc.read_text(encoding="utf-8"), re.I)


def test_the_appendix_reader_reads_what_the_job_wrote(tmp_path: Path) -> None:
    read_tape_file = spec_reader()
    cards = []
    for k in range(2):
        c = tmp_path / f"card{k}"
        (c / "sub").mkdir(parents=True)
        for i, size in enumerate([0, 1, 4096, 4097, 50_000]):
            (c / f"f{i}.bin").write_bytes(os.urandom(size))
        (c / "sub" / "x.txt").write_bytes(b"x")
        os.symlink("f1.bin", c / "link")
        cards.append(c)
    tape = create_vtape(tmp_path / "tape", "LTO-9", capacity=1 << 30)
    for c in cards:
        assert write_archive([c], tape, WriteOptions(format="axf", record_size=4096, algorithms=("md5", "xxh128"))
                             ).status == "ok"
    tape.close()
    for n, c in enumerate(cards):
        members = read_tape_file(tape_file_bytes(tmp_path / "tape", n))    # 0 opens the volume, 1 does not
        files = {m["path"]: m for m in members if m["kind"] == "file"}
        assert all(m["proven"] for m in files.values())
        want = {f"{c.name}/{p.relative_to(c)}": p.read_bytes() for p in c.rglob("*") if p.is_file() and not p.is_symlink()}
        assert {k: v["data"] for k, v in files.items() if not k.startswith(".lto-archive")} == want
        links = [m for m in members if m["kind"] == "symlink"]
        assert [(m["path"], m["linkname"]) for m in links] == [(f"{c.name}/link", "f1.bin")]
        assert {m["path"] for m in members if m["kind"] == "dir"} == {c.name, f"{c.name}/sub"}
        assert list(files)[0] == ".lto-archive/session.json" and list(files)[-1] == ".lto-archive/manifest.json"
