"""The chain of custody for scripts: every event in the catalog, hash-linked; checkpoints signed with the
lab's key (`baf keygen`); export and verify (docs/custody.md)."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature

from ..baf import Certificate
from ..baf import issue_certificate as _issue_certificate
from ..baf.keys import fingerprint, load_private_key, load_public_key
from ..catalog import Catalog as CatalogStore
from ..catalog.anchor import NOT_ANCHORED, anchor_report
from ..catalog.custody import append, append_checkpoint, entries
from ..chain import ChainReport, canonical, read_jsonl, verify_chain
from ..errors import UsageError, VerificationFailed
from ..fsutil import atomic_write

PathLike = str | os.PathLike[str]


def _signer(sign_key: PathLike | None) -> Any:
    if sign_key is None:
        return None
    key = load_private_key(sign_key)
    fp = fingerprint(key.public_key())

    def sign(message: bytes) -> dict[str, str]:
        return {"algorithm": "ed25519", "key_fingerprint": fp, "value": base64.b64encode(key.sign(message)).decode()}
    return sign


def _checker(public_key: PathLike | None) -> Any:
    if public_key is None:
        return None
    key = load_public_key(public_key)

    def check(message: bytes, signature: Any) -> bool:
        try:
            key.verify(base64.b64decode(signature["value"], validate=True), message)
        except (InvalidSignature, KeyError, TypeError, ValueError):
            return False
        return True
    return check


def record_event(store: CatalogStore, event: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
    """Append one event (write, verify, restore, location, ...) to the catalog's chain."""
    return append(store, event, subject, data)


def issue_certificate(catalog: CatalogStore, source: PathLike, copies: int = 2, **kw: Any) -> Certificate:
    """baf's `issue_certificate` (same arguments), and a certificate event in the catalog's chain of custody:
    the card, its digest and the copies it relies on."""
    cert = _issue_certificate(catalog, source, copies, **kw)
    card = cert.content.get("card", {})
    append(catalog, "certificate", str(card.get("name") or source), {
        "certificate_id": cert.content.get("certificate_id"), "digest": cert.digest, "source": card.get("source"),
        "files": card.get("files"), "bytes": card.get("bytes"), "copies_required": copies,
        "destinations": sorted(d.get("destination", "") for d in cert.content.get("destinations", [])),
        "signed": cert.signature is not None})
    return cert


def checkpoint(store: CatalogStore, *, sign_key: PathLike | None = None) -> dict[str, Any]:
    """A checkpoint naming the chain's head, signed with the lab's key when given."""
    return append_checkpoint(store, _signer(sign_key))


def show(store: CatalogStore, *, subject: str | None = None) -> list[dict[str, Any]]:
    return list(entries(store, subject=subject))


def export(store: CatalogStore, output: PathLike, *, sign_key: PathLike | None = None) -> Path:
    """The whole chain as JSON lines, ending with a fresh checkpoint (so a cut-off export is caught)."""
    checkpoint(store, sign_key=sign_key)
    lines = [canonical(e).decode("utf-8") for e in entries(store)]
    out = Path(output)
    try:
        atomic_write(out, "\n".join(lines) + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write the custody log {out}: {exc.strerror or exc}", path=str(out)) from None
    return out


def verify(source: CatalogStore | PathLike, *, public_key: PathLike | None = None, excerpt: bool = False,
           require_signed: bool = False) -> ChainReport:
    """Check the catalog's chain, an exported log or a tape's excerpt; VerificationFailed (exit 3) naming the
    first bad entry. An export must end with its checkpoint; with `require_signed`, some checkpoint must carry
    a signature that `public_key` verifies."""
    if isinstance(source, CatalogStore):
        report = verify_chain(entries(source), verify_signature=_checker(public_key))
        where = f"the catalog {source.path}"
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the custody log {path}: {exc}", path=str(path)) from None
        report = verify_chain(read_jsonl(text.splitlines()), excerpt=excerpt, verify_signature=_checker(public_key),
                              require_checkpoint_at_end=not excerpt)
        where = str(path)
    if report.ok and require_signed and not report.signed:
        report = ChainReport(report.entries, report.checkpoints, 0, None,
                             "no checkpoint carries a signature the given public key verifies")
    if not report.ok:
        raise VerificationFailed(f"custody log {where}: {report.problem}", **report.to_dict())
    return report


def verify_anchored(path: PathLike, store: CatalogStore) -> dict[str, Any]:
    """How the on-tape session record(s) in the custody log at `path` (already verified as a chain) are
    anchored in `store`'s chain (catalog/anchor.py): the report; VerificationFailed (exit 3) when one is NOT
    anchored (a record from another catalog, or a catalog whose anchor entry was altered). A record that
    states no anchor (an older tape) is "unanchored", not a failure."""
    text = Path(path).read_text(encoding="utf-8")
    report = anchor_report([e for e in read_jsonl(text.splitlines()) if isinstance(e, dict)], store)
    if not report["anchored"]:
        bad = [s["message"] for s in report["sessions"] if s["status"] == NOT_ANCHORED]
        raise VerificationFailed(f"custody log {path}: {'; '.join(bad)}", anchor=report)
    return report


__all__ = ["record_event", "issue_certificate", "checkpoint", "show", "export", "verify", "verify_anchored",
           "ChainReport"]
