"""Fuzz: the OK-to-format certificate's verification (baf/certificate.py), on certificates our issuer
wrote (JSON and HTML, signed and not) from a card copied to two cartridges and read back, then
mutated. Only LtoArchiveError comes out; a certificate checked against the lab key verifies only
when it is the one issued, byte for byte."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import assume, example, given
from hypothesis import strategies as st

from lto_archive.baf import Certificate, generate_key, issue_certificate, load_private_key, load_public_key
from lto_archive.baf.certificate import load_certificate, verify_certificate
from lto_archive.catalog import Catalog
from lto_archive.errors import LtoArchiveError
from tests.baf.conftest import Lab, make_card, make_safe
from tests.fuzz.common import FUZZ
from tests.fuzz.mutate_bytes import mutated_bytes, mutated_json

BASE = Path(tempfile.mkdtemp(prefix="fuzz-baf-"))


def _issued() -> dict[str, Any]:
    lab = make_safe(Lab(BASE, make_card(BASE / "media"), Catalog.open(BASE / "catalog.sqlite")))
    key_path, pub_path, _ = generate_key(BASE / "lab.key")
    key = load_private_key(key_path)
    plain = issue_certificate(lab.catalog, lab.card, 2, operator="Lab QC")
    signed = issue_certificate(lab.catalog, lab.card, 2, operator="Lab QC", sign_key=key)
    lab.catalog.close()
    for dev in lab.tapes.values():
        dev.close()
    return {"pub": load_public_key(pub_path), "plain": plain, "signed": signed,
            "files": {(s, k): (plain if s == "plain" else signed).to_json() if k == "json"
                      else (plain if s == "plain" else signed).to_html().encode() for s in ("plain", "signed")
                      for k in ("json", "html")}}


ISSUED = _issued()
FILES = ISSUED["files"]
KINDS = sorted(FILES)


def check(raw: bytes, kind: str, trusted: bool) -> None:
    path = BASE / f"fuzzed.{kind}"
    path.write_bytes(raw)
    key = ISSUED["pub"] if trusted else None
    try:
        v = verify_certificate(path, key)
    except LtoArchiveError:
        return
    v.to_dict()
    cert = load_certificate(path, key)
    if trusted:
        assert cert.document == ISSUED["signed"].document, "a changed certificate verified against the lab key"


def test_the_issued_certificates_verify() -> None:
    for (signed, kind), raw in FILES.items():
        check(raw, kind, signed == "signed")


@FUZZ
@given(st.sampled_from(KINDS).flatmap(lambda k: st.tuples(st.just(k), mutated_bytes(FILES[k]))), st.booleans())
@example((("plain", "json"), b"[" * 100_000 + b"]" * 100_000), False)
@example((("plain", "json"), FILES["plain", "json"].replace(b'"copies_required":2', b'"copies_required":NaN')),
         False)
def test_certificate_bytes(case: tuple[tuple[str, str], bytes], trusted: bool) -> None:
    (signed, kind), raw = case
    check(raw, kind, trusted and signed == "signed")


@FUZZ
@given(st.sampled_from(KINDS).flatmap(lambda k: st.tuples(st.just(k), mutated_json(ISSUED[k[0]].document))))
def test_certificate_values(case: tuple[tuple[str, str], bytes]) -> None:
    (signed, kind), raw = case
    check(raw, "json", signed == "signed")


@FUZZ
@given(mutated_json(ISSUED["plain"].document["content"]))
@example(json.dumps({"destinations": [1, None], "issued": []}).encode())
def test_an_unsigned_certificate_of_any_content(raw: bytes) -> None:
    """The digest made to match the mutated content: it verifies (unsigned), and every reader copes."""
    try:
        content = json.loads(raw)
    except (ValueError, RecursionError):
        assume(False)
    assume(isinstance(content, dict))
    try:
        cert = Certificate.from_content(content)
        data = cert.to_json()
    except (ValueError, TypeError, RecursionError):
        assume(False)                   # not something the issuer writes (NaN, a lone surrogate)
    check(data, "json", False)
