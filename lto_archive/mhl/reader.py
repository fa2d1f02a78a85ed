"""Read an ASC MHL history: the chain, every generation, and the chain's C4 IDs checked.

The chain (`ascmhl/ascmhl_chain.xml`) is the table of contents: a generation is
trusted only when its file's C4 ID is the one the chain records (as the
reference tool checks before it does anything). Manifests in the folder that
the chain does not list are noted and not used. XML with a DTD or entity
declarations is refused (ASC MHL never has them).
"""

from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from .errors import MhlHistoryError, NoMhlHistory
from .hashes import MHL_FORMATS, c4_id
from .model import (CHAIN_FILE, HISTORY_FOLDER, MANIFEST_SUFFIX, PROCESSES, Author, ChainEntry, CreatorInfo,
                    DirectoryHash, DirectoryHashEntry, FileHash, Generation, HashEntry, History, Reference)

_FORBIDDEN = re.compile(rb"<!DOCTYPE|<!ENTITY", re.I)
_NAME = re.compile(r"^(\d{4,})(?:_(.+))?$")
_FORMATS = frozenset(MHL_FORMATS)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _events(data: bytes, what: str) -> Iterator[tuple[str, ET.Element]]:
    if _FORBIDDEN.search(data):
        raise MhlHistoryError(f"{what}: DTDs and entity declarations are not allowed in ASC MHL files")
    try:
        yield from ET.iterparse(io.BytesIO(data), events=("start", "end"))
    except (ET.ParseError, LookupError, ValueError) as exc:    # LookupError: an unknown encoding declared
        raise MhlHistoryError(f"{what} is not valid XML ({exc})") from None


def _child(el: ET.Element, name: str) -> ET.Element | None:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _text(el: ET.Element | None) -> str | None:
    return None if el is None else (el.text or "")


def _int(value: str | None, what: str) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise MhlHistoryError(f"{what}: not a number: {value!r}") from None


def _path(el: ET.Element | None, what: str) -> str:
    text = _text(el)
    if not text:
        raise MhlHistoryError(f"{what}: an entry has no path")
    return text


def _hash_entries(el: ET.Element) -> list[HashEntry]:
    return [HashEntry(_local(c.tag), (c.text or "").strip(), c.get("action"), c.get("hashdate"))
            for c in el if _local(c.tag) in _FORMATS]


def _dir_entries(content: ET.Element | None, structure: ET.Element | None, what: str) -> list[DirectoryHashEntry]:
    if content is None:
        return []
    structures = {_local(c.tag): (c.text or "").strip() for c in (structure if structure is not None else [])}
    out = []
    for c in content:
        fmt = _local(c.tag)
        if fmt in _FORMATS:
            out.append(DirectoryHashEntry(fmt, (c.text or "").strip(), structures.get(fmt, ""), c.get("action"),
                                          c.get("hashdate")))
    return out


