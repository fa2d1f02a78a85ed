"""The store side of the web view's local accounts: a name, a scrypt password hash and one role.

Roles, each allowing what the one before does: viewer (read), operator (submit restores and audits),
admin (accounts). Passwords are never stored: scrypt (hashlib, RFC 7914) with a random salt per account.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from ..errors import UsageError
from ..manifest import iso, utc_now
from .store import Catalog

ROLES = ("viewer", "operator", "admin")
_N, _R, _P = 2**14, 8, 1
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def add_user(cat: Catalog, name: str, password: str, role: str) -> dict[str, Any]:
    """Make (or change) the account `name`."""
    if role not in ROLES:
        raise UsageError(f"role is one of {', '.join(ROLES)}, not {role!r}")
    if not name or not name.isprintable() or len(name) > 64:
        raise UsageError("an account name is 1 to 64 printable characters")
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"a password has at least {MIN_PASSWORD} characters")
    with cat.transaction():
        cat.conn.execute("DELETE FROM web_users WHERE name = ?", (name,))
        cat.conn.execute("INSERT INTO web_users(name, pw_hash, role, created) VALUES (?, ?, ?, ?)",
                         (name, hash_password(password), role, iso(utc_now())))
    return {"name": name, "role": role}


def remove_user(cat: Catalog, name: str) -> bool:
    with cat.transaction():
        return bool(cat.conn.execute("DELETE FROM web_users WHERE name = ?", (name,)).rowcount)


def users(cat: Catalog) -> list[dict[str, Any]]:
    return [{"name": n, "role": r, "created": c}
            for n, r, c in cat.conn.execute("SELECT name, role, created FROM web_users ORDER BY name").fetchall()]


def authenticate(cat: Catalog, name: str, password: str) -> str | None:
    """The account's role when the password is right, else None (the same time either way)."""
    row = cat.conn.execute("SELECT pw_hash, role FROM web_users WHERE name = ?", (name,)).fetchone()
    stored = row[0] if row else hash_password("not an account: spend the same time")
    ok = check_password(password, stored)
    return str(row[1]) if row and ok else None


def may(role: str | None, needed: str) -> bool:
    """Whether `role` may do what `needed` may."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


__all__ = ["ROLES", "add_user", "remove_user", "users", "authenticate", "may", "hash_password", "check_password"]
