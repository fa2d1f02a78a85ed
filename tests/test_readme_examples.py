"""The README's examples, run (issue 16): every `lto-archive ...` line of its code blocks, in order, as typed.

A new user copies the README's commands one after the other. This test does the same on virtual
cartridges: each example is taken from README.md as written (continuation lines joined, comments
dropped), only its absolute folders (/tapes, /media, /restore, /mnt, /srv) are moved under a temporary
folder, and it must exit 0 and print something sane. What the README's examples name but do not make
(the camera cards, the cartridges of the fan-out and AXF examples, the library, the config profile) is
made first. An example that needs hardware or software this machine may lack, or that is a placeholder,
is on SKIP with the reason; a test fails if an example is neither run nor skipped.

The examples in docs/*.md (the `$ lto-archive ...` lines of their code blocks, transcripts of real
runs) are each parsed by the command line: the command and every option they use must exist.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from lto_archive_cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
PLACES = ("/tapes/", "/media/", "/restore/", "/mnt/", "/srv/")
KINDS = ("vtape:", "vlib:", "")

# (a piece of the example, why it is not run here)
SKIP = [
    ("pip install", "installs packages into the running Python (the demo itself: tests/test_demo.py)"),
    ("ltfs-mount:", "needs a mounted LTFS volume: the LTFS software and a drive (tests/ltfs_mount/ run it)"),
    ("lto-archive bench", "a benchmark: minutes and gigabytes (tests/test_bench_demo.py runs a small one)"),
    ("<day>/<session>", "a placeholder: the copy log of a job whose tape filled up"),
]


def _json(out: str) -> bool:
    return isinstance(json.loads(out), dict)


# (a piece of the example, what its output must say)
SANE = [
    ("vtape create /tapes/ABC123", lambda out: "ABC123L9" in out and "vtape:" in out),
    ("info --device", lambda out: "barcode" in out and "ABC123L9" in out),
    ("write /media/A001_C007 /media/B001_C003", lambda out: "ok, 3 files proven by read-back" in out),
    ("--copy-to /mnt/shuttle/DAY_01", lambda out: out.count("proven by read-back") >= 2 and "shuttle" in out),
    ("catalog search", lambda out: "A001C007" in out and "LTA001L9" in out),
    ("--tape-file 0 --json", _json),
    ("verify --device vtape:/tapes/ABC123", lambda out: "verified" in out and "result: ok" in out),
    ("ls --device", lambda out: "A001C007_240101_R1AB.mov" in out),
    ("format --device", lambda out: "LTF001" in out),
    ("ltfs check", lambda out: out.rstrip().endswith("consistent") and "NOT" not in out),
    ("baf verify", lambda out: "valid" in out.lower() or "ok" in out.lower()),
]


def readme_examples(text: str) -> list[str]:
    """Every `lto-archive` command of the README's indented code blocks, continuation lines joined."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("    ") and "lto-archive " in line and not line.lstrip().startswith("$"):
            cmd = line.strip()
            while cmd.endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd[:-1].rstrip() + " " + lines[i].strip()
            out.append(cmd)
        i += 1
    return out


def doc_examples() -> list[tuple[str, str]]:
    """(document, command) for every `$ lto-archive ...` line in a fenced code block of docs/*.md."""
    out = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        fenced = False
        lines = doc.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines):
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            if fenced and line.lstrip().startswith("$ lto-archive "):
                cmd = line.lstrip()[2:].strip()
                k = n
                while cmd.endswith("\\") and k + 1 < len(lines):
                    k += 1
                    cmd = cmd[:-1].rstrip() + " " + lines[k].strip()
                out.append((f"{doc.name}:{n + 1}", cmd))
    return out


def skipped(cmd: str) -> str | None:
    return next((why for piece, why in SKIP if piece in cmd), None)


def moved(arg: str, root: Path) -> str:
    """`arg` with an absolute example folder moved under `root` (vtape:/tapes/X -> vtape:ROOT/tapes/X)."""
    for kind in KINDS:
        for place in PLACES:
            if arg.startswith(kind + place):
                return kind + str(root) + arg[len(kind):]
    return arg


def argv(cmd: str, root: Path) -> list[str]:
    words = shlex.split(cmd, comments=True)
    if "&&" in words:                                   # "... && lto-archive demo": the lto-archive part
        words = words[words.index("&&") + 1:]
    assert words[0] == "lto-archive", cmd
    return [moved(w, root) for w in words[1:]]


def make_cards(root: Path) -> None:
    """The camera cards and sound roll the README's examples name, small."""
    cards = {
        "A001_C007/CLIPS": ["A001C007_240101_R1AB.mov", "A001C008_240101_R1AB.mov"],
        "B001_C003/CLIPS": ["B001C003_240101_R2CD.mov"],
        "A001/CLIP": ["A001C007_240101_R1AB.mov", "A001C009_240101_R1AB.mov"],
        "DAY_01/A002/CLIP": ["A002C001_240101_R3EF.mov"],
        "SOUND_001": ["240101_T001.wav"],
    }
    for n, (folder, names) in enumerate(sorted(cards.items())):
        for k, name in enumerate(names):
            path = root / "media" / folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(bytes([n * 16 + k]) * (20_000 + 1000 * k))


