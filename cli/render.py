"""How results look on a terminal: the text of write, verify, restore and ls, for one tape or a set."""

from __future__ import annotations

from collections import Counter
from typing import Any

import click

from lto_archive import ReadResult, WriteResult, place_text

from .common import human_bytes


NOT_READ_BACK_TEXT = "written, not read back"


def write_text(r: WriteResult) -> None:
    s = r.manifest.session
    ok = sum(1 for f in r.files if f.status == "ok")
    for note in r.notes:
        click.secho(f"note: {note}", fg="yellow", err=True)
    where = place_text(s.format, tape_file=s.tape_file, block=s.start_block, style="session")
    click.echo(f"{where} on {s.barcode or s.device}: {ok} of {len(r.files)} files, "
               f"{human_bytes(s.bytes_copied)} in {s.duration_s:.1f} s ({s.mb_per_s:.0f} MB/s), "
               f"hashes {', '.join(s.algorithms)}")
    for f in r.problems:
        click.secho(f"  {f.status:<12} {f.path}  {f.message}", fg="yellow", err=True)
    for d in r.destinations:
        proven = f", {d['verified']} files proven by read-back" if d.get("verified") not in (None, False) else ""
        status = NOT_READ_BACK_TEXT if d.get("verified") is False and d["status"] == "written" else d["status"]
        line = f"  {d['kind']:<6} {d['destination']}: {status}{proven}"
        click.secho(line + (f" - {d['error']}" if d.get("error") else ""),
                    fg=None if d["status"] == "ok" else "yellow" if d["status"] == "written" else "red")
        for f in d.get("failed") or []:
            click.secho(f"         FAILED {f['path']}: {f['reason']}", fg="red")
        for n in d.get("notes") or []:
            click.secho(f"         note: {n}", fg="yellow", err=True)
    for p in r.log_paths:
        click.echo(f"copy log: {p}")


def read_text(r: ReadResult, verb: str) -> None:
    for note in r.notes:
        click.secho(f"note: {note}", fg="yellow", err=True)
    for t in r.tape_files:
        where = f"tape file {t.tape_file}" + (f" (session {t.session_id})" if t.session_id else "")
        if r.phase == "list":
            continue
        if t.manifest is None and not t.verified and not t.failed:
            click.echo(f"{where}: {len(t.members)} members read; no lto-archive manifest, nothing to compare")
        else:
            proven = Counter(getattr(t, "proven_by", {}).values())
            own = any(not how.startswith("catalog") for how in proven)
            source = t.manifest_source if t.manifest is not None else "files' own checksums" if own else "catalog"
            click.echo(f"{where}: {_verified_restored(t, verb)}"
                       + (f" (against the {source})" if source != "tape" else ""))
            if proven:
                click.echo("  proven by: " + "; ".join(f"{how} ({n})" for how, n in sorted(proven.items())))
        tape_file_problems(t)
    if r.phase != "list":
        click.echo(f"result: {r.status}")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _verified_restored(t: Any, verb: str) -> str:
    """"3 files verified" or, for a restore, what was written: files (proven) apart from folders and links."""
    if verb != "restore":
        return f"{_plural(len(t.verified), 'file')} verified"
    proven = set(t.verified)
    files = sum(1 for p in t.restored if p in proven)
    others = len(t.restored) - files
    text = f"{_plural(files, 'file')} restored and verified"
    passed = len(set(getattr(t, "passed_over", ())) & proven)     # a newer session's copy replaced them
    if len(t.verified) > files + passed:
        text += f", {len(t.verified) - files - passed} verified only"
    if passed:
        text += f", {passed} older cop{'y' if passed == 1 else 'ies'} passed over"
    return text + (f" (and {_plural(others, 'folder/link')})" if others else "")


def tape_file_problems(t, indent: str = "  ") -> None:  # type: ignore[no-untyped-def]
    """What went wrong in one tape file (a TapeFileResult): failed, unproven, refused, damage."""
    for f in t.failed:
        click.secho(f"{indent}FAILED     {f['path']}: {f['reason']}", fg="red")
    for u in t.unproven:
        click.secho(f"{indent}unproven   {u['path']}: {u['reason']}", fg="yellow")
    for x in t.refused:      # the message names the path already (the restore target's errors do)
        text = x["message"] if repr(x["path"]) in x["message"] else f"{x['path']}: {x['message']}"
        click.secho(f"{indent}refused    {text}", fg="red")
    if t.error:
        click.secho(f"{indent}damaged    {t.error.message}", fg="red")


def span_text(r: Any) -> None:
    ok = sum(1 for f in r.files if f.status == "ok" and not (f.part and not f.part.get("last")))
    drive = f" on {r.drive}" if r.drive else ""
    click.echo(f"span set {r.set_id} (job {r.job_id}){drive}: {len(r.volumes)} cartridge(s), "
               f"{ok} of {len(r.files)} files" + (f" - FAILED: {r.error.message}" if r.error and r.drive else "")
               + (" - interrupted" if r.status == "interrupted" else ""))
    for v in r.volumes:
        s = v.manifest.session
        parts = [f"part {f.part['number']} of {f.path} ({human_bytes(f.part['length'])})" for f in v.files if f.part]
        whole = len([f for f in v.files if not f.part and f.status == "ok"])
        where = f"tape file {s.tape_file}" if s.tape_file is not None else f"LTFS {s.span.get('volume_uuid', '')}"
        click.echo(f"  {s.span.get('sequence'):>3}  {s.barcode or s.device}  {where}: {whole} files"
                   + (", " + ", ".join(parts) if parts else "") + (" (last)" if s.span.get("last") else ""))
    for f in r.problems:
        click.secho(f"  {f.status:<12} {f.path}  {f.message}", fg="yellow", err=True)
    for d in r.folders:
        line = f"  folder {d.root}: {d.status}, {len(d.written)} files written, {len(d.verified)} proven by read-back"
        click.secho(line + (f" - {d.error}" if d.error else ""), fg=None if d.status == "ok" else "red")
        for path, why in d.failed.items():
            click.secho(f"         FAILED {path}: {why}", fg="red")
    for p in r.log_paths:
        click.echo(f"copy log: {p}")


def span_read_text(r: ReadResult) -> None:
    click.echo(f"span set {r.set_id}: {len(r.barcodes)} cartridge(s) read"
               + ("" if r.complete else ", NOT to its last volume"))
    for t, barcode in zip(r.tape_files, r.barcodes + [None] * len(r.tape_files)):
        click.echo(f"  {barcode or '-'}: {len(t.verified)} files verified"
                   + (f", {len(t.restored)} restored" if r.phase == "restore" else ""))
        tape_file_problems(t, "    ")
    click.echo(f"result: {r.status}")
