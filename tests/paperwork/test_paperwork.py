"""A job's paperwork as one .7z (issue 17): made from the copy log, read back by us and by Debian's 7z,
with and without the password; a wrong password is a clear error."""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner

import lto_archive
from lto_archive_cli.main import cli
from tests.conftest import require_tool


@pytest.fixture
def job(tmp_path):
    card = tmp_path / "A001_C007"
    (card / "CLIPS").mkdir(parents=True)
    (card / "CLIPS" / "A001C001.mov").write_bytes(b"m" * 30_000)
    r = CliRunner().invoke(cli, ["mhl", "create", str(card)])      # the card's ASC MHL history, as on set
    assert r.exit_code == 0, r.output
    lto_archive.create_vtape(tmp_path / "tape", capacity="64M").close()
    r = CliRunner().invoke(cli, ["write", str(card), "--device", f"vtape:{tmp_path / 'tape'}", "--no-catalog",
                                 "--log-dir", str(tmp_path / "logs"), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    (tmp_path / "rushes.html").write_text("<html>report</html>")
    return tmp_path, doc, next(p for p in doc["log"] if p.endswith(".json"))


def _make(copy_log, *extra):
    r = CliRunner().invoke(cli, ["paperwork", "make", copy_log, "--json", *extra])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_paperwork_holds_the_job_and_7z_reads_it(job):
    tmp_path, doc, copy_log = job
    made = _make(copy_log, "--add", str(tmp_path / "rushes.html"))
    session = doc["session"]["session_id"]
    assert made["output"].endswith(f"{session}.paperwork.7z") and not made["encrypted"]
    files = lto_archive.open_paperwork(made["output"])
    assert files[f"logs/{session}.json"] == (tmp_path / "logs" / f"{session}.json").read_bytes()
    assert json.loads(files[f".lto-archive/{session}/manifest.json"])["session"]["session_id"] == session
    assert b"A001C001.mov" in files[f".lto-archive/{session}/checksums.md5"]
    chain = (tmp_path / "A001_C007" / "ascmhl" / "ascmhl_chain.xml").read_bytes()
    assert files["mhl/A001_C007/ascmhl/ascmhl_chain.xml"] == chain
    assert files["extra/rushes.html"] == b"<html>report</html>"
    require_tool("7z")
    t = subprocess.run(["7z", "t", made["output"]], capture_output=True, text=True)
    assert t.returncode == 0 and "Everything is Ok" in t.stdout
    out = tmp_path / "x"
    subprocess.run(["7z", "x", f"-o{out}", made["output"]], capture_output=True, check=True)
    md5 = subprocess.run(["md5sum", "-c", f".lto-archive/{session}/checksums.md5"], cwd=out, capture_output=True)
    assert md5.returncode != 0        # the footage is not in the paperwork; the lists name it: that is the point
    assert (out / f"logs/{session}.log").read_bytes() == (tmp_path / "logs" / f"{session}.log").read_bytes()


def test_a_password_encrypts_names_too_and_a_wrong_one_is_a_clear_error(job):
    tmp_path, doc, copy_log = job
    (tmp_path / "pw").write_text("correct horse\n")
    (tmp_path / "bad").write_text("wrong\n")
    made = _make(copy_log, "--password-file", str(tmp_path / "pw"), "--output", str(tmp_path / "p.7z"))
    assert made["encrypted"]
    assert b"A001C001" not in (tmp_path / "p.7z").read_bytes() and b"manifest" not in (tmp_path / "p.7z").read_bytes()
    ok = CliRunner().invoke(cli, ["paperwork", "list", str(tmp_path / "p.7z"), "--password-file", str(tmp_path / "pw")])
    assert ok.exit_code == 0 and "manifest.json" in ok.output
    for args, says in ((["--password-file", str(tmp_path / "bad")], "password is wrong"), ([], "is encrypted")):
        r = CliRunner().invoke(cli, ["paperwork", "list", str(tmp_path / "p.7z"), *args])
        assert r.exit_code == 6 and says in r.output and "Traceback" not in r.output
    require_tool("7z")
    assert subprocess.run(["7z", "t", "-pcorrect horse", str(tmp_path / "p.7z")], capture_output=True).returncode == 0
    assert subprocess.run(["7z", "t", "-pwrong", str(tmp_path / "p.7z")], capture_output=True).returncode != 0


def test_damaged_paperwork_is_never_read_as_good(job):
    tmp_path, doc, copy_log = job
    made = _make(copy_log, "--output", str(tmp_path / "p.7z"))
    blob = bytearray((tmp_path / "p.7z").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (tmp_path / "p.7z").write_bytes(bytes(blob))
    r = CliRunner().invoke(cli, ["paperwork", "list", made["output"]])
    assert r.exit_code == 6 and "Traceback" not in r.output
