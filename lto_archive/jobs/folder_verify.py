"""Verify a folder copy later (a shuttle drive back from the lab, a RAID after a move).

A write job leaves, in every folder destination, the job's manifest under
`.lto-archive/<session>/manifest.json` (folder_dest.job_files). Like a tape,
the folder describes itself: `verify_folder(root)` reads every such manifest,
re-reads every file the job copied cleanly and compares it with the hashes of
the pass. Nothing is written to the folder.

    result = verify_folder("/media/SHUTTLE01")
    record_folder_read(catalog, result, who="Lab QC")   # lto_archive.catalog
    result.raise_for_status()                            # VerificationFailed naming each bad file
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import JobIncomplete, SourceError, VerificationFailed
from ..folder_volume import FolderVolume, folder_volume
from ..hashing import ALGORITHMS
from ..manifest import META_DIR, OK, Manifest, iso, utc_now
from .folder_dest import read_back


@dataclass
class FolderSession:
    """One job's files in the folder, as its manifest lists them, and what the read-back proved."""

    manifest: Manifest
    verified: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)       # {path, reason}
    unproven: list[dict[str, str]] = field(default_factory=list)     # {path, reason}
    present: list[str] = field(default_factory=list)                 # files of the job found in the folder

    @property
    def session_id(self) -> str:
        return self.manifest.session.session_id


@dataclass
class FolderVerifyResult:
    root: Path
    volume: FolderVolume | None
    at: str
    sessions: list[FolderSession] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def verified(self) -> list[str]:
        return [p for s in self.sessions for p in s.verified]

    @property
    def failed(self) -> list[dict[str, str]]:
        return [f for s in self.sessions for f in s.failed]

    @property
    def unproven(self) -> list[dict[str, str]]:
        return [u for s in self.sessions for u in s.unproven]

    @property
    def status(self) -> str:
        if self.failed:
            return "failed"
        return "incomplete" if self.unproven or not self.sessions else "ok"

    def raise_for_status(self) -> None:
        if self.failed:
            text = "; ".join(f"{f['path']}: {f['reason']}" for f in self.failed[:20])
            raise VerificationFailed(f"{len(self.failed)} file(s) in {self.root} do not match what was copied: "
                                     f"{text}", files=[f["path"] for f in self.failed])
        if not self.sessions:
            raise JobIncomplete(f"nothing verified in {self.root}: " + "; ".join(self.notes), folder=str(self.root))
        if self.unproven:
            text = "; ".join(f"{u['path']}: {u['reason']}" for u in self.unproven[:20])
            raise JobIncomplete(f"{len(self.unproven)} file(s) in {self.root} cannot be proven: {text}",
                                files=[u["path"] for u in self.unproven])

    def to_dict(self) -> dict[str, Any]:
        return {"phase": "verify", "folder": str(self.root), "status": self.status, "at": self.at,
                "volume_id": self.volume.volume_id if self.volume else None, "notes": self.notes,
                "sessions": [{"session_id": s.session_id, "verified": len(s.verified), "failed": s.failed,
                              "unproven": s.unproven} for s in self.sessions],
                "verified": len(self.verified), "failed": self.failed, "unproven": self.unproven}


def folder_manifests(root: Path) -> tuple[list[Manifest], list[str]]:
    """Every job manifest a folder copy holds (oldest job first), and notes on those that cannot be read."""
    meta = root / META_DIR
    found: list[Manifest] = []
    notes: list[str] = []
    for path in sorted(meta.glob("*/manifest.json")) if meta.is_dir() else []:
        try:
            found.append(Manifest.from_json(path.read_bytes()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            notes.append(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc}); its files are not "
                         f"checked")
    found.sort(key=lambda m: (m.session.started, m.session.session_id))
    return found, notes


def verify_folder(root: str | Path) -> FolderVerifyResult:
    """Re-read every file the folder's job manifests list as copied cleanly; compare with their hashes."""
    root = Path(root)
    if not root.is_dir():
        raise SourceError(f"{root} is not a folder (is the drive mounted?)", path=str(root))
    try:
        volume: FolderVolume | None = folder_volume(root)
    except OSError:
        volume = None
    manifests, notes = folder_manifests(root)
    result = FolderVerifyResult(root.resolve(), volume, "", notes=notes)
    if not manifests:
        result.notes.append(f"{root} holds no lto-archive job manifest ({META_DIR}/<session>/manifest.json): "
                            f"nothing to verify against")
    for m in manifests:
        s = FolderSession(m)
        for rec in m.files:
            if rec.kind != "file" or rec.status != OK:
                continue            # never copied to folders (only clean copies are)
            if rec.path.startswith("/") or ".." in rec.path.split("/"):
                s.unproven.append({"path": rec.path, "reason": "not a path inside the folder"})
                continue
            hashes = {a: h for a, h in rec.hashes.items() if a in ALGORITHMS}
            if not hashes:
                s.unproven.append({"path": rec.path, "reason": "the manifest holds no checksum for it"})
                continue
            why = read_back(root / rec.path, hashes)
            if why != "missing from the folder":
                s.present.append(rec.path)
            if why:
                s.failed.append({"path": rec.path, "reason": why})
            else:
                s.verified.append(rec.path)
        result.sessions.append(s)
    result.at = iso(utc_now())
    return result


__all__ = ["verify_folder", "folder_manifests", "FolderVerifyResult", "FolderSession"]
