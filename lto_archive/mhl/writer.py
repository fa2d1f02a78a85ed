"""Write ASC MHL generations: the XML, the chain, into a folder or as bytes for a tape.

Typical uses:

* a folder (a destination copy, a card) gets a new generation appended to its
  history (created if it has none) with `write_generation(folder, gen)`;
* a write job builds the generation from its Manifest, whose FileRecords already
  carry the hashes computed while reading the source:
  `generation_from_manifest(manifest, "A001_C007", prior=read_history(card))`;
* the tape stores the card's whole history folder as members/files:
  `history_files("A001_C007", gen, prior)` -> {"ascmhl/0002_....mhl": bytes, ...}.

The layout and XML follow the ASC MHL reference tool (`ascmhl`, v1.2):
`<root>/ascmhl/NNNN_<root name>_<YYYY-MM-DD>_<HHMMSS>Z.mhl` and
`<root>/ascmhl/ascmhl_chain.xml`, UTF-8, two-space indentation, hash formats in
the XSD's order, directory hashes for every folder and the root.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..fsutil import atomic_write
from .errors import MhlHistoryError, MhlUnstorableName
from .hashes import MHL_FORMATS, VERIFY_PREFERENCE, c4_id, check_formats, directory_hashes
from .ignore import DEFAULT_IGNORE, IgnoreSpec
from .model import (CHAIN_FILE, CHAIN_NAMESPACE, FAILED, HISTORY_FOLDER, MANIFEST_SUFFIX, MHL_NAMESPACE, ORIGINAL,
                    PROCESSES, TRANSFER, VERIFIED, ChainEntry, CreatorInfo, DirectoryHash, DirectoryHashEntry,
                    FileHash, Generation, HashEntry, History, xml_datetime)

if TYPE_CHECKING:
    from ..manifest import Manifest

_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMAT_RANK = {f: i for i, f in enumerate(MHL_FORMATS)}


# --- XML text ---------------------------------------------------------------------

def storable(text: str) -> bool:
    """Whether a name can be written into ASC MHL XML (valid UTF-8, only characters XML 1.0 allows)."""
    return _BAD_XML.search(text) is None


def _check(text: str, what: str) -> str:
    m = _BAD_XML.search(text)
    if m:
        raise MhlUnstorableName(f"{what} {text!r} cannot be written into an ASC MHL manifest: character "
                                f"U+{ord(m.group()):04X} is not allowed in XML (rename it on disk, or leave it out)",
                                path=text)
    return text


_PLAIN_TEXT = re.compile('[^&<>\r"\t\n\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]*')


def _text(value: str, what: str = "text") -> str:
    if _PLAIN_TEXT.fullmatch(value):     # the usual name, hash or date: nothing to check or escape
        return value
    _check(value, what)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _attr(value: str, what: str = "attribute") -> str:
    if _PLAIN_TEXT.fullmatch(value):
        return value
    return (_text(value, what).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;"))


def _attrs(**pairs: object) -> str:
    return "".join(f' {k}="{_attr(str(v), k)}"' for k, v in pairs.items() if v is not None)


@lru_cache(maxsize=256)
def _hash_open(indent: str, fmt: str, action: str | None, hash_date: str | None) -> str:
    """A hash element's opening tag: a job's are all alike (one action, one hash date), so made once."""
    return f"{indent}<{fmt}{_attrs(action=action, hashdate=hash_date)}>"


def _hash_el(indent: str, h: HashEntry | DirectoryHashEntry, value: str, with_action: bool = True) -> str:
    return (f"{_hash_open(indent, h.format, h.action if with_action else None, h.hash_date)}"
            f"{_text(value, 'hash')}</{h.format}>\n")


def _path_attrs(size: int | None, created: str | None, modified: str | None) -> str:
    """`_attrs(size=, creationdate=, lastmodificationdate=)` of a file's path element (once per file)."""
    out = f' size="{size}"' if type(size) is int else _attrs(size=size)     # an int's digits: nothing to escape
    if created is not None:
        out += f' creationdate="{_attr(created, "creationdate")}"'
    if modified is not None:
        out += f' lastmodificationdate="{_attr(modified, "lastmodificationdate")}"'
    return out


