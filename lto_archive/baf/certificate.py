"""The OK-to-format certificate: its content, digest, signature, files (JSON, HTML) and their verification.

A certificate file is one JSON document (docs/baf.md):

    {"format": "lto-archive-baf-certificate", "version": 1,
     "content": {...what is certified...},
     "digest": "sha256:<hex of SHA-256 over canonical_json(content)>",
     "signature": null | {"algorithm": "ed25519", "public_key": "<base64, 32 raw bytes>",
                          "key_fingerprint": "sha256:<hex>", "value": "<base64, 64 bytes>"}}

Canonical JSON: keys sorted, no whitespace (`,` and `:` separators), UTF-8,
non-ASCII characters as themselves, `"` `\\` and control characters escaped as
Python's json module does (`\\n`, `\\u001f`), a name's undecodable bytes (lone
surrogates) as `\\udcXX`; no floating-point numbers. The JSON file IS the
canonical form of the whole document plus one newline, so any byte changed in it
is found: either the content no longer matches its digest (or the signature),
or the file is no longer canonical.

The signature (Ed25519, the lab's key) is over the ASCII text
`lto-archive-baf-certificate/1 sha256:<hex>`: the digest, so the content. The
content names the key it was issued to be signed with (`issued.signing_key`),
so a signature cannot be stripped unnoticed. Without a trusted public key
(`verify_certificate(path, public_key)`), a signature only proves the file is
as some key's holder issued it; with it, that this lab issued it.

The HTML page carries the same document, byte for byte in its html-safe form
(`<` `>` `&` as `\\u003c` `\\u003e` `\\u0026`), in a `<script type="application/json"
id="lto-archive-baf-certificate">` block; verifying the page checks that
document and that the visible page is exactly what it renders to.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import os
import re
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..catalog.schema import SCHEMA_VERSION
from ..catalog.search import camera_reel
from ..catalog.store import Catalog
from ..errors import UsageError, VerificationFailed
from ..fsutil import atomic_write
from ..manifest import iso, utc_now
from ..version import __version__
from .check import NOT_CHECKED_REASON, CardCheck, CopyProof, ProgressFn, check_card
from .keys import fingerprint, raw_public

DOCUMENT_FORMAT = "lto-archive-baf-certificate"
CONTENT_FORMAT = "lto-archive-baf"
VERSION = 1
SIGNED_PREFIX = f"{DOCUMENT_FORMAT}/{VERSION} "
SCRIPT_ID = "lto-archive-baf-certificate"
FORMATS = ("json", "html")
RULE = ("every file on the card, hashed when the certificate was issued, has at least {n} copies of the same "
        "bytes (same size and checksum) on {n} distinct destinations (cartridges, or disks: folders on one "
        "filesystem volume count once), each written without problem and proven by its latest read-back "
        "(verify or restore)")


class CertificateInvalid(VerificationFailed):
    """A certificate does not verify: changed after issue, signature wrong or missing, not a certificate (exit 3).

    `data["problems"]`: each check that failed.
    """


# --- canonical form, digest, signature ----------------------------------------------------------

def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8 (lone surrogates as \\udcXX escapes)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8", "backslashreplace")


def html_safe(canonical: bytes) -> str:
    """The canonical JSON as it sits inside a <script> block: `<` `>` `&` escaped (only strings hold them)."""
    return (canonical.decode("utf-8").replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


def content_digest(content: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(content)).hexdigest()


def signed_message(digest: str) -> bytes:
    return (SIGNED_PREFIX + digest).encode("ascii")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    """Strict: only the one canonical encoding of the bytes (no stray padding bits, no other spelling)."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not base64 text")
    data = base64.b64decode(text.encode("ascii"), validate=True)
    if _b64(data) != text:
        raise ValueError("not the canonical base64 of its bytes")
    return data


# --- building ------------------------------------------------------------------------------------

def _copy_entry(p: CopyProof) -> dict[str, Any]:
    return {"destination": p.destination, "kind": p.kind, "barcode": p.barcode, "volume_uuid": p.volume_uuid,
            "folder": p.folder, "volume_id": p.volume_id, "location": p.location, "generation": p.generation, "format": p.format,
            "position": {"tape_file": p.tape_file, "partition": p.partition, "block": p.block,
                         "block_offset": p.block_offset, "header_offset": p.header_offset},
            "session_id": p.session_id,
            "written": {"at": p.written_at, "by": p.written_by, "host": p.written_host, "status": p.status},
            "verified": {"at": p.verified_at, "by": p.verified_by, "host": p.verified_host,
                         "phase": p.verified_phase, "result": p.verified_result}}


