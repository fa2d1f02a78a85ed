"""The web view's routes through Starlette's TestClient: plain URLs and their JSON, read-only by default,
logins and roles, CSRF on every form, documents that never leave their folder."""

from __future__ import annotations

import json
import re

from starlette.testclient import TestClient

from lto_archive import create_app

from .conftest import CLIPS, Archive


def client(archive: Archive) -> TestClient:
    return TestClient(create_app(archive.catalog, secret="test"), follow_redirects=False)


def csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def login(c: TestClient, name: str, password: str) -> None:
    token = csrf(c.get("/login").text)
    r = c.post("/login", data={"csrf": token, "name": name, "password": password})
    assert r.status_code == 303, r.text


def test_plain_urls_answer_people_and_scripts(archive: Archive) -> None:
    c = client(archive)
    assert c.get("/").headers["location"] == "/search"
    page = c.get("/search", params={"q": "A001C007"})
    assert page.status_code == 200 and "A001_C007/A001C007_210315_R1AB.mov" in page.text and "WEB001L9" in page.text
    doc = c.get("/search?q=A001C00&json=1").json()
    assert sorted(f["path"] for f in doc["files"]) == sorted(f"A001_C007/{n}" for n in CLIPS)
    f = c.get(f"/files/A001_C007/{CLIPS[0]}", headers={"accept": "application/json"}).json()
    assert f["path"] == f"A001_C007/{CLIPS[0]}" and f["copies"][0]["barcode"] == "WEB001L9"
    assert f["copies"][0]["verified"]                   # the write's read-back proved it
    html = c.get(f"/files/A001_C007/{CLIPS[0]}").text
    assert "Log in as an operator to restore" in html and "restore-form" not in html    # read-only by default
    cart = c.get("/cartridges/WEB001L9?json=1").json()
    assert cart["cartridge"]["location"] == "Vault, shelf 3" and len(cart["files"]) == 3
    assert cart["audit"]["state"] == "good" and cart["audit"]["last_full"]      # the write's read-back proved it
    assert cart["health"]["cartridge"] == "WEB001L9" and cart["health"]["readings"] >= 1   # read at its loads
    page = c.get("/cartridges/WEB001L9").text
    assert "good:" in page and "reading(s) at loads" in page
    assert [f["path"] for f in c.get("/search?production=Feature+One&json=1").json()["files"]] == \
        sorted(f"A001_C007/{n}" for n in CLIPS)
    assert c.get("/search?production=Other&json=1").json()["files"] == []
    assert c.get("/cartridges/NOPE01L9").status_code == 404
    assert c.get("/files/no/such.mov").status_code == 404
    assert "custody" in c.get("/custody").text
    docs = c.get("/documents?json=1").json()["documents"]
    assert docs == [] or all(not d.startswith("/") for d in docs)


def test_actions_need_an_operator_and_the_form_token(archive: Archive) -> None:
    c = client(archive)
    form = {"path": f"A001_C007/{CLIPS[0]}", "dest": "/restore/x", "barcode": "WEB001L9"}
    r = c.post("/restore", data={**form, "csrf": "forged"})
    assert r.status_code == 403 and "security token" in r.text
    token = csrf(c.get("/login").text)
    r = c.post("/restore", data={**form, "csrf": token})
    assert r.status_code == 403 and "operator role" in r.text            # not logged in
    login(c, "victor", "viewer-pass")
    token = csrf(c.get("/search").text)
    r = c.post("/restore", data={**form, "csrf": token})
    assert r.status_code == 403 and "operator role" in r.text            # a viewer reads, never acts
    r = c.post("/cartridges/WEB001L9/verify", data={"csrf": token})
    assert r.status_code == 403
    bad = client(archive)
    token = csrf(bad.get("/login").text)
    r = bad.post("/login", data={"csrf": token, "name": "olive", "password": "wrong"})
    assert r.status_code == 401 and "wrong name or password" in r.text


def test_documents_never_leave_their_folder(archive: Archive) -> None:
    c = client(archive)
    for bad in ("../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "/etc/passwd"):
        assert c.get(f"/documents/{bad}").status_code == 404


def test_accounts_from_the_command_line(tmp_path, catalog_url: str) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from lto_archive_cli.main import cli

    pw = tmp_path / "pw"
    pw.write_text("a long enough password\n")
    r = CliRunner()
    res = r.invoke(cli, ["users", "add", "ed", "--role", "operator", "--password-file", str(pw), "--catalog", catalog_url])
    assert res.exit_code == 0 and "account ed: operator" in res.output
    res = r.invoke(cli, ["users", "add", "x", "--password-file", str(tmp_path / "none"), "--catalog", catalog_url])
    assert res.exit_code == 2 and "cannot read the password file" in res.output
    assert [u["name"] for u in json.loads(r.invoke(cli, ["users", "list", "--json", "--catalog", catalog_url]).output)
            ["users"]] == ["ed"]                     # the refused one was not made
    c = TestClient(create_app(catalog_url, secret="t"), follow_redirects=False)
    login(c, "ed", "a long enough password")
    assert r.invoke(cli, ["users", "remove", "ed", "--catalog", catalog_url]).exit_code == 0
    assert r.invoke(cli, ["users", "remove", "ed", "--catalog", catalog_url]).exit_code == 2
