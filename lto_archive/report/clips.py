"""Group the files of camera cards into clips, and name each clip's file type.

A clip is
- one media file (MOV, MXF, MP4, WAV, BRAW, ...);
- a folder of numbered frames (DPX, EXR, ARRIRAW .ari, TIFF, DNG, ...): one clip
  per sequence, with its frame count, first and last frame and missing numbers;
- a RED `.RDC` folder (inside its card's `.RDM` folder): its `.R3D` segments.

Sidecar files (.xml, .ale, .rmd, .xmp, ...) whose name starts with a clip's
name (or that sit in a clip's folder) belong to that clip; every other file is
listed as an "other file" of the report, so nothing on a card goes unmentioned.
"""

from __future__ import annotations

import os
import re
import stat as stat_mod
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SourceError
from .model import FileEntry, FrameRange

VIDEO_EXT = {".mov", ".mp4", ".m4v", ".mxf", ".avi", ".mkv", ".mts", ".m2ts", ".mpg", ".mpeg",
             ".braw", ".crm", ".r3d", ".mts", ".3gp", ".webm", ".cine"}
AUDIO_EXT = {".wav", ".bwf", ".aif", ".aiff", ".mp3", ".m4a", ".flac", ".rf64"}
FRAME_EXT = {".dpx", ".exr", ".ari", ".arx", ".tif", ".tiff", ".dng", ".png", ".jpg", ".jpeg",
             ".cin", ".tga", ".j2c", ".jp2"}
SIDECAR_EXT = {".xml", ".ale", ".rmd", ".xmp", ".smi", ".bim", ".ppn", ".cif", ".srt", ".edl",
               ".cdl", ".cube", ".rtl", ".thm"}
RAW_EXT = {".r3d": "REDCODE RAW (R3D)", ".ari": "ARRIRAW", ".arx": "ARRIRAW HDE", ".braw": "Blackmagic RAW",
           ".crm": "Canon Cinema RAW Light", ".dng": "CinemaDNG", ".cine": "Phantom Cine RAW"}

_FRAME_NAME = re.compile(r"^(?P<prefix>.*?)(?P<num>\d+)(?P<ext>\.[^.]+)$")


@dataclass
class ClipGroup:
    """Files that make one clip, before anything is probed."""

    name: str
    path: str                       # the clip file or folder, relative (starts with the source's name)
    source: str
    kind: str                       # "file", "sequence", "red"
    files: list[FileEntry]
    probe_path: Path                # the file whose technical metadata stands for the clip
    ext: str                        # lower-case extension of the media files
    folders: list[str] = field(default_factory=list)   # folder names from the clip up to the source
    source_parent: str | None = None                    # name of the folder that holds the source
    frames: FrameRange | None = None


@dataclass
class _File:
    rel: str
    path: Path
    size: int
    dir_rel: str                    # relative folder ("" for a file given as the source)


def _walk(root: Path, top: str) -> tuple[list[_File], list[str]]:
    """Every regular file under root (names relative, starting with `top`), sorted; and the
    relative names of symlinks and special files (listed, not followed)."""
    files: list[_File] = []
    odd: list[str] = []
    st = os.lstat(root)
    if not stat_mod.S_ISDIR(st.st_mode):
        if stat_mod.S_ISREG(st.st_mode):
            files.append(_File(top, root, st.st_size, ""))
        else:
            odd.append(top)
        return files, odd
    stack = [(top, root)]
    while stack:
        rel, path = stack.pop()
        try:
            with os.scandir(path) as it:
                children = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            raise SourceError(f"cannot list folder {path}: {exc.strerror}", path=str(path)) from exc
        subdirs = []
        for child in children:
            crel = f"{rel}/{child.name}"
            cst = child.stat(follow_symlinks=False)
            if stat_mod.S_ISDIR(cst.st_mode):
                subdirs.append((crel, Path(child.path)))
            elif stat_mod.S_ISREG(cst.st_mode):
                files.append(_File(crel, Path(child.path), cst.st_size, rel))
            else:
                odd.append(crel)
        stack.extend(reversed(subdirs))
    files.sort(key=lambda f: f.rel.split("/"))
    return files, odd


