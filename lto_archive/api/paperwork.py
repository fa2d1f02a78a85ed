"""A job's paperwork as one .7z for the production (docs/paperwork.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..catalog import Catalog as CatalogStore
from ..catalog.custody import excerpt
from ..chain import canonical
from ..errors import LtoArchiveError, UsageError
from ..fsutil import atomic_write
from ..jobs.journal import JOURNAL_SUFFIX
from ..jobs.read import load_copy_log
from ..paperwork import SUFFIX, pack, read_password, session_files, unpack

PathLike = str | os.PathLike[str]


def _beside(copy_log: Path, suffixes: tuple[str, ...]) -> dict[str, bytes]:
    """The job's own files next to its copy log (.json, .log, the journal)."""
    stem = copy_log.name[:-len(".json")] if copy_log.name.endswith(".json") else copy_log.stem
    out = {}
    for suffix in suffixes:
        f = copy_log.with_name(stem + suffix)
        if f.is_file():
            out[f"logs/{f.name}"] = f.read_bytes()
    return out


def _histories(sources: list[str]) -> dict[str, bytes]:
    """Each card's ASC MHL history (its `ascmhl/` folder), where the card is still on this machine."""
    out = {}
    for src in sources:
        folder = Path(src) / "ascmhl"
        if folder.is_dir():
            for f in sorted(folder.iterdir()):
                if f.is_file():
                    out[f"mhl/{Path(src).name}/ascmhl/{f.name}"] = f.read_bytes()
    return out


def make_paperwork(copy_log: PathLike, output: PathLike | None = None, *, extra: tuple[PathLike, ...] | list[PathLike] = (),
                   password_file: PathLike | None = None) -> dict[str, Any]:
    """One .7z of a job's paperwork: its copy log (.json and .log) and journal, the session's manifest,
    checksum lists and copy log as on tape, the cards' ASC MHL histories, and `extra` files (a rushes
    report, a certificate, a custody export) under extra/. Default output: beside the copy log,
    `<session>.paperwork.7z`. With `password_file`: AES-256, names hidden."""
    log = Path(copy_log)
    manifest = load_copy_log(log)
    files = _beside(log, (".json", ".log", JOURNAL_SUFFIX))
    files.update(session_files(manifest))
    files.update(_histories(list(manifest.session.sources)))
    for item in extra:
        p = Path(item)
        try:
            files[f"extra/{p.name}"] = p.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot add {p} to the paperwork: {exc.strerror or exc}", path=str(p)) from None
    out = Path(output) if output is not None else log.with_name(f"{manifest.session.session_id}.paperwork{SUFFIX}")
    password = read_password(password_file)
    pack(files, out, password=password)
    return {"output": str(out), "session": manifest.session.session_id, "files": sorted(files),
            "encrypted": password is not None}


CUSTODY_SUFFIX = ".custody.jsonl"


def job_paperwork(job: Any, store: CatalogStore | None, *, password_file: PathLike | None = None) -> Path | None:
    """After a write: the job's custody excerpt (`<session>.custody.jsonl`, the chain from the job's first event
    on) and its paperwork .7z (`<session>.paperwork.7z`), both beside its copy log; the .7z's path. A job without a
    copy log gets none; a paperwork that cannot be made is a note, never a failed write."""
    logs = [p for p in job.log_paths if p.suffix == ".json"]
    if not logs:
        return None
    sid = job.manifest.session.session_id
    extra: list[PathLike] = []
    try:
        entries = excerpt(store, sid) if store is not None else []
        if entries:
            custody = logs[0].with_name(sid + CUSTODY_SUFFIX)
            atomic_write(custody, "".join(canonical(e).decode("utf-8") + "\n" for e in entries))
            extra.append(custody)
        made = Path(make_paperwork(logs[0], extra=extra, password_file=password_file)["output"])
    except (LtoArchiveError, OSError) as exc:
        job.notes.append(f"the job's paperwork (.7z) was not made: {getattr(exc, 'message', None) or exc}")
        return None
    return made


def open_paperwork(path: PathLike, *, password_file: PathLike | None = None) -> dict[str, bytes]:
    """The files of a paperwork archive (each checked against its CRC); a wrong password is exit 6."""
    return unpack(path, password=read_password(password_file))


__all__ = ["make_paperwork", "open_paperwork", "job_paperwork", "CUSTODY_SUFFIX"]