_Entry = TypeVar("_Entry", HashEntry, DirectoryHashEntry)


def _rank(h: HashEntry | DirectoryHashEntry) -> int:
    return _FORMAT_RANK.get(h.format, len(_FORMAT_RANK))


def _sorted_entries(entries: Iterable[_Entry]) -> list[_Entry]:
    entries = list(entries)
    return entries if len(entries) < 2 else sorted(entries, key=_rank)


def _dir_hashes_xml(out: list[str], indent: str, hashes: list[DirectoryHashEntry]) -> None:
    hs = _sorted_entries(hashes)
    out.append(f"{indent}<content>\n")
    out.extend(_hash_el(indent + "  ", h, h.content) for h in hs)
    out.append(f"{indent}</content>\n{indent}<structure>\n")
    out.extend(_hash_el(indent + "  ", h, h.structure) for h in hs)
    out.append(f"{indent}</structure>\n")


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _post_order(files: list[FileHash], dirs: list[DirectoryHash]) -> list[FileHash | DirectoryHash]:
    """Folder by folder as the reference tool writes them: each subfolder's records (ending
    with its own directory hash), then the folder's files."""
    dir_map = {d.path: d for d in dirs}
    sub: dict[str, set[str]] = {}
    own: dict[str, list[FileHash]] = {}
    for f in files:
        own.setdefault(_parent(f.path), []).append(f)
    for p in list(own) + list(dir_map):
        while p:
            sub.setdefault(_parent(p), set()).add(p)
            p = _parent(p)
    out: list[FileHash | DirectoryHash] = []
    # depth first without a recursive closure (one would hold `out`, every record of a 10^6-file
    # generation, in a reference cycle until the collector's next full pass)
    stack: list[tuple[int, str]] = [(_VISIT, "")]
    while stack:
        step, folder = stack.pop()
        if step == _VISIT:      # its subfolders, each followed by its own directory hash; then its files
            stack.append((_FILES, folder))
            for d in sorted(sub.get(folder, ()), reverse=True):
                stack += [(_DIRECTORY, d), (_VISIT, d)]
        elif step == _DIRECTORY:
            if folder in dir_map:
                out.append(dir_map[folder])
        else:
            out.extend(sorted(own.get(folder, []), key=_by_path))
    return out


_VISIT, _DIRECTORY, _FILES = range(3)
_by_path = attrgetter("path")


def generation_xml(gen: Generation) -> bytes:
    """The manifest file's bytes (UTF-8 XML, hashlist version 2.0)."""
    return b"".join(generation_xml_chunks(gen))


