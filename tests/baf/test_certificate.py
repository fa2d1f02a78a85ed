"""The certificate files: canonical JSON with its digest, the Ed25519 signature, the HTML page; any change is found."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.baf import (Certificate, CertificateInvalid, canonical_json, fingerprint, generate_key,
                             issue_certificate, load_certificate, load_private_key, load_public_key,
                             verify_certificate)
from lto_archive.baf.certificate import SCRIPT_ID, format_for
from lto_archive.baf.keys import PASSPHRASE_ENV
from lto_archive.errors import ExitCode, UsageError, VerificationFailed

from .conftest import Lab, make_file


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("keys")
    lab_key, lab_pub, lab_fp = generate_key(d / "lab.key")
    other_key, other_pub, _ = generate_key(d / "other.key")
    return {"lab": load_private_key(lab_key), "lab_pub": load_public_key(lab_pub), "lab_fp": lab_fp,
            "lab_pub_path": lab_pub, "other": load_private_key(other_key), "dir": d}


@pytest.fixture(scope="module")
def certs(shared_lab: Lab, keys: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("certs")
    plain = issue_certificate(shared_lab.catalog, shared_lab.card, 2, operator="Lab QC")
    signed = issue_certificate(shared_lab.catalog, shared_lab.card, 2, operator="Lab QC", sign_key=keys["lab"])
    return {"plain": plain, "signed": signed,
            "plain.json": plain.write(d / "plain.json"), "plain.html": plain.write(d / "plain.html"),
            "signed.json": signed.write(d / "signed.json"), "signed.html": signed.write(d / "signed.html")}


def tampered(tmp_path: Path, source: Path, data: bytes | str, name: str | None = None) -> Path:
    out = tmp_path / (name or source.name)
    out.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return out


def problems(path: Path, public_key: Ed25519PublicKey | None = None) -> list[str]:
    with pytest.raises(CertificateInvalid) as info:
        verify_certificate(path, public_key)
    exc = info.value
    assert isinstance(exc, VerificationFailed) and exc.exit_code == ExitCode.VERIFY_FAILED
    return exc.data["problems"]


def reserialise(doc: dict[str, Any]) -> bytes:
    return canonical_json(doc) + b"\n"


# --- what the files hold ------------------------------------------------------------------------

def test_json_and_html_verify(certs: dict[str, Any], keys: dict[str, Any]) -> None:
    for name in ("plain.json", "plain.html"):
        v = verify_certificate(certs[name])
        assert v.digest == certs["plain"].digest and not v.signed and not v.trusted and v.kind == name[-4:]
        assert v.content["card"]["name"] == "A001_C007"
    for name in ("signed.json", "signed.html"):
        v = verify_certificate(certs[name], keys["lab_pub"])
        assert v.signed and v.trusted and v.key_fingerprint == keys["lab_fp"] and not v.notes
        v = verify_certificate(certs[name])
        assert v.signed and not v.trusted and "not checked against a trusted lab key" in v.notes[0]
    # the page and the JSON carry the same document
    assert load_certificate(certs["signed.html"]).document == load_certificate(certs["signed.json"]).document \
        == certs["signed"].document


def test_json_is_canonical_and_its_digest_is_sha256_of_the_content(certs: dict[str, Any]) -> None:
    raw = certs["signed.json"].read_bytes()
    doc = json.loads(raw)
    # written by any JSON library: sorted keys, no whitespace, UTF-8 as is
    assert raw == json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    content = json.dumps(doc["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert doc["digest"] == "sha256:" + hashlib.sha256(content).hexdigest()
    assert doc["format"] == "lto-archive-baf-certificate" and doc["version"] == 1
    # the signature checks with nothing but the cryptography package and the rule in the docs
    sig = doc["signature"]
    pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(sig["public_key"]))
    pub.verify(base64.b64decode(sig["value"]), f"lto-archive-baf-certificate/1 {doc['digest']}".encode())
    assert sig["key_fingerprint"] == "sha256:" + hashlib.sha256(base64.b64decode(sig["public_key"])).hexdigest()
    assert doc["content"]["issued"]["signing_key"] == sig["key_fingerprint"]


def test_html_is_a_printable_self_contained_page(certs: dict[str, Any]) -> None:
    page = certs["signed.html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<h1>OK TO FORMAT</h1>" in page and "@media print" in page
    assert "LTA001L9" in page and "LTA002L9" in page and "A001C007_260315_R1AB.mxf" in page
    assert certs["signed"].digest in page and certs["signed"].signature["key_fingerprint"] in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)       # nothing fetched
    assert page.count("<script") == 1 and f'<script type="application/json" id="{SCRIPT_ID}">' in page


# --- any change is found -----------------------------------------------------------------------

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.floats(min_value=0, max_value=1, exclude_max=True), flip=st.integers(1, 255),
       which=st.sampled_from(["plain.json", "signed.json"]))
def test_any_byte_changed_in_the_json_fails(certs: dict[str, Any], tmp_path: Path, where: float, flip: int,
                                            which: str) -> None:
    raw = bytearray(certs[which].read_bytes())
    i = int(where * len(raw))
    raw[i] ^= flip
    assert problems(tampered(tmp_path, certs[which], bytes(raw)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.floats(min_value=0, max_value=1, exclude_max=True), flip=st.integers(1, 255),
       in_block=st.booleans())
def test_any_byte_changed_in_the_html_fails(certs: dict[str, Any], tmp_path: Path, where: float, flip: int,
                                            in_block: bool) -> None:
    raw = bytearray(certs["signed.html"].read_bytes())
    start, end = 0, len(raw)
    if in_block:                                  # aim at the certificate the page carries
        start = raw.index(f'id="{SCRIPT_ID}">'.encode()) + len(f'id="{SCRIPT_ID}">')
        end = raw.index(b"</script>", start)
    i = start + int(where * (end - start))
    raw[i] ^= flip
    assert problems(tampered(tmp_path, certs["signed.html"], bytes(raw)))


def test_every_single_byte_of_a_signed_json_matters(certs: dict[str, Any], tmp_path: Path) -> None:
    """Exhaustive over positions (one change each): no byte of the file can change unnoticed."""
    raw = certs["signed.json"].read_bytes()
    out = tmp_path / "t.json"
    for i in range(len(raw)):
        data = bytearray(raw)
        data[i] ^= 0x01 if data[i] != 0x7E else 0x02
        out.write_bytes(bytes(data))
        with pytest.raises(CertificateInvalid):
            verify_certificate(out)


def test_changed_content_is_named(certs: dict[str, Any], keys: dict[str, Any], tmp_path: Path) -> None:
    doc = json.loads(certs["signed.json"].read_bytes())
    doc["content"]["files"][0]["copies"][0]["barcode"] = "FORGED1L9"
    p = tampered(tmp_path, certs["signed.json"], reserialise(doc))
    assert problems(p)[0].startswith("the content does not match its digest: it was changed after issue")
    # a forger recomputes the digest: the signature catches it
    doc["digest"] = "sha256:" + hashlib.sha256(canonical_json(doc["content"])).hexdigest()
    p = tampered(tmp_path, certs["signed.json"], reserialise(doc))
    assert any(x.startswith("the signature does not match the certificate") for x in problems(p))
    # ...and if they strip it, the content still names the key it was issued for
    doc["signature"] = None
    p = tampered(tmp_path, certs["signed.json"], reserialise(doc))
    assert problems(p) == [f"the signature was removed (the certificate was issued to be signed by "
                           f"{keys['lab_fp']})"]


def test_unsigned_certificate_digest_only_detects_changes_not_forgers(certs: dict[str, Any], keys: dict[str, Any],
                                                                       tmp_path: Path) -> None:
    doc = json.loads(certs["plain.json"].read_bytes())
    doc["content"]["copies_required"] = 3
    p = tampered(tmp_path, certs["plain.json"], reserialise(doc))
    assert "does not match its digest" in problems(p)[0]
    doc["digest"] = "sha256:" + hashlib.sha256(canonical_json(doc["content"])).hexdigest()
    p = tampered(tmp_path, certs["plain.json"], reserialise(doc))
    verify_certificate(p)                                       # documented: sign to stop forgers
    assert problems(p, keys["lab_pub"]) == [f"the certificate is not signed; a signature by {keys['lab_fp']} "
                                            f"was required"]
    assert problems(certs["plain.json"], keys["lab_pub"])


def test_signed_with_another_key_fails_against_the_lab_key(shared_lab: Lab, keys: dict[str, Any],
                                                          tmp_path: Path) -> None:
    cert = issue_certificate(shared_lab.catalog, shared_lab.card, sign_key=keys["other"])
    p = cert.write(tmp_path / "other.json")
    assert verify_certificate(p).signed                         # consistent in itself...
    (msg,) = problems(p, keys["lab_pub"])                       # ...but not the lab's
    assert msg.startswith("signed with another key (sha256:") and keys["lab_fp"] in msg
    # a forger edits a signed certificate and re-signs it with their own key: the lab key says no
    doc = json.loads((tmp_path / "other.json").read_bytes())
    doc_lab = load_certificate(p).document
    assert doc == doc_lab
    forged = dict(doc["content"], copies_required=5)
    forged["issued"] = dict(forged["issued"], signing_key=fingerprint(keys["other"].public_key()))
    p2 = Certificate.from_content(forged, keys["other"]).write(tmp_path / "forged.html")
    assert verify_certificate(p2).signed
    assert problems(p2, keys["lab_pub"])[0].startswith("signed with another key")


def test_damaged_signature_block(certs: dict[str, Any], tmp_path: Path) -> None:
    doc = json.loads(certs["signed.json"].read_bytes())
    value = doc["signature"]["value"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    stray = value[:-3] + alphabet[alphabet.index(value[-3]) ^ 1] + "=="     # an unused bit set: same bytes
    assert base64.b64decode(stray) == base64.b64decode(value) and stray != value
    doc["signature"]["value"] = stray
    assert "damaged" in problems(tampered(tmp_path, certs["signed.json"], reserialise(doc)))[0]
    doc = json.loads(certs["signed.json"].read_bytes())
    doc["signature"]["key_fingerprint"] = "sha256:" + "0" * 64
    assert "is not that of its key" in problems(tampered(tmp_path, certs["signed.json"], reserialise(doc)))[0]
    doc = json.loads(certs["signed.json"].read_bytes())
    doc["extra"] = 1
    assert problems(tampered(tmp_path, certs["signed.json"], reserialise(doc))) == [
        "fields added to the certificate: extra"]


def test_reformatted_json_fails_even_with_the_same_meaning(certs: dict[str, Any], tmp_path: Path) -> None:
    doc = json.loads(certs["signed.json"].read_bytes())
    p = tampered(tmp_path, certs["signed.json"], json.dumps(doc, indent=1, sort_keys=True))
    assert problems(p) == ["the file is not byte for byte the certificate as issued (edited or re-saved: "
                           "whitespace, key order or escapes changed)"]
    p = tampered(tmp_path, certs["signed.json"], certs["signed.json"].read_bytes().rstrip(b"\n"))
    assert problems(p)


def test_html_visible_page_edited(certs: dict[str, Any], tmp_path: Path) -> None:
    page = certs["signed.html"].read_text(encoding="utf-8")
    head, block = page.split(f'<script type="application/json" id="{SCRIPT_ID}">')
    forged = head.replace("<b>LTA002L9</b>", "<b>LTA009L9</b>") + f'<script type="application/json" id="{SCRIPT_ID}">' \
        + block
    assert forged != page
    (msg,) = problems(tampered(tmp_path, certs["signed.html"], forged))
    assert msg.startswith("the printed page does not show what the certificate it carries says (first difference "
                          "on line ")
    # a second certificate block, or none
    assert problems(tampered(tmp_path, certs["signed.html"], page.replace("</body>", head[-10:] + "</body>")))
    no_block = page.replace(f'id="{SCRIPT_ID}"', 'id="x"')
    assert "carries 0 certificate blocks" in problems(tampered(tmp_path, certs["signed.html"], no_block))[0]


def test_not_a_certificate(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_text('{"format": "something"}')
    assert "not an lto-archive OK-to-format certificate" in problems(p)[0]
    p.write_bytes(b"\xff\xfe")
    assert "not UTF-8" in problems(p)[0]
    with pytest.raises(UsageError):
        verify_certificate(tmp_path / "missing.json")


# --- names that are hostile to HTML, and names that are not ASCII --------------------------------

def test_hostile_and_unicode_names(lab: Lab, tmp_path: Path) -> None:
    make_file(lab.card / "CLIPS" / "<script>alert('x')</script> & \"q\".mov", b"boo")
    make_file(lab.card / "Scène_été.wav", b"la")
    lab.copy("LTA001L9")
    lab.copy("LTA002L9")
    lab.verify("LTA001L9")
    lab.verify("LTA002L9")
    cert = issue_certificate(lab.catalog, lab.card)
    page_path = cert.write(tmp_path / "c.html")
    page = page_path.read_text(encoding="utf-8")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;" in page
    assert "\\u003cscript\\u003ealert('x')\\u003c/script\\u003e \\u0026" in page
    assert "Scène_été.wav" in page
    assert verify_certificate(page_path).content == cert.content
    js = cert.write(tmp_path / "c.json").read_bytes()
    assert "Scène_été.wav".encode() in js                      # UTF-8 as is, not \u escapes
    assert verify_certificate(tmp_path / "c.json").digest == cert.digest


def test_canonical_json_of_undecodable_names() -> None:
    name = os.fsdecode(b"clip\xff.mov")                     # a lone surrogate, as os gives it
    raw = canonical_json({"path": name, "é": 1})
    assert raw == b'{"path":"clip\\udcff.mov","\xc3\xa9":1}'
    assert json.loads(raw) == {"path": name, "é": 1} and canonical_json(json.loads(raw)) == raw


# --- keys and files -----------------------------------------------------------------------------

def test_keygen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    priv, pub, fp = generate_key(tmp_path / "keys" / "lab.key")
    assert pub == tmp_path / "keys" / "lab.pub" and stat.S_IMODE(priv.stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" in priv.read_bytes() and b"BEGIN PUBLIC KEY" in pub.read_bytes()
    assert fingerprint(load_public_key(pub)) == fp == fingerprint(load_public_key(priv))
    assert fingerprint(load_private_key(priv).public_key()) == fp
    with pytest.raises(UsageError, match="never overwritten"):
        generate_key(priv)
    _, _, fp2 = generate_key(priv, overwrite=True)
    assert fp2 != fp
    assert generate_key(tmp_path / "bare")[1] == tmp_path / "bare.pub"
    with pytest.raises(UsageError):
        generate_key(tmp_path / "x.pub")
    # encrypted with the passphrase from the environment
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    enc, _, efp = generate_key(tmp_path / "enc.key")
    assert b"ENCRYPTED" in enc.read_bytes() and fingerprint(load_private_key(enc).public_key()) == efp
    assert load_private_key(priv)                            # an unencrypted key loads with it set too
    monkeypatch.delenv(PASSPHRASE_ENV)
    with pytest.raises(UsageError, match="encrypted"):
        load_private_key(enc)
    # not an Ed25519 key, not a key
    ed448 = tmp_path / "ed448.key"
    ed448.write_bytes(Ed448PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(UsageError, match="not an Ed25519 key"):
        load_private_key(ed448)
    (tmp_path / "junk.pub").write_text("hello")
    with pytest.raises(UsageError):
        load_public_key(tmp_path / "junk.pub")
    with pytest.raises(UsageError):
        load_private_key(tmp_path / "missing.key")


def test_write_refuses_to_overwrite_and_needs_a_format(certs: dict[str, Any], tmp_path: Path) -> None:
    cert: Certificate = certs["plain"]
    p = cert.write(tmp_path / "c.htm")
    assert p.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(UsageError, match="never overwritten"):
        cert.write(p)
    cert.write(p, overwrite=True)
    assert format_for("x.JSON") == "json"
    with pytest.raises(UsageError, match="--format"):
        cert.write(tmp_path / "c.txt")
    assert cert.write(tmp_path / "c.txt", "json").read_bytes() == cert.to_json()
    assert not list(tmp_path.glob(".c.*"))                    # no temporary left behind


def test_signing_key_must_match_content(certs: dict[str, Any], keys: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        Certificate.from_content(certs["plain"].content, Ed25519PrivateKey.generate())
