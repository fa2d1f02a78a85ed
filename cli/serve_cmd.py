"""`serve` (the web view) and `users add|list|remove` (its local accounts): docs/web.md."""

from __future__ import annotations

from pathlib import Path

import click

from lto_archive import UsageError, add_web_user, remove_web_user, serve_web, web_users

from .catalog_cmds import catalog_option
from .common import emit


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface; put it behind a TLS proxy then).")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--secret-file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="A file holding the key that signs the login cookies (default: a new one each start).")
@catalog_option
def serve(host: str, port: int, secret_file: Path | None, catalog_path: str | None) -> None:
    """The web view of the catalog: search, copies, cartridges, jobs, custody, documents. Read-only without
    a login; an operator account queues restores and verifies (see: lto-archive users add)."""
    secret = None
    if secret_file is not None:
        try:
            secret = secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"--secret-file {secret_file}: {exc.strerror}") from None
    click.echo(f"serving the catalog on http://{host}:{port}/ (Ctrl-C stops)")
    serve_web(catalog_path, host=host, port=port, secret=secret)


@click.group("users")
def users() -> None:
    """The web view's local accounts: viewer (read), operator (queue restores, verifies), admin."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "operator", "admin"]), default="viewer", show_default=True)
@click.option("--password-file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Read the password from this file (default: asked twice, not shown).")
@catalog_option
@click.option("--json", "as_json", is_flag=True)
def users_add(name: str, role: str, password_file: Path | None, catalog_path: str | None, as_json: bool) -> None:
    """Make (or change) the account NAME."""
    password = None if password_file else str(click.prompt("password", hide_input=True, confirmation_prompt=True))
    doc = add_web_user(name, password, role, password_file=password_file, catalog=catalog_path)
    emit({"status": "ok", **doc}, as_json, lambda: click.echo(f"account {name}: {role}"))


@users.command("list")
@catalog_option
@click.option("--json", "as_json", is_flag=True)
def users_list(catalog_path: str | None, as_json: bool) -> None:
    """Every account and its role."""
    found = web_users(catalog=catalog_path)
    emit({"users": found}, as_json,
         lambda: [click.echo(f"{u['name']:<20} {u['role']:<9} since {u['created']}") for u in found]
         or click.echo("no account: the web view is read-only"))


@users.command("remove")
@click.argument("name")
@catalog_option
@click.option("--json", "as_json", is_flag=True)
def users_remove(name: str, catalog_path: str | None, as_json: bool) -> None:
    """Remove the account NAME."""
    if not remove_web_user(name, catalog=catalog_path):
        raise UsageError(f"no account {name!r} (see: lto-archive users list)")
    emit({"status": "ok", "removed": name}, as_json, lambda: click.echo(f"account {name} removed"))


__all__ = ["serve", "users"]