def generation_xml_chunks(gen: Generation, pieces: int = 8192) -> Iterator[bytes]:
    """generation_xml's bytes in parts of `pieces` XML lines (10^5 files: no list of ~10^6 small strings)."""
    if gen.process not in PROCESSES:
        raise ValueError(f"process must be one of {', '.join(PROCESSES)}, not {gen.process!r}")
    c = gen.creator
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', f'<hashlist version="2.0" xmlns="{MHL_NAMESPACE}">\n',
           "  <creatorinfo>\n",
           f"    <creationdate>{_text(c.creation_date)}</creationdate>\n",
           f"    <hostname>{_text(c.host_name, 'host name')}</hostname>\n",
           f"    <tool{_attrs(version=c.tool_version)}>{_text(c.tool)}</tool>\n"]
    for a in c.authors:
        out.append(f"    <author{_attrs(role=a.role, email=a.email, phone=a.phone)}>{_text(a.name or '')}</author>\n")
    if c.location is not None:
        out.append(f"    <location>{_text(c.location)}</location>\n")
    if c.comment is not None:
        out.append(f"    <comment>{_text(c.comment)}</comment>\n")
    out.append("  </creatorinfo>\n  <processinfo>\n")
    out.append(f"    <process>{gen.process}</process>\n")
    if gen.root_hash:
        out.append("    <roothash>\n")
        _dir_hashes_xml(out, "      ", gen.root_hash)
        out.append("    </roothash>\n")
    patterns = gen.ignore or list(DEFAULT_IGNORE)
    out.append("    <ignore>\n")
    out.extend(f"      <pattern>{_text(p, 'ignore pattern')}</pattern>\n" for p in patterns)
    out.append("    </ignore>\n  </processinfo>\n")
    entries = _post_order(gen.files, gen.directories)
    if entries:   # the schema wants at least one entry inside <hashes>
        out.append("  <hashes>\n")
        for e in entries:
            if len(out) >= pieces:
                yield "".join(out).encode("utf-8")
                out.clear()
            if isinstance(e, FileHash):
                if not e.hashes:
                    raise ValueError(f"file {e.path!r} has no hash")
                out.append(f"    <hash>\n      <path{_path_attrs(e.size, e.creation_date, e.last_modified)}>"
                           f"{_text(e.path, 'file name')}</path>\n")
                out.extend([_hash_el("      ", h, h.value) for h in _sorted_entries(e.hashes)])
                if e.previous_path:
                    out.append(f"      <previousPath>{_text(e.previous_path, 'file name')}</previousPath>\n")
                out.append("    </hash>\n")
            else:
                out.append("    <directoryhash>\n")
                out.append(f"      <path{_attrs(creationdate=e.creation_date, lastmodificationdate=e.last_modified)}>"
                           f"{_text(e.path, 'folder name')}</path>\n")
                _dir_hashes_xml(out, "      ", e.hashes)
                if e.previous_path:
                    out.append(f"      <previousPath>{_text(e.previous_path, 'folder name')}</previousPath>\n")
                out.append("    </directoryhash>\n")
        out.append("  </hashes>\n")
    if gen.references:
        out.append("  <references>\n")
        for r in gen.references:
            out.append(f"    <hashlistreference>\n      <path>{_text(r.path, 'reference')}</path>\n"
                       f"      <c4>{_text(r.c4)}</c4>\n    </hashlistreference>\n")
        out.append("  </references>\n")
    out.append("</hashlist>\n")
    yield "".join(out).encode("utf-8")