def build_content(check: CardCheck, *, operator: str | None = None, signing_key: str | None = None,
                  certificate_id: str | None = None, issued_at: str | None = None) -> dict[str, Any]:
    """What the certificate states, from a card check that covers every file (refused otherwise)."""
    check.raise_if_not_covered()
    dests: dict[str, dict[str, Any]] = {}
    files = []
    for f in check.files:
        hashes = dict(sorted({**f.catalog_hashes, **f.hashes}.items()))
        files.append({"path": f.path, "size": f.size, "mtime": f.mtime, "hashes": hashes,
                      "hashed_on_card": sorted(f.hashes), "copies": [_copy_entry(c) for c in f.copies]})
        for c in f.copies:
            d = dests.setdefault(c.destination, {
                "destination": c.destination, "kind": c.kind, "barcode": c.barcode, "volume_uuid": c.volume_uuid,
                "folder": c.folder, "volume_id": c.volume_id, "location": c.location, "generation": c.generation,
                "formats": [],
                "files": 0, "bytes": 0})
            if c.format not in d["formats"]:
                d["formats"] = sorted([*d["formats"], c.format])
            d["files"] += 1
            d["bytes"] += f.size
    camera, reel = camera_reel(check.root_name)
    return {
        "format": CONTENT_FORMAT, "version": VERSION,
        "certificate_id": certificate_id or str(uuid.uuid4()),
        "title": "OK to format (Bon à Formater, CST RT-030 2.3.1)",
        "card": {"source": check.source, "name": check.root_name, "camera": camera, "reel": reel,
                 "files": len(check.files), "folders": check.folders, "bytes": check.total_bytes,
                 "not_checked": sorted(check.not_checked),
                 "not_checked_reason": NOT_CHECKED_REASON if check.not_checked else None},
        "copies_required": check.copies_required,
        "rule": RULE.format(n=check.copies_required),
        "checked_at": check.checked_at,
        "issued": {"at": issued_at or iso(utc_now()), "by": operator or getpass.getuser(),
                   "host": socket.gethostname(), "tool": "lto-archive", "tool_version": __version__,
                   "signing_key": signing_key},
        "catalog": {"path": check.catalog, "schema_version": SCHEMA_VERSION},
        "destinations": sorted(dests.values(), key=lambda d: (d["kind"] != "tape", d["destination"])),
        "files": files,
    }


@dataclass
class Certificate:
    """An issued certificate: `document` is exactly what the files hold."""

    document: dict[str, Any]

    @property
    def content(self) -> dict[str, Any]:
        content: dict[str, Any] = self.document["content"]
        return content

    @property
    def digest(self) -> str:
        return str(self.document["digest"])

    @property
    def signature(self) -> dict[str, Any] | None:
        return self.document.get("signature")

    @classmethod
    def from_content(cls, content: dict[str, Any], key: Ed25519PrivateKey | None = None) -> "Certificate":
        digest = content_digest(content)
        sig = None
        if key is not None:
            pub = key.public_key()
            fp = fingerprint(pub)
            if content["issued"].get("signing_key") != fp:
                raise UsageError("the content names another signing key than the one given", key=fp)
            sig = {"algorithm": "ed25519", "public_key": _b64(raw_public(pub)), "key_fingerprint": fp,
                   "value": _b64(key.sign(signed_message(digest)))}
        return cls({"format": DOCUMENT_FORMAT, "version": VERSION, "content": content, "digest": digest,
                    "signature": sig})

    def to_json(self) -> bytes:
        return canonical_json(self.document) + b"\n"

    def to_html(self) -> str:
        from .html import render_html
        return render_html(self.document)

    def write(self, path: str | os.PathLike[str], fmt: str | None = None, *, overwrite: bool = False) -> Path:
        """Write the certificate as JSON or HTML (by `fmt`, else by the name's extension), atomically."""
        p = Path(path)
        fmt = fmt or format_for(p)
        data = self.to_json() if fmt == "json" else self.to_html().encode("utf-8")
        if p.exists() and not overwrite:
            raise UsageError(f"{p} exists: a certificate is never overwritten by accident (--overwrite)",
                             path=str(p))
        p.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(p, data, mode=0o644)
        return p


