"""`baf [issue] SOURCE | baf verify CERT | baf keygen`: the OK-to-format certificate (CST RT-030 Bon à Formater)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from lto_archive import CERTIFICATE_FORMATS as FORMATS
from lto_archive import Progress, UsageError, generate_key, issue_certificate, load_private_key, load_public_key
from lto_archive import certificate_format as format_for
from lto_archive import verify_certificate

from .catalog_cmds import catalog_option, open_catalog
from .common import ProgressBar, emit, human_bytes


def _json_option(f: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable result on stdout.")(f)


class _BafGroup(click.Group):
    """`baf SOURCE ...` is `baf issue SOURCE ...`: a first argument that names no subcommand is the card.

    (A card folder literally named like a subcommand: `baf issue verify` or `baf ./verify`.)
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["issue", *args]
        return super().parse_args(ctx, args)


@click.group("baf", cls=_BafGroup)
def baf() -> None:
    """OK to format (Bon à Formater): certify a camera card only when every file on it has N verified copies.

    \b
    lto-archive baf /media/A001_C007 --copies 2 --output A001_C007.baf.html --sign-key lab.key
    lto-archive baf verify A001_C007.baf.html --public-key lab.pub
    lto-archive baf keygen --output lab.key
    """


@baf.command("issue")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--copies", default=2, show_default=True, type=click.IntRange(min=1),
              help="Verified copies required for every file, each on a distinct tape or folder.")
@catalog_option
@click.option("--output", "-o", "outputs", multiple=True, required=True, type=click.Path(path_type=Path),
              help="Certificate file: .html (printable page) or .json; repeat for both.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Format of an --output whose name does not say (default: from its extension).")
@click.option("--root-name", default=None,
              help="The card's name in the archive when it was archived under another one (default: the "
                   "SOURCE folder's name, as 'write' names it; may hold slashes: DAY01/A001_C007).")
@click.option("--sign-key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Sign with this Ed25519 lab key (PEM, from 'baf keygen'; passphrase in "
                   "$LTO_ARCHIVE_KEY_PASSPHRASE).")
@click.option("--operator", default=None, help="Who issues the certificate (default: the login name).")
@click.option("--overwrite", is_flag=True, help="Replace certificate files that exist.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr while the card is hashed (default: when stderr is a terminal).")
@_json_option
def issue_cmd(source: Path, copies: int, catalog_path: Path | None, outputs: tuple[Path, ...], fmt: str | None,
              root_name: str | None, sign_key: Path | None, operator: str | None, overwrite: bool,
              progress: bool | None, as_json: bool) -> None:
    """Issue the OK-to-format certificate of the camera card SOURCE, or refuse naming what is missing.

    Every file on the card is hashed now and must have --copies copies with the same bytes, on distinct
    cartridges or folders, each proven by its latest read-back (verify or restore) recorded in the
    catalog. Refusal: exit 5 (copies missing or never verified), exit 3 (a file changed on the card
    since it was copied).
    """
    targets = [(p, fmt or format_for(p)) for p in outputs]
    for p, _ in targets:
        if p.exists() and not overwrite:
            raise UsageError(f"{p} exists: a certificate is never overwritten by accident (--overwrite)", path=str(p))
    key = load_private_key(sign_key) if sign_key is not None else None
    bar = ProgressBar(progress)
    start = time.monotonic()

    def report(path: str, done: int, total: int) -> None:
        bar(Progress("check", done, total, 0, None, path, time.monotonic() - start))

    try:
        with open_catalog(catalog_path, create=False) as cat:
            cert = issue_certificate(cat, source, copies, root_name=root_name, operator=operator, sign_key=key,
                                     progress=report)
    finally:
        bar.close()
    written = [str(cert.write(p, f, overwrite=overwrite)) for p, f in targets]
    c = cert.content
    sig = cert.signature
    doc = {"status": "ok", "certificate_id": c["certificate_id"], "outputs": written, "digest": cert.digest,
           "signed": sig is not None, "key_fingerprint": sig["key_fingerprint"] if sig else None,
           "card": c["card"], "copies_required": c["copies_required"],
           "destinations": [d["destination"] for d in c["destinations"]], "issued": c["issued"]}

    def text() -> None:
        card = c["card"]
        click.secho(f"OK TO FORMAT {card['name']}: {card['files']} file(s), {human_bytes(card['bytes'])}, each with "
                    f"{copies} verified copies on {', '.join(doc['destinations'])}", fg="green")
        for w in written:
            click.echo(f"  certificate {w}")
        click.echo(f"  digest {cert.digest}" + (f", signed by {doc['key_fingerprint']}" if sig else ", not signed"))
    emit(doc, as_json, text)


@baf.command("verify")
@click.argument("cert", type=click.Path(path_type=Path))
@click.option("--public-key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The lab's public key (PEM, lab.pub): the certificate must be signed by it.")
@_json_option
def verify_cmd(cert: Path, public_key: Path | None, as_json: bool) -> None:
    """Check that the certificate CERT (.json or .html) is exactly as issued (exit 3 when it is not)."""
    key = load_public_key(public_key) if public_key is not None else None
    v = verify_certificate(cert, key)
    doc = v.to_dict()

    def text() -> None:
        card = v.content.get("card", {})
        click.secho(f"{cert}: certificate OK ({v.kind}): card {card.get('name')}, {card.get('files')} file(s), "
                    f"issued {v.content.get('issued', {}).get('at')} by {v.content.get('issued', {}).get('by')}",
                    fg="green")
        click.echo(f"  digest {v.digest}")
        if v.signed:
            click.echo(f"  signed by {v.key_fingerprint}" + (" (the lab key given)" if v.trusted else ""))
        else:
            click.echo("  not signed")
        for note in v.notes:
            click.secho(f"note: {note}", fg="yellow", err=True)
    emit(doc, as_json, text)


@baf.command("keygen")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The private key file (lab.key); the public key goes next to it (lab.pub).")
@click.option("--overwrite", is_flag=True, help="Replace key files that exist (the old key is lost).")
@_json_option
def keygen_cmd(output: Path, overwrite: bool, as_json: bool) -> None:
    """Make the lab's Ed25519 signing key: a private key (keep it safe, mode 0600) and its public key."""
    priv, pub, fp = generate_key(output, overwrite=overwrite)
    doc = {"status": "ok", "private_key": str(priv), "public_key": str(pub), "fingerprint": fp}

    def text() -> None:
        click.echo(f"private key {priv} (keep it safe), public key {pub}")
        click.echo(f"  fingerprint {fp}")
    emit(doc, as_json, text)


__all__ = ["baf"]
