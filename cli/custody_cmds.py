"""`lto-archive custody show | checkpoint | export | verify`: the hash-chained chain of custody."""

from __future__ import annotations

import json
from pathlib import Path

import click

import lto_archive
from lto_archive import Catalog

from .catalog_cmds import catalog_option
from .common import emit


@click.group("custody")
def custody() -> None:
    """The chain of custody: every event, hash-linked so no one can alter it unseen (docs/custody.md)."""


@custody.command("show")
@click.option("--subject", default=None, help="Only the events about this barcode, folder or session.")
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (the entries).")
def show(subject: str | None, catalog_path: Path | None, as_json: bool) -> None:
    """The events, oldest first."""
    with Catalog(catalog_path, create=False) as cat:
        log = cat.custody_log(subject=subject)

    def text() -> None:
        for e in log:
            data = json.dumps(e["data"], sort_keys=True, ensure_ascii=False)
            click.echo(f"{e['seq']:>6}  {e['at'][:19].replace('T', ' ')}  {e['event']:<12} {e['subject']}  {data[:80]}")
    emit({"entries": log}, as_json, text)


@custody.command("checkpoint")
@click.option("--sign-key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Sign it with this Ed25519 key (lto-archive baf keygen).")
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def checkpoint(sign_key: Path | None, catalog_path: Path | None, as_json: bool) -> None:
    """Record a checkpoint naming the log's head (signed with the lab's key when given)."""
    with Catalog(catalog_path, create=False) as cat:
        entry = cat.custody_checkpoint(sign_key=sign_key)
    emit(entry, as_json, lambda: click.echo(
        f"checkpoint {entry['seq']}: {entry['data']['entries']} entries, head {entry['data']['head'][:16]}..."
        + (" (signed)" if "signature" in entry["data"] else "")))


@custody.command("export")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The log as JSON lines (FILE.jsonl), ending with a fresh checkpoint.")
@click.option("--sign-key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Sign that checkpoint with this Ed25519 key.")
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def export(output: Path, sign_key: Path | None, catalog_path: Path | None, as_json: bool) -> None:
    """Write the whole log to a file that `custody verify FILE` checks anywhere, without the catalog."""
    with Catalog(catalog_path, create=False) as cat:
        path = cat.custody_export(output, sign_key=sign_key)
        count = len(cat.custody_log())
    emit({"output": str(path), "entries": count}, as_json, lambda: click.echo(f"{count} entries -> {path}"))


@custody.command("verify")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--public-key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Check the signed checkpoints with this public key (lab.pub).")
@click.option("--require-signed", is_flag=True, help="Fail unless a checkpoint is signed by --public-key.")
@click.option("--excerpt", is_flag=True, help="FILE is a tape session's excerpt (.lto-archive/custody.jsonl).")
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def verify(file: Path | None, public_key: Path | None, require_signed: bool, excerpt: bool,
           catalog_path: Path | None, as_json: bool) -> None:
    """Check every link of the catalog's log, or of FILE (an export or a tape's excerpt): any edited, deleted,
    reordered or truncated entry fails (exit 3), naming the first bad one. FILE with --catalog: a tape's
    custody record must also be anchored in that catalog's chain (exit 3 when it is not; a record written
    before anchoring is said to be unanchored)."""
    if file is not None:
        report = lto_archive.verify_custody_log(file, public_key=public_key, excerpt=excerpt,
                                                require_signed=require_signed,
                                                catalog=catalog_path if catalog_path is not None else False)
    else:
        with Catalog(catalog_path, create=False) as cat:
            report = cat.custody_verify(public_key=public_key)

    def text() -> None:
        click.echo(f"custody log ok: {report['entries']} entries, {report['checkpoints']} checkpoints"
                   f" ({report['signed']} signed and verified)")
        anchor = report.get("anchor")
        if anchor is not None:
            for s in anchor["sessions"]:
                click.echo(s["message"])
            if not anchor["sessions"]:
                click.echo("no tape session's custody record in it: nothing to anchor")
    emit(report, as_json, text)