def parse_generation(data: bytes, name: str = "ASC MHL manifest") -> Generation:
    """One manifest file's bytes -> Generation (MhlHistoryError when it is not ASC MHL v2.0)."""
    creator: CreatorInfo | None = None
    process: str | None = None
    root_hash: list[DirectoryHashEntry] = []
    ignore: list[str] = []
    files: list[FileHash] = []
    dirs: list[DirectoryHash] = []
    refs: list[Reference] = []
    stack: list[str] = []
    parents: list[ET.Element] = []
    for event, el in _events(data, name):
        tag = _local(el.tag)
        if event == "start":
            if not stack:
                if tag != "hashlist":
                    raise MhlHistoryError(f"{name} is not an ASC MHL manifest (root element {tag!r})")
                version = el.get("version")
                if version != "2.0":
                    raise MhlHistoryError(f"{name}: ASC MHL version {version!r} is not supported (2.0 is)")
            stack.append(tag)
            parents.append(el)
            continue
        stack.pop()
        parents.pop()
        where = tuple(stack)
        if where == ("hashlist",):
            if tag == "creatorinfo":
                authors = [Author(a.text if a.text else None, a.get("email"), a.get("phone"), a.get("role"))
                           for a in el if _local(a.tag) == "author"]
                tool = _child(el, "tool")
                creator = CreatorInfo(creation_date=(_text(_child(el, "creationdate")) or "").strip(),
                                      host_name=_text(_child(el, "hostname")) or "",
                                      tool=_text(tool) or "", tool_version=tool.get("version") if tool is not None else None,
                                      authors=authors, location=_text(_child(el, "location")),
                                      comment=_text(_child(el, "comment")))
            elif tag == "processinfo":
                process = (_text(_child(el, "process")) or "").strip()
                rh = _child(el, "roothash")
                if rh is not None:
                    root_hash = _dir_entries(_child(rh, "content"), _child(rh, "structure"), name)
                ig = _child(el, "ignore")
                if ig is not None:
                    ignore = [p.text or "" for p in ig if _local(p.tag) == "pattern" and p.text]
            el.clear()
        elif where == ("hashlist", "hashes"):
            if tag == "hash":
                p = _child(el, "path")
                path = _path(p, name)
                size = _int(p.get("size") if p is not None else None, f"{name}: size of {path}")
                prev = _text(_child(el, "previousPath"))
                files.append(FileHash(path, _hash_entries(el), size,
                                      p.get("lastmodificationdate") if p is not None else None,
                                      p.get("creationdate") if p is not None else None, prev or None))
            elif tag == "directoryhash":
                p = _child(el, "path")
                path = _path(p, name)
                prev = _text(_child(el, "previousPath"))
                dirs.append(DirectoryHash(path, _dir_entries(_child(el, "content"), _child(el, "structure"), name),
                                          p.get("lastmodificationdate") if p is not None else None,
                                          p.get("creationdate") if p is not None else None, prev or None))
            parents[-1].remove(el)   # keep memory flat for manifests of 10^5 files
        elif where == ("hashlist", "references") and tag == "hashlistreference":
            refs.append(Reference(_text(_child(el, "path")) or "", (_text(_child(el, "c4")) or "").strip()))
            el.clear()
    if creator is None:
        raise MhlHistoryError(f"{name}: no creatorinfo")
    if process is None:
        raise MhlHistoryError(f"{name}: no processinfo")
    if process not in PROCESSES:
        raise MhlHistoryError(f"{name}: unknown process {process!r}")
    return Generation(creator, process, files, dirs, root_hash, ignore, refs)


def parse_chain(data: bytes, name: str = CHAIN_FILE) -> list[ChainEntry]:
    """ascmhl_chain.xml's bytes -> its entries, in file order."""
    out: list[ChainEntry] = []
    depth = 0
    for event, el in _events(data, name):
        tag = _local(el.tag)
        if event == "start":
            if depth == 0 and tag != "ascmhldirectory":
                raise MhlHistoryError(f"{name} is not an ASC MHL chain (root element {tag!r})")
            depth += 1
            continue
        depth -= 1
        if depth == 1 and tag == "hashlist":
            seq = _int(el.get("sequencenr"), f"{name}: sequencenr")
            path = (_text(_child(el, "path")) or "").strip()
            c4 = (_text(_child(el, "c4")) or "").strip()
            if seq is None or not path or not c4:
                raise MhlHistoryError(f"{name}: an entry lacks its sequencenr, path or c4 hash")
            out.append(ChainEntry(seq, path, c4))
            el.clear()
    return out


def has_history(root: str | os.PathLike[str]) -> bool:
    """Whether the folder carries an ASC MHL history (an `ascmhl/` folder with its chain or manifests)."""
    folder = Path(root) / HISTORY_FOLDER
    if not folder.is_dir():
        return False
    return os.path.lexists(folder / CHAIN_FILE) or any(n.endswith(MANIFEST_SUFFIX) for n in os.listdir(folder))


