"""The web view of the catalog (docs/web.md): search, files and their copies, cartridges, jobs, custody
and documents, for people who never open a terminal; `lto-archive serve`.

Starlette (ASGI) with Jinja templates and uvicorn to serve them: well-kept libraries, no home-made
server. Bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import os
from typing import Any

from ..api.catalog import Catalog
from ..catalog import users as _users
from ..errors import UsageError
from ..paperwork import read_password

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def create_app(catalog: str | None = None, *, secret: str | None = None) -> Any:
    """The web app (an ASGI app) over `catalog`; see app.create_app. Starlette, Jinja and uvicorn are the
    `web` extra: a base install (a DIT's laptop) runs everything else without them."""
    try:
        from .app import create_app as make
    except ImportError as exc:
        raise UsageError(f"the web view needs {exc.name or 'its packages'}: pip install 'lto-archive[web]'") from None
    return make(catalog, secret=secret)


def serve_web(catalog: str | None = None, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
              secret: str | None = None) -> None:
    """Serve the web view until stopped (Ctrl-C)."""
    app = create_app(catalog, secret=secret)
    with Catalog(catalog, create=False):
        pass                     # a catalog that cannot be opened is refused before the server starts
    import uvicorn               # the web extra, as create_app checked

    uvicorn.run(app, host=host, port=port, log_level="warning")


def add_web_user(name: str, password: str | None, role: str, *, password_file: str | os.PathLike[str] | None = None,
                 catalog: str | None = None) -> dict[str, Any]:
    """Make or change a local account of the web view (roles: viewer, operator, admin); the password given,
    or the first line of `password_file`."""
    secret = password if password is not None else read_password(password_file)
    if secret is None:
        raise UsageError("give the account's password (or a password file)")
    with Catalog(catalog) as cat:
        return _users.add_user(cat.store, name, secret, role)


def remove_web_user(name: str, *, catalog: str | None = None) -> bool:
    with Catalog(catalog, create=False) as cat:
        return _users.remove_user(cat.store, name)


def web_users(*, catalog: str | None = None) -> list[dict[str, Any]]:
    with Catalog(catalog, create=False) as cat:
        return _users.users(cat.store)


__all__ = ["create_app", "serve_web", "add_web_user", "remove_web_user", "web_users", "DEFAULT_HOST", "DEFAULT_PORT"]
