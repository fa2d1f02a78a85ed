"""What scan_volume finds: every file (proven, failed, unproven, missing), object, damaged region.

    report.files            # every file found or listed: proven / failed / unproven / missing
    report.damaged          # the regions where no valid structure was where one belonged
    report.to_dict()        # the JSON that `lto-archive axf scan --json` prints
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ...errors import CorruptArchive, JobIncomplete, RestoreConflict, UnsafePath, VerificationFailed
from .payloads import ObjectFooter, ObjectHeader

__all__ = ["PROVEN", "FAILED", "UNPROVEN", "MISSING", "ScannedFile", "ScannedObject", "Damage", "ScanReport"]

PROVEN, FAILED, UNPROVEN, MISSING = "proven", "failed", "unproven", "missing"


@dataclass
class ScannedFile:
    object_uuid: str
    seq: int
    path: str
    kind: str
    size: int
    tape_file: int
    block: int | None = None          # record holding its file header (or footer, when the header is lost)
    status: str = ""                  # proven | failed | unproven | missing (regular files); "" for dirs, links
    reason: str = ""
    proof: str = ""                   # "file footer" | "object footer"
    restored: bool = False
    linkname: str = ""
    mode: int = 0o644
    mtime_ns: int = 0
    checksums: dict[str, str] = field(default_factory=dict)     # as written
    # a segment of a file that spans volumes (spec 7.3): `size` is the whole file's; restored as
    # PATH.axf-segment-OFFSET until the last segment is proven, then joined into PATH
    segment_offset: int = 0
    segment_size: int | None = None
    continues: bool = False           # the file goes on in the next volume
    continued: bool = False           # this segment continues a file begun on an earlier volume
    joined: bool = False              # the whole file was joined from its segments and proven
    # where the data is, to read it again (not reported)
    _data_block: int | None = None
    _seg: int = 0
    _computed: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        return d


@dataclass
class ScannedObject:
    uuid: str
    tape_file: int
    header: ObjectHeader | None = None
    footer: ObjectFooter | None = None
    header_block: int | None = None
    footer_block: int | None = None
    files: dict[int, ScannedFile] = field(default_factory=dict)
    manifest: bytes | None = None        # its .lto-archive/manifest.json, once proven
    ended: bool = False

    def to_dict(self) -> dict[str, Any]:
        h = self.header
        return {"uuid": self.uuid, "tape_file": self.tape_file,
                "header": "found" if h else "lost", "footer": "found" if self.footer else "lost",
                "header_block": self.header_block, "footer_block": self.footer_block,
                "created": h.created if h else None, "creator": h.creator if h else None,
                "session": h.session if h else None, "metadata": h.metadata if h else None,
                "files": [f.to_dict() for f in sorted(self.files.values(), key=lambda f: f.seq)]}


@dataclass
class Damage:
    tape_file: int
    block: int
    offset: int
    message: str
    records: int = 0                   # records passed over before the next valid structure
    resumed_at: int | None = None      # block of the next valid structure

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ScanReport:
    objects: list[ScannedObject] = field(default_factory=list)
    damaged: list[Damage] = field(default_factory=list)
    volumes: list[dict[str, Any]] = field(default_factory=list)      # signatures, headers, footers seen
    refused: list[dict[str, Any]] = field(default_factory=list)      # restore refusals (unsafe, exists)
    notes: list[str] = field(default_factory=list)
    tape_files: int = 0
    records: int = 0

    @property
    def files(self) -> list[ScannedFile]:
        return [f for o in self.objects for f in sorted(o.files.values(), key=lambda f: f.seq) if f.kind == "file"]

    def by_status(self, status: str) -> list[ScannedFile]:
        return [f for f in self.files if f.status == status]

    @property
    def status(self) -> str:
        if self.by_status(FAILED) or self.by_status(MISSING):
            return "failed"
        if self.damaged:
            return "damaged"
        if self.refused:
            return "refused"
        return "incomplete" if self.by_status(UNPROVEN) else "ok"

    def raise_for_status(self) -> None:
        bad = self.by_status(FAILED) + self.by_status(MISSING)
        if bad:
            raise VerificationFailed(f"{len(bad)} file(s) could not be recovered: "
                                     + "; ".join(f"{f.path}: {f.reason}" for f in bad[:20]),
                                     files=[f.path for f in bad])
        if self.damaged:
            d = self.damaged[0]
            raise CorruptArchive(f"{len(self.damaged)} damaged region(s) on the tape, the first in tape file "
                                 f"{d.tape_file} at block {d.block}: {d.message}; every file outside them was "
                                 f"proven", blocks=[x.block for x in self.damaged])
        if self.refused:
            r = self.refused[0]
            raise (UnsafePath if r["reason"] == "unsafe" else RestoreConflict)(
                f"{len(self.refused)} member(s) not restored: "
                + "; ".join(f"{x['path']}: {x['message']}" for x in self.refused[:10]),
                files=[x["path"] for x in self.refused])
        un = self.by_status(UNPROVEN)
        if un:
            raise JobIncomplete(f"{len(un)} file(s) found but not proven: "
                                + "; ".join(f"{f.path}: {f.reason}" for f in un[:20]), files=[f.path for f in un])

    def to_dict(self) -> dict[str, Any]:
        files = self.files
        return {"status": self.status, "tape_files": self.tape_files, "records": self.records,
                "totals": {s: sum(1 for f in files if f.status == s) for s in (PROVEN, FAILED, UNPROVEN, MISSING)}
                | {"restored": sum(1 for f in files if f.restored)},
                "volumes": self.volumes, "damaged": [d.to_dict() for d in self.damaged],
                "refused": self.refused, "notes": self.notes, "objects": [o.to_dict() for o in self.objects]}