def chain_xml(entries: Iterable[ChainEntry]) -> bytes:
    """ascmhl_chain.xml's bytes."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', f'<ascmhldirectory xmlns="{CHAIN_NAMESPACE}">\n']
    for e in entries:
        out.append(f'  <hashlist sequencenr="{int(e.sequence_nr)}">\n'
                   f"    <path>{_text(e.path, 'manifest name')}</path>\n"
                   f"    <c4>{_text(e.c4)}</c4>\n  </hashlist>\n")
    out.append("</ascmhldirectory>\n")
    return "".join(out).encode("utf-8")


def generation_file_name(sequence_nr: int, folder_name: str, when: datetime | None = None) -> str:
    """NNNN_<foldername>_<YYYY-MM-DD>_<HHMMSS>Z.mhl (UTC), as the spec and the reference name them."""
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{sequence_nr:04d}_{folder_name}_{when:%Y-%m-%d_%H%M%S}Z{MANIFEST_SUFFIX}"


# --- building a generation from hashed files ---------------------------------------

@dataclass
class ObservedFile:
    """A file as a job or a check saw it: its path under the history root, size, mtime and hashes."""

    path: str
    size: int | None
    hashes: Mapping[str, str]
    last_modified: str | float | datetime | None = None
    hash_date: str | None = None


@dataclass
class GenerationBuild:
    """A generation ready to write, and what happened to each file.

    outcomes: path -> "original" (not in the prior history), "verified", "failed", or
    "unverifiable" (in the history, but none of our hash formats is one it recorded:
    left out of the generation; hash with `formats_to_hash` next time).
    """

    generation: Generation
    outcomes: dict[str, str] = field(default_factory=dict)
    mismatches: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)  # path -> fmt -> (expected, actual)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes.values() if o == outcome)


def formats_to_hash(requested: Iterable[str], prior: History | None) -> tuple[str, ...]:
    """The formats to compute so that every file with a prior record can be verified:
    the requested ones, plus the history's fastest format when the requested ones
    are not all among those it recorded."""
    req = check_formats(requested)
    if prior is None or not prior.generations:
        return req
    have = prior.formats()
    if any(f in have for f in req):
        extra = []
    else:
        extra = [f for f in VERIFY_PREFERENCE if f in have][:1]
    return tuple(dict.fromkeys(list(req) + extra))


def build_generation(files: Iterable[ObservedFile], *, process: str, creator: CreatorInfo,
                     prior: History | None = None, folders: Mapping[str, str | float | datetime | None]
                     | Iterable[str] = (), incomplete: Iterable[str] = (), ignore: Iterable[str] | None = None,
                     with_directory_hashes: bool = True, hash_date: str | None = None) -> GenerationBuild:
    """A new generation for the files, their actions decided against the prior history.

    A file the history does not know is `original`. A known file is compared, format by
    format, with the newest hash recorded for it: every shared format `verified`, or the
    mismatching ones `failed` (then only the shared formats are recorded, as the reference
    tool does); formats new to the history are recorded `verified` when the file verified.
    Formats ASC MHL does not have (sha256) are left out.

    folders: every folder under the root (path -> mtime, or just paths), for directory
    hashes of empty folders; incomplete: files that exist but could not be hashed (their
    folders get no directory hash). Ignored paths (the history's patterns, or
    `ignore`, default .DS_Store and ascmhl/) are left out.
    """
    if process not in PROCESSES:
        raise ValueError(f"process must be one of {', '.join(PROCESSES)}, not {process!r}")
    patterns = _ignore_patterns(ignore, prior)
    spec = IgnoreSpec(patterns)
    hdate = hash_date or xml_datetime(microseconds=True)
    build = GenerationBuild(Generation(creator=creator, process=process, ignore=patterns))
    gen = build.generation
    all_hashes: dict[str, Mapping[str, str]] = {}
    for f in files:
        path = f.path.strip("/")
        if not path or spec.match(path):
            continue
        _check(path, "file name")
        hashes = f.hashes     # the file's own dict when every hash in it is one ASC MHL has (never changed here)
        if not all(k in _FORMAT_RANK and v for k, v in hashes.items()):
            hashes = {k: v for k, v in hashes.items() if k in _FORMAT_RANK and v}
        if not hashes:
            raise ValueError(f"{path}: no ASC MHL hash format among {', '.join(f.hashes) or 'none'} "
                             f"(ASC MHL knows {', '.join(MHL_FORMATS)})")
        all_hashes[path] = hashes
        mtime = xml_datetime(f.last_modified) if f.last_modified not in (None, "") else None
        entries = _file_entries(build, path, hashes, prior, f.hash_date or hdate)
        if entries is not None:
            gen.files.append(FileHash(path, _sorted_entries(entries), f.size, mtime))
    if with_directory_hashes:
        _add_directory_hashes(gen, all_hashes, folders, incomplete, spec, hdate)
    # in the order the XML holds them, so that what is read back compares equal
    order = _post_order(gen.files, gen.directories)
    gen.files = [e for e in order if isinstance(e, FileHash)]
    gen.directories = [e for e in order if isinstance(e, DirectoryHash)]
    return build


def _ignore_patterns(ignore: Iterable[str] | None, prior: History | None) -> list[str]:
    """`ignore`, else the prior history's newest patterns, else the defaults; the defaults'
    entries are always added (the history folder is never part of its own records)."""
    patterns = list(ignore) if ignore is not None else (prior.latest_ignore() if prior else []) or list(DEFAULT_IGNORE)
    for p in DEFAULT_IGNORE:
        if p not in patterns:
            patterns.append(p)
    return patterns


def _file_entries(build: GenerationBuild, path: str, hashes: Mapping[str, str], prior: History | None,
                  when: str) -> list[HashEntry] | None:
    """The file's hash entries, their actions decided against the prior history (see
    build_generation); its outcome (and mismatches) go into `build`. None when it is
    unverifiable, so left out."""
    expected = prior.expected(path) if prior is not None and prior.known(path) else None
    if expected is None:
        build.outcomes[path] = ORIGINAL
        return [HashEntry(fmt, v, ORIGINAL, when) for fmt, v in hashes.items()]
    shared = [fmt for fmt in hashes if fmt in expected]
    if not shared:
        build.outcomes[path] = "unverifiable"
        return None
    bad = {fmt: (expected[fmt], hashes[fmt]) for fmt in shared if expected[fmt].lower() != hashes[fmt].lower()}
    if bad:
        build.outcomes[path] = FAILED
        build.mismatches[path] = bad
        return [HashEntry(fmt, hashes[fmt], FAILED if fmt in bad else VERIFIED, when) for fmt in shared]
    build.outcomes[path] = VERIFIED
    return [HashEntry(fmt, v, VERIFIED, when) for fmt, v in hashes.items()]


def _add_directory_hashes(gen: Generation, all_hashes: dict[str, Mapping[str, str]],
                          folders: Mapping[str, str | float | datetime | None] | Iterable[str],
                          incomplete: Iterable[str], spec: IgnoreSpec, hdate: str) -> None:
    """The root's and every (not ignored) folder's directory hashes, in a format every file
    has (an empty tree gets none); folders holding an `incomplete` file get none."""
    folder_times: dict[str, str | float | datetime | None]
    if isinstance(folders, Mapping):
        folder_times = {k.strip("/"): v for k, v in folders.items()}
    else:
        folder_times = {k.strip("/"): None for k in folders}
    folder_times = {k: v for k, v in folder_times.items() if k and k != "." and not spec.match(k, True)}
    formats = [fmt for fmt in MHL_FORMATS if all_hashes and all(fmt in h for h in all_hashes.values())]
    incomplete_paths = [p.strip("/") for p in incomplete if not spec.match(p.strip("/"))]
    dirs = directory_hashes(all_hashes, folder_times, formats, incomplete_paths)
    for path, pairs in dirs.items():
        if not pairs:
            continue
        hs = [DirectoryHashEntry(fmt, c, s, None, hdate) for fmt, (c, s) in pairs.items()]
        if path == ".":
            gen.root_hash = hs
        else:
            _check(path, "folder name")
            t = folder_times.get(path)
            gen.directories.append(DirectoryHash(path, _sorted_entries(hs),
                                                 xml_datetime(t) if t not in (None, "") else None))
    gen.root_hash = _sorted_entries(gen.root_hash)


def generation_from_manifest(manifest: "Manifest", top: str, *, process: str = TRANSFER,
                             prior: History | None = None, creator: CreatorInfo | None = None,
                             ignore: Iterable[str] | None = None) -> GenerationBuild:
    """The generation for one source of a write job, from its Manifest.

    `top` is the source's name in the archive (the first component of its FileRecord
    paths, e.g. "A001_C007"); paths in the generation are relative to it. Files copied
    cleanly (status ok) are recorded with the job's hashes (those ASC MHL has); files that
    were not are left out and keep their folders from getting directory hashes. Pass the
    source card's history as `prior` so that a card that arrived with ASC MHL gets
    verified/failed, not original. The creator info comes from the session (operator,
    host, tool), with a comment naming the sources and the device.
    """
    from ..manifest import OK, FileRecord
    s = manifest.session
    if creator is None:
        barcode = f" {s.barcode}" if s.barcode else ""
        creator = CreatorInfo.create(s.operator or None, host=s.host or None,
                                     comment=f"{s.tool} session {s.session_id}: {', '.join(s.sources)} to "
                                             f"{s.device}{barcode} ({s.format})",
                                     when=s.started or None)
    prefix = top.strip("/") + "/"
    folders: dict[str, str | None] = {}
    incomplete: list[str] = []
    cut = len(prefix)
    known = _FORMAT_RANK.keys()

    def recorded(r: FileRecord) -> bool:
        return r.kind == "file" and r.status == OK and not known.isdisjoint(r.hashes)

    for r in manifest.files:       # first the folders and the files not hashed: they are few
        if r.kind == "file" and recorded(r) or not r.path.startswith(prefix):
            continue
        name = r.path[cut:].strip("/")
        if name and r.kind == "dir":
            folders[name] = r.mtime or None
        elif name and r.kind == "file":
            incomplete.append(name)
    # then the files, one at a time (10^5 of them: never a list of ObservedFile at once)
    files = (ObservedFile(name, r.size, r.hashes, r.mtime or None)
             for r in manifest.files
             if r.path.startswith(prefix) and recorded(r) and (name := r.path[cut:].strip("/")))
    return build_generation(files, process=process, creator=creator, prior=prior, folders=folders,
                            incomplete=incomplete, ignore=ignore)


# --- into a folder, or as bytes --------------------------------------------------------

@dataclass
class WrittenGeneration:
    path: Path            # the new manifest file
    sequence_nr: int
    c4: str
    chain_path: Path

    def to_dict(self) -> dict[str, object]:
        return {"path": str(self.path), "sequence_nr": self.sequence_nr, "c4": self.c4}


# The history's files keep the mode they always had (that of a fresh temporary file): a
# folder's ascmhl/ may be archived to tape later, and its bytes there must not change.
HISTORY_FILE_MODE = 0o600


def history_files(folder_name: str, gen: Generation, prior: History | None = None, *,
                  when: datetime | None = None) -> dict[str, bytes]:
    """The whole `ascmhl/` folder with `gen` appended to `prior` (read from disk, C4 checked
    again), as {path relative to the history root: bytes}, e.g. for a tape's members."""
    chain: list[ChainEntry] = []
    out: dict[str, bytes] = {}
    seq = 1
    if prior is not None and prior.chain:
        if prior.root is None:
            raise ValueError("the prior history was not read from a folder")
        for e in prior.chain:
            data = (prior.root / HISTORY_FOLDER / e.path).read_bytes()
            if c4_id(data) != e.c4:
                raise MhlHistoryError(f"ASC MHL manifest {e.path} changed since its history was read",
                                      path=str(prior.root / HISTORY_FOLDER / e.path))
            out[f"{HISTORY_FOLDER}/{e.path}"] = data
            chain.append(e)
        seq = prior.next_sequence_nr()
    name = generation_file_name(seq, folder_name, when)
    data = generation_xml(gen)
    out[f"{HISTORY_FOLDER}/{name}"] = data
    chain.append(ChainEntry(seq, name, c4_id(data)))
    out[f"{HISTORY_FOLDER}/{CHAIN_FILE}"] = chain_xml(chain)
    gen.sequence_nr, gen.file_name = seq, name
    return out