def run(args: list[str]) -> click.testing.Result:
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def setup(root: Path) -> None:
    """What the examples use and do not make: cartridges, the library, the profile, the shuttle drive."""
    make_cards(root)
    (root / "mnt" / "shuttle" / "DAY_01").mkdir(parents=True)
    (root / "restore" / "here").mkdir(parents=True)
    for name in ("LTA001", "LTA002", "AXF001"):
        assert run(["vtape", "create", f"{root}/tapes/{name}", "--capacity", "1G",
                    "--barcode", f"{name}L9"]).exit_code == 0
    assert run(["vlib", "create", f"{root}/srv/vlib", "--drives", "1", "--slots", "4", "--cartridges", "3",
                "--capacity", "1G"]).exit_code == 0
    config = root / "config" / "lto-archive" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[profile.dayshoot]\noperator = "Jane DIT"\nhashes = "xxh128,md5"\n', encoding="utf-8")


def test_every_readme_example_is_run_or_skipped_for_a_reason() -> None:
    examples = readme_examples((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(examples) >= 30, examples
    for cmd in examples:
        assert skipped(cmd) or cmd.startswith("lto-archive "), cmd


def test_the_readme_walkthrough_runs_as_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("LTO_ARCHIVE_CATALOG", str(tmp_path / "home" / "catalog.sqlite"))
    monkeypatch.delenv("LTO_ARCHIVE_CONFIG", raising=False)
    setup(tmp_path)
    ran: list[str] = []
    set_id = None
    for cmd in readme_examples((ROOT / "README.md").read_text(encoding="utf-8")):
        if skipped(cmd):
            continue
        if set_id is not None:
            cmd = cmd.replace("--set 94e63afe", f"--set {set_id}")    # the set the example before wrote
        result = run(argv(cmd, tmp_path))
        assert result.exit_code == 0, (cmd, result.output)
        assert result.output.strip(), cmd
        assert "Traceback" not in result.output, (cmd, result.output)
        said = next((said for piece, said in SANE if piece in cmd), None)     # the first that fits
        assert said is None or said(result.output), (cmd, result.output)
        found = re.search(r"span set ([0-9a-f]{8})", result.output)
        set_id = found.group(1) if found and "--span" in cmd else set_id
        ran.append(cmd)
    assert len(ran) >= 28, ran
    restored = tmp_path / "restore" / "here"
    assert (restored / "A001_C007" / "CLIPS" / "A001C007_240101_R1AB.mov").read_bytes() == \
        (tmp_path / "media" / "A001_C007" / "CLIPS" / "A001C007_240101_R1AB.mov").read_bytes()
    assert (tmp_path / "restore" / "ltfs" / "A001_C007" / "CLIPS" / "A001C008_240101_R1AB.mov").is_file()
    if shutil.which("md5sum"):        # the README's "cd /restore/here && md5sum -c ...", as typed
        line = next(ln.strip() for ln in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
                    if ln.startswith("    cd ") and "md5sum -c" in ln)
        check = line.split("&&", 1)[1].split()
        done = subprocess.run(check, cwd=restored, capture_output=True, text=True)
        assert done.returncode == 0, (line, done.stdout, done.stderr)


@pytest.mark.parametrize(("where", "cmd"), doc_examples())
def test_every_docs_example_parses(where: str, cmd: str) -> None:
    """The command and every option a document's example uses exist (click parses it, runs nothing)."""
    args = shlex.split(cmd, comments=True)[1:]
    args = args[:args.index("|")] if "|" in args else args
    command: click.Command = cli
    ctx = None
    known = {"--help"}
    while True:
        known |= {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        try:
            ctx = command.make_context(command.name or "lto-archive", list(args), parent=ctx, resilient_parsing=True)
        except click.UsageError as exc:
            pytest.fail(f"{where}: {cmd}: {exc.format_message()}")
        if not isinstance(command, click.Group):
            break
        rest = ctx._protected_args + ctx.args if hasattr(ctx, "_protected_args") else ctx.protected_args + ctx.args
        if not rest:
            break
        name, sub, args = command.resolve_command(ctx, rest)
        assert sub is not None, f"{where}: {cmd}: no command {name!r}"
        command = sub
    words = args[:args.index("--")] if "--" in args else args
    unknown = [w for w in words if w.startswith("-") and w != "-" and not w[1:2].isdigit()
               and w.split("=", 1)[0] not in known]
    assert not unknown, f"{where}: {cmd}: {command.name} has no option {', '.join(unknown)}"
