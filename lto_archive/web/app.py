"""The web view: a small Starlette app on the catalog (docs/web.md).

Plain URLs people bookmark and scripts call (`/search?q=TEXT`, `/files/PATH`, `/cartridges/BARCODE`,
`/jobs/ID`; `?json=1` or `Accept: application/json` gives the data). Read-only for everyone; actions
are POSTs that need a logged-in account with the operator role (local accounts, catalog/users.py) and
the form's CSRF token: queue a restore of a file, queue a full verify of a cartridge.
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import quote
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from ..api.audit import audit_plan
from ..api.catalog import Catalog
from ..api.health import cartridge_health
from ..api.logs import log_root
from ..api.queue import list_jobs, queue_url, show_job, submit
from ..catalog import catalog_target
from ..catalog import custody as custody_store
from ..catalog import users as accounts
from ..errors import LtoArchiveError, UsageError
from .templates import ENV

DOCUMENT_SUFFIXES = (".json", ".log", ".html", ".pdf", ".csv", ".mhl", ".7z", ".jsonl", ".txt", ".md5", ".xxh128")
SEARCH_LIMIT = 500


class WebView:
    """The routes over one catalog (a path or a postgresql:// URL)."""

    def __init__(self, catalog: str | None) -> None:
        self.catalog = catalog
        self.has_queue = catalog_target(catalog)[0] == "postgresql"

    # --- helpers -----------------------------------------------------------------------
    def open(self) -> Catalog:
        return Catalog(self.catalog, create=False)

    @staticmethod
    def csrf(request: Request) -> str:
        token = request.session.get("csrf")
        if not token:
            token = request.session["csrf"] = secrets.token_urlsafe(24)
        return str(token)

    def page(self, request: Request, name: str, status: int = 200, **ctx: Any) -> Response:
        role = request.session.get("role")
        html = ENV.get_template(name).render(user=request.session.get("user"), role=role, csrf=self.csrf(request),
                                             may_operate=accounts.may(role, "operator"), **ctx)
        return HTMLResponse(html, status_code=status)

    @staticmethod
    def wants_json(request: Request) -> bool:
        return request.query_params.get("json") == "1" or "application/json" in request.headers.get("accept", "")

    async def checked_form(self, request: Request, role: str | None = "operator") -> dict[str, str]:
        """The POSTed form, after the CSRF token (and the role, when one is needed) were checked."""
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not secrets.compare_digest(form.get("csrf", ""), str(request.session.get("csrf", ""))):
            raise PermissionError("the form's security token is missing or stale: reload the page and try again")
        if role is not None and not accounts.may(request.session.get("role"), role):
            raise PermissionError(f"this needs an account with the {role} role: log in as one")
        return form

    # --- pages -------------------------------------------------------------------------
    async def search(self, request: Request) -> Response:
        q = request.query_params
        crit = {k: q.get(k) or None for k in ("camera", "reel", "since", "until", "production")}
        hits = None
        if q.get("q") or any(crit.values()):
            with self.open() as cat:
                hits = cat.search(q.get("q") or None, limit=SEARCH_LIMIT, **crit)  # type: ignore[arg-type]
        if self.wants_json(request):
            return JSONResponse({"files": [h.to_dict() for h in hits or []]})
        return self.page(request, "search", 200, hits=hits, q=q.get("q", ""),
                         **{k: q.get(k, "") for k in ("camera", "reel", "since", "until", "production")})

    def find_file(self, path: str) -> Any:
        with self.open() as cat:
            exact = [h for h in cat.search(path, limit=SEARCH_LIMIT) if h.path == path]
        return exact[0] if exact else None

    async def file(self, request: Request) -> Response:
        hit = self.find_file(request.path_params["path"])
        if hit is None:
            return self.page(request, "search", 404, hits=[], q=request.path_params["path"],
                             error="no such file in the catalog")
        if self.wants_json(request):
            return JSONResponse(hit.to_dict())
        return self.page(request, "file", hit=hit)

    async def cartridges(self, request: Request) -> Response:
        with self.open() as cat:
            tapes = cat.tapes()
        if self.wants_json(request):
            return JSONResponse({"cartridges": tapes})
        return self.page(request, "cartridges", tapes=tapes)

    async def cartridge(self, request: Request) -> Response:
        label = request.path_params["barcode"]
        with self.open() as cat:
            found = [t for t in cat.tapes() if label in (t["label"], t["barcode"])]
            hits = cat.search(None, destination=label, limit=SEARCH_LIMIT) if found else []
        if not found:
            return self.page(request, "cartridges", 404, tapes=[], error=f"no cartridge {label} in the catalog")
        state = self.cartridge_state(found[0]["label"])
        if self.wants_json(request):
            return JSONResponse({"cartridge": found[0], "files": [h.path for h in hits], **state})
        return self.page(request, "cartridge", t=found[0], hits=hits, extra=state_text(state))

    def cartridge_state(self, label: str) -> dict[str, Any]:
        """Its audit state (due, overdue, failing, good; the last proof) and its health (flags, readings)."""
        plan = audit_plan(self.catalog).to_dict()
        audit = next((c for c in plan["cartridges"] if c["cartridge"] == label), None)
        health = cartridge_health(label, catalog=self.catalog).to_dict()
        return {"audit": audit, "health": health}

    async def jobs(self, request: Request) -> Response:
        jobs = list_jobs(catalog=self.catalog) if self.has_queue else []
        if self.wants_json(request):
            return JSONResponse({"queue": self.has_queue, "jobs": jobs})
        running = any(j["state"] in ("todo", "doing") for j in jobs)
        return self.page(request, "jobs", jobs=jobs, queue=self.has_queue, refresh=3 if running else None)

    async def job(self, request: Request) -> Response:
        if not self.has_queue:
            return self.page(request, "jobs", 404, jobs=[], queue=False)
        try:
            j = show_job(int(request.path_params["job_id"]), catalog=self.catalog)
        except UsageError as exc:                     # no such job
            if self.wants_json(request):
                return JSONResponse({"error": exc.message}, status_code=404)
            return self.page(request, "jobs", 404, jobs=[], queue=True, error=exc.message)
        for d in j["documents"]:
            d["url"] = f"/jobs/{j['id']}/documents/{quote(d['name'])}"
        if self.wants_json(request):
            return JSONResponse(j)
        return self.page(request, "job", j=j, result=json.dumps(j["result"], indent=1)[:20000],
                         refresh=2 if j["state"] in ("todo", "doing") else None)

    async def job_document(self, request: Request) -> Response:
        """One of the papers the job left (its copy log, custody excerpt, paperwork .7z ...), by its name: only
        a file the job's result names (api/queue.py job_documents), never a path from the URL."""
        missing = PlainTextResponse("no such document of this job", status_code=404)
        if not self.has_queue:
            return missing
        try:
            j = show_job(int(request.path_params["job_id"]), catalog=self.catalog)
        except UsageError:
            return missing
        name = request.path_params["name"]
        found = [d["path"] for d in j["documents"] if d["name"] == name]
        if not found:
            return missing
        return FileResponse(found[0], filename=name)

    async def custody(self, request: Request) -> Response:
        with self.open() as cat:
            entries = list(custody_store.entries(cat.store))
        if request.url.path.endswith(".jsonl"):
            body = "".join(json.dumps(e, sort_keys=True, ensure_ascii=False) + "\n" for e in entries)
            return Response(body, media_type="application/x-ndjson",
                            headers={"content-disposition": 'attachment; filename="custody.jsonl"'})
        return self.page(request, "custody", entries=entries[-1000:])

    def doc_root(self) -> Path:
        return log_root(self.catalog)

    async def documents(self, request: Request) -> Response:
        root = self.doc_root()
        docs = sorted(str(p.relative_to(root)) for p in root.rglob("*")
                      if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES) if root.is_dir() else []
        if self.wants_json(request):
            return JSONResponse({"root": str(root), "documents": docs})
        return self.page(request, "documents", docs=docs[-2000:], root=root)

    async def document(self, request: Request) -> Response:
        root = self.doc_root().resolve()
        wanted = (root / request.path_params["path"]).resolve()
        if not wanted.is_relative_to(root) or not wanted.is_file() or wanted.suffix.lower() not in DOCUMENT_SUFFIXES:
            return PlainTextResponse("no such document", status_code=404)
        return FileResponse(wanted, filename=wanted.name)

    # --- accounts and actions -----------------------------------------------------------
    async def login(self, request: Request) -> Response:
        if request.method == "GET":
            return self.page(request, "login")
        try:
            form = await self.checked_form(request, role=None)
        except PermissionError as exc:
            return self.page(request, "login", 403, error=str(exc))
        with self.open() as cat:
            role = accounts.authenticate(cat.store, form.get("name", ""), form.get("password", ""))
        if role is None:
            return self.page(request, "login", 401, error="wrong name or password")
        request.session.update(user=form["name"], role=role, csrf=secrets.token_urlsafe(24))
        return RedirectResponse("/search", status_code=303)

    async def logout(self, request: Request) -> Response:
        try:
            await self.checked_form(request, role=None)
        except PermissionError as exc:
            return self.page(request, "login", 403, error=str(exc))
        request.session.clear()
        return RedirectResponse("/search", status_code=303)

    async def restore(self, request: Request) -> Response:
        form = await self.checked_form(request)
        if not form.get("dest", "").startswith("/"):
            raise PermissionError("give the folder to restore into as an absolute path on the worker node")
        args = {"dest": form["dest"], "patterns": [form.get("path", "")], "barcode": form.get("barcode") or None}
        job = submit("restore", {k: v for k, v in args.items() if v}, catalog=self.queue())
        return RedirectResponse(f"/jobs/{job}", status_code=303)

    async def verify(self, request: Request) -> Response:
        await self.checked_form(request)
        job = submit("verify", {"barcode": request.path_params["barcode"]}, catalog=self.queue())
        return RedirectResponse(f"/jobs/{job}", status_code=303)

    async def audit(self, request: Request) -> Response:
        """Queue a full audit of the cartridge (docs/audit.md): verified, drilled, recorded as an audit."""
        await self.checked_form(request)
        job = submit("audit", {"cartridges": [request.path_params["barcode"]], "kind": "full"}, catalog=self.queue())
        return RedirectResponse(f"/jobs/{job}", status_code=303)

    def queue(self) -> str:
        return queue_url(self.catalog)


def state_text(state: dict[str, Any]) -> dict[str, str]:
    """The cartridge page's audit and health lines."""
    a, h = state["audit"], state["health"]
    audit = "not a cartridge the audits follow" if a is None else (
        f"{a['state']}: {a['due'] or 'nothing'} due {a['due_at'] or ''} ({a['reason'] or 'policy'}); last full proof "
        f"{a['last_full'] or 'never'}; last audit "
        + (f"{a['last_audit']['at']} {a['last_audit']['kind']} {a['last_audit']['result']}" if a["last_audit"]
           else "never"))
    flags = "; ".join(f"{f['kind']}: {f['why']}" for f in h["flags"]) or "no warning"
    return {"audit": audit, "health": f"{flags} ({h['readings']} reading(s) at loads)"}


def _guarded(view: WebView, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """Our errors and refusals as a page with the right status, never a traceback."""
    async def run(request: Request) -> Response:
        try:
            return await handler(request)      # type: ignore[no-any-return]
        except PermissionError as exc:
            return view.page(request, "search", 403, hits=None, q="", error=str(exc))
        except LtoArchiveError as exc:
            if view.wants_json(request):
                return JSONResponse({"error": exc.message}, status_code=400)
            return view.page(request, "search", 400, hits=None, q="", error=exc.message)
    return run


def create_app(catalog: str | None = None, *, secret: str | None = None) -> Starlette:
    """The web app over `catalog`. `secret` signs the session cookies (default: a new random one, so a
    restart logs everybody out)."""
    v = WebView(catalog)

    async def home(request: Request) -> Response:
        return RedirectResponse("/search")

    routes = [Route("/", home), Route("/search", v.search),
              Route("/files/{path:path}", v.file), Route("/cartridges", v.cartridges),
              Route("/cartridges/{barcode}", v.cartridge),
              Route("/cartridges/{barcode}/verify", v.verify, methods=["POST"]),
              Route("/cartridges/{barcode}/audit", v.audit, methods=["POST"]),
              Route("/jobs", v.jobs), Route("/jobs/{job_id:int}", v.job),
              Route("/jobs/{job_id:int}/documents/{name}", v.job_document), Route("/custody", v.custody),
              Route("/custody.jsonl", v.custody), Route("/documents", v.documents),
              Route("/documents/{path:path}", v.document), Route("/login", v.login, methods=["GET", "POST"]),
              Route("/logout", v.logout, methods=["POST"]), Route("/restore", v.restore, methods=["POST"])]
    guarded = [Route(r.path, _guarded(v, r.endpoint), methods=list(r.methods or ["GET"])) for r in routes]
    return Starlette(routes=guarded, middleware=[
        Middleware(SessionMiddleware, secret_key=secret or secrets.token_urlsafe(32), same_site="strict",
                   https_only=False, session_cookie="lto_archive_session")])


__all__ = ["create_app", "WebView"]
