"""What a rushes report holds: clips whose every field is a value with its source, or a reason.

A field the files do not give is never guessed: it is `Field.na("why")`, and every
output (CSV, JSON, HTML) says "not available" with that reason. A value that
rests on an assumption (a WAV's timecode at a frame rate the file does not
record) says so: `assumed=True` and the assumption in `source`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .timecode import rate_display

NOT_AVAILABLE = "not available"


@dataclass(frozen=True)
class Field:
    value: Any = None
    source: str | None = None      # where the value comes from ("ffprobe: stream 0 tag timecode")
    reason: str | None = None      # why there is no value
    assumed: bool = False          # the value rests on an assumption named in `source`

    @classmethod
    def of(cls, value: Any, source: str, assumed: bool = False) -> Field:
        return cls(value=value, source=source, assumed=assumed)

    @classmethod
    def na(cls, reason: str) -> Field:
        return cls(value=None, reason=reason)

    @property
    def available(self) -> bool:
        return self.value is not None

    def or_else(self, other: Field) -> Field:
        return self if self.available else other

    def display(self) -> str:
        """The value as a person reads it ("23.976", "2.002 s"), or "not available"."""
        if self.value is None:
            return NOT_AVAILABLE
        v = self.value
        if isinstance(v, Fraction):
            return rate_display(v)
        if isinstance(v, float):
            return f"{v:.3f}"
        return str(v)

    def to_json(self) -> dict[str, Any]:
        v = self.value
        if isinstance(v, Fraction):
            doc: dict[str, Any] = {"value": f"{v.numerator}/{v.denominator}", "display": rate_display(v)}
        else:
            doc = {"value": v}
        if self.value is None:
            doc["not_available"] = self.reason or "not recorded"
        else:
            doc["source"] = self.source
            if self.assumed:
                doc["assumed"] = True
        return doc


@dataclass(frozen=True)
class FileEntry:
    path: str          # relative to the source's parent: starts with the source folder's name
    size: int
    role: str          # "media", "frame", "sidecar", "other"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "role": self.role}


@dataclass
class FrameRange:
    """A frame sequence's numbers as found on disk."""

    count: int
    first: int
    last: int
    missing: list[int] = field(default_factory=list)

    def missing_text(self, limit: int = 20) -> str:
        """"86402, 86410-86412" (the first `limit` runs)."""
        runs: list[str] = []
        nums = self.missing
        i = 0
        while i < len(nums) and len(runs) < limit:
            j = i
            while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
                j += 1
            runs.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
            i = j + 1
        more = "" if i >= len(nums) else ", ..."
        return ", ".join(runs) + more

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "first": self.first, "last": self.last, "missing": self.missing}


# the fields of a clip, in report order: (attribute, column title)
CLIP_FIELDS: tuple[tuple[str, str], ...] = (
    ("card", "Card"),
    ("camera", "Camera"),
    ("reel", "Reel"),
    ("clip_number", "Clip number"),
    ("scene", "Scene"),
    ("shot", "Shot"),
    ("take", "Take"),
    ("date", "Date"),
    ("file_type", "Type"),
    ("codec", "Codec"),
    ("container", "Container"),
    ("start_timecode", "Start TC"),
    ("end_timecode", "End TC"),
    ("duration", "Duration"),
    ("duration_frames", "Frames"),
    ("duration_seconds", "Seconds"),
    ("frame_rate", "Rate"),
    ("resolution", "Resolution"),
    ("audio", "Audio"),
)


