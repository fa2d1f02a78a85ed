"""`lto-archive baf ...` through the real command: issue (both spellings), verify, keygen, refusals, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ..bad_input_helpers import run
from .conftest import Lab, make_file


def cli_json(*args: str | Path, check: int = 0) -> dict[str, Any]:
    cp = run(*args, "--json", check=check)
    return json.loads(cp.stdout)


@pytest.fixture(scope="module")
def key(shared_lab: Lab) -> dict[str, Any]:
    d = shared_lab.root / "keys"
    return cli_json("baf", "keygen", "--output", d / "lab.key")


def card_copy(lab: Lab, tmp_path: Path) -> Path:
    """The card as another mount of it (same name, same bytes, same times)."""
    dst = tmp_path / "mnt" / lab.card.name
    shutil.copytree(lab.card, dst, copy_function=shutil.copy2)
    return dst


def test_issue_and_verify(shared_lab: Lab, key: dict[str, Any], tmp_path: Path) -> None:
    cat = shared_lab.catalog.path
    assert Path(key["public_key"]).name == "lab.pub" and key["fingerprint"].startswith("sha256:")
    html, js = tmp_path / "A001_C007.baf.html", tmp_path / "A001_C007.baf.json"
    doc = cli_json("baf", shared_lab.card, "--catalog", cat, "--output", html, "-o", js, "--copies", "2",
                   "--sign-key", key["private_key"], "--operator", "Lab QC")
    assert doc["status"] == "ok" and doc["outputs"] == [str(html), str(js)] and doc["signed"]
    assert doc["key_fingerprint"] == key["fingerprint"] and doc["destinations"] == ["LTA001L9", "LTA002L9"]
    assert doc["card"]["files"] == 4 and doc["copies_required"] == 2 and doc["issued"]["by"] == "Lab QC"
    for cert in (html, js):
        v = cli_json("baf", "verify", cert, "--public-key", key["public_key"])
        assert v["status"] == "ok" and v["trusted_key"] and v["digest"] == doc["digest"]
        assert v["kind"] == cert.suffix.lstrip(".") and v["certificate_id"] == doc["certificate_id"]
    out = run("baf", "verify", html, check=0)
    assert "certificate OK (html): card A001_C007, 4 file(s)" in out.stdout and "not checked against" in out.stderr
    # `baf issue SOURCE` is the same command
    text = run("baf", "issue", shared_lab.card, "--catalog", cat, "-o", tmp_path / "again.json", check=0).stdout
    assert text.startswith("OK TO FORMAT A001_C007: 4 file(s)") and "LTA001L9, LTA002L9" in text
    assert "not signed" in text
    # a certificate is never overwritten by accident
    cp = run("baf", shared_lab.card, "--catalog", cat, "-o", js, check=2)
    assert "never overwritten" in cp.stderr
    run("baf", shared_lab.card, "--catalog", cat, "-o", js, "--overwrite", check=0)


def test_tampered_certificate_exit_3(shared_lab: Lab, tmp_path: Path) -> None:
    js = tmp_path / "c.json"
    run("baf", shared_lab.card, "--catalog", shared_lab.catalog.path, "-o", js, check=0)
    js.write_bytes(js.read_bytes().replace(b"LTA002L9", b"LTA003L9", 1))
    doc = cli_json("baf", "verify", js, check=3)
    assert doc["status"] == "error" and doc["error"] == "CertificateInvalid" and doc["exit_code"] == 3
    assert doc["problems"][0].startswith("the content does not match its digest")
    assert "does NOT verify" in run("baf", "verify", js, check=3).stderr


def test_signed_by_another_key_exit_3(shared_lab: Lab, key: dict[str, Any], tmp_path: Path) -> None:
    other = cli_json("baf", "keygen", "-o", tmp_path / "other.key")
    js = tmp_path / "c.json"
    run("baf", shared_lab.card, "--catalog", shared_lab.catalog.path, "-o", js, "--sign-key", other["private_key"],
        check=0)
    doc = cli_json("baf", "verify", js, "--public-key", key["public_key"], check=3)
    assert doc["problems"][0].startswith("signed with another key")


def test_refusals_name_what_is_missing(shared_lab: Lab, tmp_path: Path) -> None:
    cat = shared_lab.catalog.path
    card = card_copy(shared_lab, tmp_path)
    out = tmp_path / "c.html"
    # three copies asked, two exist
    doc = cli_json("baf", card, "--catalog", cat, "-o", out, "--copies", "3", check=5)
    assert doc["error"] == "NotSafeToFormat" and doc["missing"] == 4 and doc["covered"] == 0
    assert all(m["reasons"][0].startswith("only 2 of 3 verified copies (LTA001L9 tape file 0 block ")
               for m in doc["missing_files"])
    # a file added since the copy
    make_file(card / "CLIPS" / "A001C009_260315_R1AB.mxf", b"new take")
    doc = cli_json("baf", card, "--catalog", cat, "-o", out, check=5)
    assert [(m["path"], m["reasons"]) for m in doc["missing_files"]] == [
        ("A001_C007/CLIPS/A001C009_260315_R1AB.mxf", ["no copy"])]
    # a clip edited since the copy: exit 3
    clip = card / "CLIPS" / "A001C008_260315_R1AB.mxf"
    clip.write_bytes(clip.read_bytes()[::-1])
    doc = cli_json("baf", card, "--catalog", cat, "-o", out, check=3)
    assert doc["error"] == "CardChangedSinceCopy"
    changed = {m["path"]: m for m in doc["missing_files"]}["A001_C007/CLIPS/A001C008_260315_R1AB.mxf"]
    assert changed["state"] == "changed" and "xxh128 differs" in changed["reasons"][0]
    err = run("baf", card, "--catalog", cat, "-o", out, check=3).stderr
    assert "error: NOT OK to format" in err and "A001C008_260315_R1AB.mxf: changed on the card since it was copied" \
        in err and "A001C009_260315_R1AB.mxf: no copy" in err
    assert not out.exists()                                     # nothing issued


def test_root_name_and_usage_errors(shared_lab: Lab, tmp_path: Path) -> None:
    cat = shared_lab.catalog.path
    other = tmp_path / "NO NAME"
    shutil.copytree(shared_lab.card, other, copy_function=shutil.copy2)
    doc = cli_json("baf", other, "--catalog", cat, "-o", tmp_path / "c.json", check=5)
    assert "see --root-name" in doc["missing_files"][0]["reasons"][0]
    cli_json("baf", other, "--catalog", cat, "-o", tmp_path / "c.json", "--root-name", "A001_C007")
    (tmp_path / "empty").mkdir()
    assert "holds no file" in cli_json("baf", tmp_path / "empty", "--catalog", cat, "-o", tmp_path / "e.json",
                                       check=2)["message"]
    assert "there is no catalog" in cli_json("baf", shared_lab.card, "--catalog", tmp_path / "none.sqlite", "-o",
                                             tmp_path / "n.json", check=2)["message"]
    assert "--format" in run("baf", shared_lab.card, "--catalog", cat, "-o", tmp_path / "c.txt", check=2).stderr
    run("baf", shared_lab.card, "--catalog", cat, "-o", tmp_path / "c.txt", "--format", "json", check=0)
    run("baf", shared_lab.card, "--catalog", cat, "-o", tmp_path / "d.json", "--copies", "0", check=2)
    run("baf", "keygen", "-o", tmp_path / "k.key", check=0)
    assert "never overwritten" in run("baf", "keygen", "-o", tmp_path / "k.key", check=2).stderr
    assert "not a PEM private key" in run("baf", shared_lab.card, "--catalog", cat, "-o", tmp_path / "s.json",
                                          "--sign-key", tmp_path / "k.pub", check=2).stderr