def format_for(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix == "htm":
        suffix = "html"
    if suffix not in FORMATS:
        raise UsageError(f"say which certificate format to write: --format json|html (the name {str(path)!r} "
                         f"does not say)", path=str(path))
    return suffix


def issue_certificate(catalog: Catalog, source: str | os.PathLike[str], copies: int = 2, *,
                      root_name: str | None = None, operator: str | None = None,
                      sign_key: Ed25519PrivateKey | None = None, progress: ProgressFn | None = None) -> Certificate:
    """Check the card against the catalog and issue its certificate (signed when `sign_key` is given).

    Refuses with NotSafeToFormat (exit 5) or CardChangedSinceCopy (exit 3)
    naming, per file, what is missing; SourceError for an empty card.
    """
    check = check_card(catalog, source, copies, root_name=root_name, progress=progress)
    fp = fingerprint(sign_key.public_key()) if sign_key is not None else None
    return Certificate.from_content(build_content(check, operator=operator, signing_key=fp), sign_key)


# --- verification ---------------------------------------------------------------------------------

@dataclass
class VerifiedCertificate:
    """A certificate that verified, and how far: `trusted` when its signature was checked against a given key."""

    path: str
    kind: str                       # json, html
    digest: str
    signed: bool
    key_fingerprint: str | None
    trusted: bool
    content: dict[str, Any] = field(repr=False)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        c = self.content
        dests = c.get("destinations")
        dests = dests if isinstance(dests, list) else []    # an unsigned certificate may say anything
        return {"status": "ok", "certificate": self.path, "kind": self.kind, "digest": self.digest,
                "signed": self.signed, "key_fingerprint": self.key_fingerprint, "trusted_key": self.trusted,
                "certificate_id": c.get("certificate_id"), "card": c.get("card"),
                "copies_required": c.get("copies_required"), "issued": c.get("issued"),
                "destinations": [d.get("destination") for d in dests if isinstance(d, dict)], "notes": self.notes}


_SCRIPT = re.compile(r'<script type="application/json" id="' + SCRIPT_ID + r'">(.*?)</script>', re.S)


def _first_difference(a: str, b: str) -> int:
    """1-based line number of the first line where the two texts differ."""
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb), 1):
        if x != y:
            return i
    return min(len(la), len(lb)) + 1


def verify_document(document: Any, public_key: Ed25519PublicKey | None = None) -> tuple[list[str], list[str]]:
    """(problems, notes) of a parsed certificate document."""
    problems: list[str] = []
    notes: list[str] = []
    if not isinstance(document, dict) or document.get("format") != DOCUMENT_FORMAT:
        return [f"not an lto-archive OK-to-format certificate (no \"format\": \"{DOCUMENT_FORMAT}\")"], notes
    if document.get("version") != VERSION:
        return [f"certificate version {document.get('version')!r}: this lto-archive reads version {VERSION}"], notes
    extra = set(document) - {"format", "version", "content", "digest", "signature"}
    if extra:
        problems.append(f"fields added to the certificate: {', '.join(sorted(extra))}")
    content = document.get("content")
    if not isinstance(content, dict):
        return problems + ["the certificate has no content"], notes
    digest = document.get("digest")
    try:
        actual = content_digest(content)
    except (ValueError, TypeError):     # NaN, Infinity: JSON reads them, a certificate never holds them
        return problems + ["the certificate's content cannot be put in canonical form (not as issued)"], notes
    if digest != actual:
        problems.append(f"the content does not match its digest: it was changed after issue (digest recorded "
                        f"{digest}, content now {actual})")
    issued = content.get("issued")
    if not isinstance(issued, dict):
        issued = {}
    named_key = issued.get("signing_key")
    sig = document.get("signature")
    if sig is None:
        if named_key:
            problems.append(f"the signature was removed (the certificate was issued to be signed by {named_key})")
        if public_key is not None:
            problems.append(f"the certificate is not signed; a signature by {fingerprint(public_key)} was required")
        return problems, notes
    if not isinstance(sig, dict) or sig.get("algorithm") != "ed25519":
        return problems + ["the signature block is not an Ed25519 signature"], notes
    try:
        raw = _unb64(sig.get("public_key"))
        value = _unb64(sig.get("value"))
        embedded = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return problems + ["the signature block is damaged (public key or signature not valid base64 / length)"], notes
    fp = fingerprint(raw)
    if sig.get("key_fingerprint") != fp:
        problems.append(f"the signature's key fingerprint {sig.get('key_fingerprint')} is not that of its key ({fp})")
    if named_key != fp:
        problems.append(f"signed by key {fp}, but the content names {named_key} as its signing key")
    message = signed_message(str(digest))
    try:
        embedded.verify(value, message)
    except InvalidSignature:
        problems.append(f"the signature does not match the certificate (key {fp}): it was changed after signing")
    if public_key is not None:
        trusted_fp = fingerprint(public_key)
        if raw_public(public_key) != raw:
            problems.append(f"signed with another key ({fp}), not the lab key given ({trusted_fp})")
        else:
            try:
                public_key.verify(value, message)
            except InvalidSignature:
                pass                    # already reported above
    else:
        notes.append(f"signed by key {fp}; not checked against a trusted lab key (give --public-key)")
    return problems, notes