def _ext(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def _stem(name: str) -> str:
    return os.path.splitext(name)[0]


def _base(rel: str) -> str:
    return rel.rsplit("/", 1)[-1]


def _parents(dir_rel: str) -> list[str]:
    """Folder names from the innermost up to the source: "A/B/C" -> ["C", "B", "A"]."""
    return list(reversed(dir_rel.split("/"))) if dir_rel else []


def group_clips(sources: list[str | Path]) -> tuple[list[ClipGroup], list[FileEntry]]:
    """The clips of every source in the order given (inside each, in path order), and the files
    that belong to no clip."""
    if not sources:
        raise SourceError("no source given: name the camera card(s) or folder(s) to report on")
    clips: list[ClipGroup] = []
    others: list[FileEntry] = []
    tops: dict[str, str] = {}
    for src in sources:
        root = Path(src)
        if not os.path.lexists(root):
            raise SourceError(f"source {root} does not exist", path=str(root))
        top = root.resolve().name if root.name in ("", ".", "..") else root.name
        if top in tops:
            raise SourceError(f"sources {tops[top]} and {root} have the same name {top!r}: "
                              f"their clips could not be told apart in the report", path=str(root))
        tops[top] = str(src)
        parent_name = root.resolve().parent.name or None
        files, odd = _walk(root, top)
        c, o = _group_one(files, str(src), parent_name)
        clips.extend(c)
        others.extend(o)
        others.extend(FileEntry(rel, 0, "other") for rel in odd)
    return clips, others


@dataclass
class _Grouping:
    """One source's files on their way into clips: what is already a clip's (`taken`), and the
    folders that are a frame sequence's clip (their sidecars belong to it)."""

    files: list[_File]
    source: str
    source_parent: str | None
    clips: list[ClipGroup] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    clip_dirs: dict[str, ClipGroup] = field(default_factory=dict)

    def add(self, clip: ClipGroup) -> ClipGroup:
        self.clips.append(clip)
        self.taken.update(f.path for f in clip.files)
        return clip

    def red_clips(self) -> None:
        """RED: every .RDC folder is one clip (the .R3D segments, its other files as sidecars)."""
        red: dict[str, list[_File]] = {}
        for f in self.files:
            parts = f.rel.split("/")
            rdc = next((i for i, p in enumerate(parts[:-1]) if p.lower().endswith(".rdc")), None)
            if rdc is not None:
                red.setdefault("/".join(parts[:rdc + 1]), []).append(f)
        for folder, members in red.items():
            r3d = [m for m in members if _ext(m.rel) == ".r3d"]
            entries = [FileEntry(m.rel, m.size, "media" if _ext(m.rel) == ".r3d" else "sidecar") for m in members]
            entries.sort(key=lambda e: (e.role != "media", e.path.split("/")))
            self.add(ClipGroup(
                name=_stem(_base(folder)), path=folder, source=self.source, kind="red",
                files=entries, probe_path=(r3d or members)[0].path, ext=".r3d",
                folders=_parents(_dirname(folder)), source_parent=self.source_parent))

    def sequence_clips(self) -> None:
        """Frame sequences: numbered image files of one prefix and extension in one folder."""
        seqs: dict[tuple[str, str, str], list[tuple[int, _File]]] = {}
        for f in self.files:
            if f.rel in self.taken or _ext(f.rel) not in FRAME_EXT:
                continue
            m = _FRAME_NAME.match(_base(f.rel))
            if m:
                seqs.setdefault((f.dir_rel, m["prefix"], m["ext"].lower()), []).append((int(m["num"]), f))
        seqs = {k: v for k, v in seqs.items() if len(v) >= 2}     # a lone numbered image is a file of its own
        per_dir: dict[str, int] = {}
        for d, _, _ in seqs:
            per_dir[d] = per_dir.get(d, 0) + 1
        for (d, prefix, ext), frames in seqs.items():
            alone = per_dir[d] == 1 and d != ""   # the folder holds this sequence only: the folder is the clip
            clip = self.add(self._sequence(d, prefix, ext, sorted(frames, key=lambda t: t[0]), alone))
            if alone:
                self.clip_dirs[d] = clip

    def _sequence(self, d: str, prefix: str, ext: str, frames: list[tuple[int, _File]], alone: bool) -> ClipGroup:
        nums = [n for n, _ in frames]
        present = set(nums)
        missing = ([n for n in range(nums[0], nums[-1] + 1) if n not in present]
                   if nums[-1] - nums[0] < 10_000_000 else [])
        if alone:
            name, path, folders = _base(d), d, _parents(_dirname(d))
        else:
            name = prefix.rstrip("._- ") or _base(d)
            path, folders = f"{d}/{prefix}[{nums[0]}-{nums[-1]}]{ext}", _parents(d)
        return ClipGroup(
            name=name, path=path, source=self.source, kind="sequence",
            files=[FileEntry(f.rel, f.size, "frame") for _, f in frames], probe_path=frames[0][1].path, ext=ext,
            folders=folders, source_parent=self.source_parent,
            frames=FrameRange(count=len(nums), first=nums[0], last=nums[-1], missing=missing))

    def file_clips(self) -> None:
        """Single media files."""
        for f in self.files:
            ext = _ext(f.rel)
            if f.rel not in self.taken and (ext in VIDEO_EXT or ext in AUDIO_EXT or ext in FRAME_EXT):
                self.add(ClipGroup(
                    name=_stem(_base(f.rel)), path=f.rel, source=self.source, kind="file",
                    files=[FileEntry(f.rel, f.size, "media")], probe_path=f.path, ext=ext,
                    folders=_parents(f.dir_rel), source_parent=self.source_parent))

    def sidecar_owner(self, f: _File) -> ClipGroup | None:
        """A sidecar's clip: the sequence whose folder it is in, else the clip of the same folder
        with the longest name its name starts with."""
        if _ext(f.rel) not in SIDECAR_EXT:
            return None
        owner = self.clip_dirs.get(f.dir_rel)
        if owner is None:
            stem = _stem(_base(f.rel)).lower()
            for c in self.clips:
                if (_dirname(c.path) == f.dir_rel and stem.startswith(c.name.lower())
                        and (owner is None or len(c.name) > len(owner.name))):
                    owner = c
        return owner


def _group_one(files: list[_File], source: str, source_parent: str | None
               ) -> tuple[list[ClipGroup], list[FileEntry]]:
    g = _Grouping(files, source, source_parent)
    g.red_clips()
    g.sequence_clips()
    g.file_clips()
    others: list[FileEntry] = []
    for f in files:
        if f.rel in g.taken:
            continue
        owner = g.sidecar_owner(f)
        if owner is not None:
            owner.files.append(FileEntry(f.rel, f.size, "sidecar"))
        else:
            others.append(FileEntry(f.rel, f.size, "other"))
    g.clips.sort(key=lambda c: c.path.split("/"))
    return g.clips, others


def _dirname(rel: str) -> str:
    return rel.rsplit("/", 1)[0] if "/" in rel else ""


def raw_label(ext: str) -> str | None:
    return RAW_EXT.get(ext.lower())