def write_generation(root: str | os.PathLike[str], gen: Generation, *,
                     when: datetime | None = None) -> WrittenGeneration:
    """Append `gen` to the history of the folder `root` (creating `root/ascmhl/` if needed).

    The existing history is read and its chain checked first: a broken history is never
    appended to (MhlHistoryError). The manifest is written, then the chain is replaced,
    each through a temporary file and a rename.
    """
    from .reader import read_history
    root = Path(root)
    if not root.is_dir():
        raise MhlHistoryError(f"{root} is not a folder", path=str(root))
    folder = root / HISTORY_FOLDER
    prior = read_history(root, missing_ok=True)
    seq = prior.next_sequence_nr()
    name = generation_file_name(seq, root.resolve().name, when)
    data = generation_xml(gen)
    folder.mkdir(exist_ok=True)
    target = folder / name
    if target.exists():
        raise MhlHistoryError(f"{target} already exists", path=str(target))
    atomic_write(target, data, mode=HISTORY_FILE_MODE)
    c4 = c4_id(data)
    atomic_write(folder / CHAIN_FILE, chain_xml(list(prior.chain) + [ChainEntry(seq, name, c4)]),
                 mode=HISTORY_FILE_MODE)
    gen.sequence_nr, gen.file_name = seq, name
    return WrittenGeneration(target, seq, c4, folder / CHAIN_FILE)