def read_history(root: str | os.PathLike[str], *, missing_ok: bool = False) -> History:
    """The history of the folder `root`, every generation's C4 ID checked against the chain.

    MhlHistoryError when it cannot be trusted (no chain beside manifests, a chained
    manifest missing or changed, bad XML); NoMhlHistory when there is none (unless
    `missing_ok`: then an empty History).
    """
    root = Path(root)
    folder = root / HISTORY_FOLDER
    history = History(root=root)
    if not folder.is_dir():
        if missing_ok:
            return history
        raise NoMhlHistory(f"{root} carries no ASC MHL history (no {HISTORY_FOLDER}/ folder)", path=str(root))
    names = sorted(n for n in os.listdir(folder) if n.endswith(MANIFEST_SUFFIX) and not n.startswith("._"))
    numbered: dict[str, int] = {}
    for n in names:
        m = _NAME.match(n[: -len(MANIFEST_SUFFIX)])
        if m:
            numbered[n] = int(m.group(1))
    history.highest_file_number = max(numbered.values(), default=0)
    chain_path = folder / CHAIN_FILE
    if not chain_path.is_file():
        if os.path.lexists(chain_path):     # there, but not a file we can read: damage, never absence
            raise MhlHistoryError(f"{chain_path} is not a regular file: the ASC MHL history in {root} cannot be "
                                  f"read", path=str(chain_path))
        if names:
            raise MhlHistoryError(f"ASC MHL history in {root} has manifests but no {CHAIN_FILE}: "
                                  f"its generations cannot be checked", path=str(chain_path))
        if missing_ok:
            return history
        raise NoMhlHistory(f"{root} carries no ASC MHL history (empty {HISTORY_FOLDER}/ folder)", path=str(root))
    try:
        chain = parse_chain(chain_path.read_bytes(), str(chain_path))
    except OSError as exc:
        raise MhlHistoryError(f"cannot read {chain_path}: {exc.strerror}", path=str(chain_path)) from None
    if not chain and names:
        raise MhlHistoryError(f"{chain_path} lists no generation, but {HISTORY_FOLDER}/ holds {len(names)} "
                              f"manifest(s) ({names[0]}): the chain is damaged and the history cannot be checked",
                              path=str(chain_path))
    seen: set[int] = set()
    for e in chain:
        if e.sequence_nr in seen:
            raise MhlHistoryError(f"{chain_path}: sequence number {e.sequence_nr} appears twice", path=str(chain_path))
        seen.add(e.sequence_nr)
        if "/" in e.path or "\\" in e.path or e.path in (".", "..") or not e.path:
            raise MhlHistoryError(f"{chain_path}: manifest path {e.path!r} is not a file in {HISTORY_FOLDER}/",
                                  path=str(chain_path))
    for e in sorted(chain, key=lambda x: x.sequence_nr):
        p = folder / e.path
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise MhlHistoryError(f"ASC MHL manifest {e.path} (generation {e.sequence_nr}) is missing from "
                                  f"{folder}", path=str(p)) from None
        except OSError as exc:
            raise MhlHistoryError(f"cannot read ASC MHL manifest {p}: {exc.strerror}", path=str(p)) from None
        actual = c4_id(data)
        if actual != e.c4:
            raise MhlHistoryError(f"ASC MHL manifest {e.path} (generation {e.sequence_nr}) was modified: its C4 ID "
                                  f"is {actual}, the chain records {e.c4}", path=str(p), expected=e.c4, actual=actual)
        gen = parse_generation(data, str(p))
        gen.sequence_nr, gen.file_name = e.sequence_nr, e.path
        history.generations.append(gen)
    history.chain = list(chain)
    expected_seq = list(range(1, len(chain) + 1))
    if sorted(seen) != expected_seq:
        history.notes.append(f"chain sequence numbers are {sorted(seen)}, not 1..{len(chain)}")
    chained = {e.path for e in chain}
    for n in names:
        if n not in chained:
            history.notes.append(f"{HISTORY_FOLDER}/{n} is not in {CHAIN_FILE}: not used")
    return history


def find_histories(root: str | os.PathLike[str]) -> list[Path]:
    """Every folder at or below `root` that carries a history, outermost first (nested histories)."""
    root = Path(root)
    out: list[Path] = []
    for dirpath, dirnames, _files in os.walk(root):
        here = Path(dirpath)
        if HISTORY_FOLDER in dirnames and has_history(here):
            out.append(here)
        dirnames[:] = sorted(d for d in dirnames if d != HISTORY_FOLDER)
    return out
