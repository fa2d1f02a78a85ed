"""The web view of the catalog (docs/web.md): search, files and their copies, cartridges, jobs, custody
and documents, for people who never open a terminal; `lto-archive serve`.

Starlette (ASGI) with Jinja templates and uvicorn to serve them: well-kept libraries, no home-made
server. Bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

from typing import Any

from ..api.catalog import Catalog
from ..catalog import users as _users
from .app import WebView, create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def serve_web(catalog: str | None = None, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
              secret: str | None = None) -> None:
    """Serve the web view until stopped (Ctrl-C)."""
    import uvicorn

    with Catalog(catalog, create=False):
        pass                     # a catalog that cannot be opened is refused before the server starts
    uvicorn.run(create_app(catalog, secret=secret), host=host, port=port, log_level="warning")


def add_web_user(name: str, password: str, role: str, *, catalog: str | None = None) -> dict[str, Any]:
    """Make or change a local account of the web view (roles: viewer, operator, admin)."""
    with Catalog(catalog) as cat:
        return _users.add_user(cat.store, name, password, role)


def remove_web_user(name: str, *, catalog: str | None = None) -> bool:
    with Catalog(catalog, create=False) as cat:
        return _users.remove_user(cat.store, name)


def web_users(*, catalog: str | None = None) -> list[dict[str, Any]]:
    with Catalog(catalog, create=False) as cat:
        return _users.users(cat.store)


__all__ = ["create_app", "serve_web", "add_web_user", "remove_web_user", "web_users", "WebView", "DEFAULT_HOST",
           "DEFAULT_PORT"]