@dataclass
class ClipReport:
    """One clip: a media file, a frame-sequence folder, or a RED .RDC folder."""

    name: str                      # the clip's name (file stem or folder name)
    path: str                      # the clip's file or folder, relative like FileEntry.path
    source: str                    # the SOURCE it was found in, as given
    kind: str                      # "file", "sequence", "red"
    files: list[FileEntry]         # media files / frames, then sidecars
    card: Field = field(default_factory=lambda: Field.na("not determined"))
    camera: Field = field(default_factory=lambda: Field.na("not determined"))
    reel: Field = field(default_factory=lambda: Field.na("not determined"))
    clip_number: Field = field(default_factory=lambda: Field.na("not determined"))
    scene: Field = field(default_factory=lambda: Field.na("not determined"))
    shot: Field = field(default_factory=lambda: Field.na("not determined"))
    take: Field = field(default_factory=lambda: Field.na("not determined"))
    date: Field = field(default_factory=lambda: Field.na("not determined"))
    file_type: Field = field(default_factory=lambda: Field.na("not determined"))
    codec: Field = field(default_factory=lambda: Field.na("not determined"))
    container: Field = field(default_factory=lambda: Field.na("not determined"))
    start_timecode: Field = field(default_factory=lambda: Field.na("not determined"))
    end_timecode: Field = field(default_factory=lambda: Field.na("not determined"))
    duration: Field = field(default_factory=lambda: Field.na("not determined"))
    duration_frames: Field = field(default_factory=lambda: Field.na("not determined"))
    duration_seconds: Field = field(default_factory=lambda: Field.na("not determined"))
    frame_rate: Field = field(default_factory=lambda: Field.na("not determined"))
    resolution: Field = field(default_factory=lambda: Field.na("not determined"))
    audio: Field = field(default_factory=lambda: Field.na("not determined"))
    frames: FrameRange | None = None
    naming_extra: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    copies: list[Any] | None = None   # with a catalog: report.copies.ClipCopy per destination holding it

    def copies_text(self) -> str:
        """'LTA001L9 verified 2026-11-23; /media/SHUTTLE01 NOT verified', or 'no copy in the catalog'."""
        if self.copies is None:
            return ""
        return "; ".join(c.text() for c in self.copies) or "no copy in the catalog"

    def tapes(self) -> list[str]:
        """Barcodes of the cartridges holding every file of the clip."""
        return [c.barcode or c.destination for c in self.copies or [] if c.kind == "tape" and c.complete]

    def proven_copies(self) -> int:
        """Destinations (cartridges, folders) holding every file of the clip, each verified."""
        return sum(1 for c in self.copies or [] if c.proven)

    @property
    def media_files(self) -> list[FileEntry]:
        return [f for f in self.files if f.role in ("media", "frame")]

    @property
    def sidecars(self) -> list[FileEntry]:
        return [f for f in self.files if f.role == "sidecar"]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def fields(self) -> list[tuple[str, str, Field]]:
        return [(attr, title, getattr(self, attr)) for attr, title in CLIP_FIELDS]

    def unavailable(self) -> list[tuple[str, str]]:
        """[(column title, reason)] for every field without a value."""
        return [(title, f.reason or "not recorded") for _, title, f in self.fields() if not f.available]

    def files_text(self) -> str:
        """File names for a table cell: every media file, or a sequence's first...last."""
        media = self.media_files
        if self.kind == "sequence" and self.frames and len(media) > 2:
            first, last = media[0].path.rsplit("/", 1)[-1], media[-1].path.rsplit("/", 1)[-1]
            return f"{first} ... {last} ({len(media)} frames)"
        return "; ".join(f.path.rsplit("/", 1)[-1] for f in media)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "source": self.source,
            "kind": self.kind,
            "size": self.size,
            "files": [f.to_json() for f in self.files],
            **{attr: getattr(self, attr).to_json() for attr, _ in CLIP_FIELDS},
            "frames": self.frames.to_json() if self.frames else None,
            "naming_extra": self.naming_extra,
            "notes": self.notes,
            **({} if self.copies is None else {"copies": [c.to_json() for c in self.copies],
                                              "tapes": self.tapes(), "proven_copies": self.proven_copies()}),
        }


@dataclass
class Report:
    clips: list[ClipReport]
    other_files: list[FileEntry]   # files that belong to no clip (card-level XML, checksums, ...)
    sources: list[str]
    created: str                   # ISO 8601 with the local UTC offset
    generator: str
    production: str | None = None
    operator: str | None = None
    catalog: str | None = None
    naming: list[str] = field(default_factory=list)       # the naming convention's patterns
    card_folder: str | None = None
    project_rate: Field = field(default_factory=lambda: Field.na("not given"))

    def totals(self) -> dict[str, Any]:
        files = sum(len(c.files) for c in self.clips) + len(self.other_files)
        size = sum(c.size for c in self.clips) + sum(f.size for f in self.other_files)
        known = [c.duration_seconds.value for c in self.clips if c.duration_seconds.available]
        cameras: dict[str, int] = {}
        for c in self.clips:
            key = c.camera.value if c.camera.available else NOT_AVAILABLE
            cameras[key] = cameras.get(key, 0) + 1
        types: dict[str, int] = {}
        for c in self.clips:
            key = c.file_type.value if c.file_type.available else NOT_AVAILABLE
            types[key] = types.get(key, 0) + 1
        return {
            "clips": len(self.clips),
            "files": files,
            "bytes": size,
            "duration_seconds": round(float(sum(known)), 3),
            "clips_without_duration": len(self.clips) - len(known),
            "fields_not_available": sum(len(c.unavailable()) for c in self.clips),
            "clips_per_camera": dict(sorted(cameras.items())),
            "clips_per_type": dict(sorted(types.items())),
            "takes_per_shot": self.takes_per_shot(),
        }

    def takes_per_shot(self) -> dict[str, list[str]]:
        """RT-030 asks for the number of shots and of takes per shot: {"12A": ["1", "3"], ...},
        from clips whose scene and take are known."""
        out: dict[str, set[str]] = {}
        for c in self.clips:
            if not (c.scene.available and c.take.available):
                continue
            shot = f"{c.scene.value}{c.shot.value if c.shot.available else ''}"
            out.setdefault(shot, set()).add(str(c.take.value))
        return {k: sorted(v, key=lambda t: (len(t), t)) for k, v in sorted(out.items())}

    def to_json(self) -> dict[str, Any]:
        return {
            "report": "digital rushes report (CST RT-030 2.3.2)",
            "schema": 1,
            "production": self.production,
            "operator": self.operator,
            "created": self.created,
            "generator": self.generator,
            "sources": self.sources,
            "catalog": self.catalog,
            "naming_convention": {"patterns": self.naming, "card_folder": self.card_folder},
            "project_rate": self.project_rate.to_json(),
            "totals": self.totals(),
            "clips": [c.to_json() for c in self.clips],
            "other_files": [f.to_json() for f in self.other_files],
        }
