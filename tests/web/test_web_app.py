"""The web view's routes through Starlette's TestClient: plain URLs and their JSON, read-only by default,
logins and roles, CSRF on every form, documents that never leave their folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

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
    for action in ("verify", "audit"):
        r = c.post(f"/cartridges/WEB001L9/{action}", data={"csrf": token})
        assert r.status_code == 403 and "operator role" in r.text
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


def test_a_jobs_paperwork_is_linked_and_nothing_else_is_served(pg_archive: Archive, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import random
    import subprocess
    import sys

    from click.testing import CliRunner

    from lto_archive import submit_job
    from lto_archive_cli.main import cli

    new_card = tmp_path / "B001"
    new_card.mkdir()
    (new_card / "B001C001.mov").write_bytes(random.Random(9).randbytes(9000))
    job = submit_job("write", {"sources": [str(new_card)], "log_dir": str(tmp_path / "queued-logs")},
                     catalog=pg_archive.catalog)
    worker = subprocess.run([sys.executable, "-m", "lto_archive_cli.main", "worker", "--device", f"vtape:{pg_archive.tape}",
                             "--catalog", pg_archive.catalog, "--once", "--poll", "0.2"], capture_output=True, timeout=300)
    assert worker.returncode == 0, worker.stderr.decode()
    c = client(pg_archive)
    doc = c.get(f"/jobs/{job}?json=1").json()
    assert doc["state"] == "succeeded" and doc["status"] == "ok"
    kinds = {d["kind"]: d for d in doc["documents"]}
    assert {"copy log", "copy log (text)", "custody excerpt", "paperwork"} <= set(kinds), doc["documents"]
    assert kinds["paperwork"]["name"].endswith(".paperwork.7z")
    for d in doc["documents"]:                     # each one downloads, the very bytes of the file
        r = c.get(d["url"])
        assert r.status_code == 200 and r.content == Path(d["path"]).read_bytes(), d
        assert "attachment" in r.headers["content-disposition"]
    page = c.get(f"/jobs/{job}").text
    assert all(d["url"] in page for d in doc["documents"])
    # only the files the job's result names: no path from the URL, no other file beside them
    other = Path(kinds["copy log"]["path"]).parent / "other.json"
    other.write_text("{}")
    for bad in ("..%2F..%2F..%2Fetc%2Fpasswd", "../../../../etc/passwd", "%2Fetc%2Fpasswd", "passwd", "other.json",
                kinds["copy log"]["path"].replace("/", "%2F")):
        assert c.get(f"/jobs/{job}/documents/{bad}").status_code == 404, bad
    assert c.get(f"/jobs/{job + 1000}/documents/{kinds['paperwork']['name']}").status_code == 404
    # the command line shows them too
    res = CliRunner().invoke(cli, ["jobs", "show", str(job), "--catalog", pg_archive.catalog, "--json"])
    assert res.exit_code == 0 and {d["kind"] for d in json.loads(res.output)["documents"]} == set(kinds)
    res = CliRunner().invoke(cli, ["jobs", "show", str(job), "--catalog", pg_archive.catalog])
    assert kinds["paperwork"]["path"] in res.output


def test_an_operator_queues_a_full_audit_of_a_cartridge_and_a_worker_records_it(pg_archive: Archive) -> None:
    import subprocess
    import sys

    from lto_archive.catalog import Catalog

    c = client(pg_archive)
    login(c, "olive", "operator-pass")
    page = c.get("/cartridges/WEB001L9").text
    assert 'action="/cartridges/WEB001L9/audit"' in page
    r = c.post("/cartridges/WEB001L9/audit", data={"csrf": csrf(page)})
    assert r.status_code == 303
    job = int(r.headers["location"].rsplit("/", 1)[1])
    worker = subprocess.run([sys.executable, "-m", "lto_archive_cli.main", "worker", "--device", f"vtape:{pg_archive.tape}",
                             "--catalog", pg_archive.catalog, "--once", "--poll", "0.2"], capture_output=True, timeout=300)
    assert worker.returncode == 0, worker.stderr.decode()
    doc = c.get(f"/jobs/{job}?json=1").json()
    assert doc["state"] == "succeeded" and doc["kind"] == "audit" and doc["status"] == "ok", doc
    assert doc["args"] == {"cartridges": ["WEB001L9"], "kind": "full"}
    with Catalog.open(pg_archive.catalog) as cat:       # the audit itself, in the catalog: a full one, passed
        rows = cat.conn.execute("SELECT d.label, a.kind, a.result FROM audits a "
                                "JOIN destinations d ON d.id = a.destination_id").fetchall()
    assert rows == [("WEB001L9", "full", "ok")], rows