def _raise(path: str, problems: list[str]) -> NoReturn:
    raise CertificateInvalid(f"the certificate {path} does NOT verify:\n  " + "\n  ".join(problems),
                             certificate=path, problems=problems)


def _json(text: str, path: str, what: str) -> Any:
    """The JSON in `text`; CertificateInvalid naming `what` when it is none (too deep nesting included)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        _raise(path, [f"{what}: {str(exc)[:200]}"])


def verify_certificate(path: str | os.PathLike[str], public_key: Ed25519PublicKey | None = None
                       ) -> VerifiedCertificate:
    """Check a certificate file (JSON or HTML) byte for byte: digest, signature, canonical form, the page.

    `public_key`: the lab's key; then the certificate must be signed by it.
    Any change raises CertificateInvalid (exit 3) naming each check that failed.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the certificate {p}: {exc.strerror or exc}", path=str(p)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _raise(str(p), [f"not UTF-8 text (byte {exc.start}): not a certificate as issued"])
    kind = "html" if text.lstrip().lower().startswith(("<!doctype html", "<html")) else "json"
    problems: list[str] = []
    if kind == "html":
        blocks = _SCRIPT.findall(text)
        if len(blocks) != 1:
            _raise(str(p), [f"the page carries {len(blocks)} certificate blocks "
                            f"(<script id=\"{SCRIPT_ID}\">), not one"])
        embedded = blocks[0]
        document = _json(embedded, str(p), "the certificate carried by the page is not JSON")
        try:
            if embedded != html_safe(canonical_json(document)):
                problems.append("the certificate carried by the page is not byte for byte as issued (edited or "
                                "re-saved)")
        except (ValueError, TypeError):
            problems.append("the certificate carried by the page cannot be put in canonical form")
    else:
        document = _json(text, str(p), "not JSON")
        try:
            if raw != canonical_json(document) + b"\n":
                problems.append("the file is not byte for byte the certificate as issued (edited or re-saved: "
                                "whitespace, key order or escapes changed)")
        except (ValueError, TypeError):
            problems.append("the file cannot be put in canonical form")
    if not isinstance(document, dict) or document.get("format") != DOCUMENT_FORMAT:
        problems = []                   # whatever it is, it is not ours: say that alone
    more, notes = verify_document(document, public_key)
    problems += more
    if kind == "html" and not more:
        from .html import render_html
        expected = render_html(document)
        if text != expected:
            line = _first_difference(text, expected)
            made = (document.get("content", {}).get("issued", {}) or {}).get("tool_version")
            hint = (f"; it was made by lto-archive {made}, this is {__version__}: verify the JSON certificate "
                    f"instead" if made != __version__ else "")
            problems.append(f"the printed page does not show what the certificate it carries says (first "
                            f"difference on line {line}){hint}")
    if problems:
        _raise(str(p), problems)
    sig = document.get("signature")
    return VerifiedCertificate(
        path=str(p), kind=kind, digest=document["digest"], signed=sig is not None,
        key_fingerprint=sig.get("key_fingerprint") if sig else None, trusted=sig is not None and public_key
        is not None, content=document["content"], notes=notes)


def load_certificate(path: str | os.PathLike[str], public_key: Ed25519PublicKey | None = None) -> Certificate:
    """A certificate file, verified (CertificateInvalid when it does not verify)."""
    v = verify_certificate(path, public_key)
    text = Path(path).read_text(encoding="utf-8")
    return Certificate(json.loads(_SCRIPT.findall(text)[0] if v.kind == "html" else text))


__all__ = ["Certificate", "CertificateInvalid", "VerifiedCertificate", "issue_certificate", "build_content",
           "verify_certificate", "verify_document", "load_certificate", "canonical_json", "html_safe",
           "content_digest", "signed_message", "format_for", "DOCUMENT_FORMAT", "CONTENT_FORMAT", "VERSION",
           "SIGNED_PREFIX", "SCRIPT_ID", "FORMATS"]
