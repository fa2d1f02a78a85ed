"""The lab's Ed25519 signing key: make it, load it, name it.

Keys are PEM files the `cryptography` package (and OpenSSL: `openssl pkey -in
lab.key -pubout`) reads: the private key PKCS#8, the public key
SubjectPublicKeyInfo. `generate_key("lab.key")` writes `lab.key` (mode 0600)
and `lab.pub` next to it. A private key may be encrypted: its passphrase is
read from `$LTO_ARCHIVE_KEY_PASSPHRASE` (which `generate_key` also uses to
encrypt a new key).

A key's fingerprint is `sha256:` and the hex SHA-256 of its 32 raw public key
bytes; the certificate shows it, and a lab publishes it with its public key.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import UsageError

PASSPHRASE_ENV = "LTO_ARCHIVE_KEY_PASSPHRASE"


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey | bytes) -> str:
    """`sha256:<hex>` of the 32 raw public key bytes."""
    raw = key if isinstance(key, bytes) else raw_public(key)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def public_path_for(private: str | os.PathLike[str]) -> Path:
    """lab.key -> lab.pub (a name without suffix gets .pub added)."""
    p = Path(private)
    return p.with_suffix(".pub") if p.suffix else p.with_name(p.name + ".pub")


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def generate_key(output: str | os.PathLike[str], *, overwrite: bool = False) -> tuple[Path, Path, str]:
    """Write a new private key to `output` (0600) and its public key next to it; (private, public, fingerprint)."""
    priv_path = Path(output)
    pub_path = public_path_for(priv_path)
    if priv_path.suffix == ".pub":
        raise UsageError(f"{priv_path} is the name of a public key file: name the private key (lab.key)",
                         path=str(priv_path))
    for p in (priv_path, pub_path):
        if p.exists() and not overwrite:
            raise UsageError(f"{p} exists: a lab key is never overwritten by accident (remove it first, or "
                             f"--overwrite)", path=str(p))
    key = Ed25519PrivateKey.generate()
    pw = _passphrase()
    enc = serialization.BestAvailableEncryption(pw) if pw else serialization.NoEncryption()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    priv_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if overwrite and priv_path.exists():
            priv_path.unlink()
        fd = os.open(priv_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fp:
            fp.write(pem)
        pub_path.write_bytes(pub)
    except OSError as exc:
        raise UsageError(f"cannot write the key {priv_path}: {exc.strerror or exc}", path=str(priv_path)) from None
    return priv_path, pub_path, fingerprint(key.public_key())


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the signing key {p}: {exc.strerror or exc}", path=str(p)) from None
    pw = _passphrase()
    try:
        try:
            key = serialization.load_pem_private_key(data, password=pw)
        except TypeError:
            if not pw:
                raise UsageError(f"the signing key {p} is encrypted: put its passphrase in ${PASSPHRASE_ENV}",
                                 path=str(p)) from None
            key = serialization.load_pem_private_key(data, password=None)   # not encrypted after all
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise UsageError(f"{p} is not a PEM private key this can use ({exc}); make one with "
                         f"'lto-archive baf keygen --output lab.key'", path=str(p)) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"the signing key {p} is not an Ed25519 key ({type(key).__name__})", path=str(p))
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """A PEM public key (lab.pub); a PEM private key is accepted too (its public half is used)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the public key {p}: {exc.strerror or exc}", path=str(p)) from None
    if b"PRIVATE KEY" in data:
        return load_private_key(p).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise UsageError(f"{p} is not a PEM public key ({exc})", path=str(p)) from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"the public key {p} is not an Ed25519 key ({type(key).__name__})", path=str(p))
    return key


__all__ = ["generate_key", "load_private_key", "load_public_key", "fingerprint", "raw_public", "public_path_for",
           "PASSPHRASE_ENV"]
