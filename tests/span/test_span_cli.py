"""`write --span`, `span list|verify|restore` from the command line, over a virtual library and one drive."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from cli.main import cli
from tests.span.helpers import make_card
from tests.span.test_span_read import SIZES, _drive_script
from tests.tape_helpers import tree_snapshot


def _cli(*args: object, code: int = 0) -> dict:  # type: ignore[type-arg]
    res = CliRunner().invoke(cli, [str(a) for a in args] + ["--json"])
    assert res.exit_code == code, res.output
    doc = json.loads(res.stdout)
    return doc.get("result", doc) if doc.get("status") == "error" else doc   # a failed job: its result inside


def test_write_list_restore_verify_a_set(tmp_path: Path) -> None:
    card = make_card(tmp_path, SIZES)
    cat = tmp_path / "catalog.sqlite"
    lib = tmp_path / "lib"
    _cli("vlib", "create", lib, "--drives", "1", "--slots", "4", "--cartridges", "3", "--capacity", "8M")
    doc = _cli("write", card, "--device", f"vlib:{lib}", "--span", "--barcodes", "LTA*", "--block-size", "64K",
               "--log-dir", tmp_path / "logs", "--catalog", cat, "--no-progress", "--verify")
    assert doc["status"] == "ok" and doc["verify"]["status"] == "ok" and doc["verify"]["complete"]
    assert [c["barcode"] for c in doc["cartridges"]] == ["LTA001L9", "LTA002L9", "LTA003L9"]
    assert [p["number"] for c in doc["cartridges"] for p in c["parts"]] == [1, 2, 3]
    assert len(doc["log"]) == 6                     # each cartridge's copy log, JSON and text
    sets = _cli("span", "list", "--catalog", cat)["sets"]
    assert [v["cartridge"] for v in sets[0]["volumes"]] == ["LTA001L9", "LTA002L9", "LTA003L9"]
    out = tmp_path / "restore"
    got = _cli("span", "restore", out, "--library", f"vlib:{lib}", "--set", doc["set_id"][:8], "--catalog", cat,
               "--no-progress")
    assert got["status"] == "ok" and got["complete"]
    assert tree_snapshot(out / "card") == tree_snapshot(card)
    got = _cli("span", "verify", "--device", f"vlib:{lib}", "--cartridges", "LTA001L9,LTA002L9,LTA003L9",
               "--catalog", cat, "--no-progress")
    assert got["status"] == "ok"


def test_one_drive_and_a_command_that_gives_up(tmp_path: Path) -> None:
    card = make_card(tmp_path, SIZES)
    carts = [tmp_path / f"cart{i}" for i in (1, 2)]
    for i, c in enumerate(carts, 1):
        _cli("vtape", "create", c, "--capacity", "8M", "--barcode", f"ONE00{i}L9")
    os.symlink(carts[0], tmp_path / "drive")
    command = _drive_script(tmp_path, carts)       # two cartridges for a job that needs three
    res = CliRunner().invoke(cli, ["write", str(card), "--device", f"vtape:{tmp_path / 'drive'}", "--span",
                                   "--next-tape-command", command, "--verify", "--no-progress"])
    assert res.exit_code == 2 and "needs a library" in res.output      # refused before anything is written
    assert not (tmp_path / "calls").exists()
    doc = _cli("write", card, "--device", f"vtape:{tmp_path / 'drive'}", "--span", "--next-tape-command", command,
               "--block-size", "64K", "--log-dir", tmp_path / "logs", "--catalog", tmp_path / "c.sqlite",
               "--no-progress", code=4)
    assert doc["status"] == "failed" and doc["error"]["error"] == "NoNextCartridge"
    assert "exited 3" in doc["error"]["message"] and "ONE002L9" in doc["error"]["message"]
    assert [c["barcode"] for c in doc["cartridges"]] == ["ONE001L9", "ONE002L9"]
