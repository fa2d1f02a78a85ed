"""The structure of the code, measured from the source (issue 13, docs/architecture.md).

Nothing here imports the package: every figure comes from parsing the files with
`ast`, so a module that fails to import is still measured, and lazy imports inside
functions count like any other. The limits are the constants below; each failure
lists its offenders as file:line.

- the package graph (the packages and modules directly under lto_archive/) has no cycle;
- no module imports another module's `_private` name (a leading underscore, not a dunder),
  neither with `from X import _name` nor as `X._name` on an imported module;
- no module is longer than MAX_MODULE_LINES;
- at most MAX_LONG_FUNCTIONS functions are longer than MAX_FUNCTION_LINES;
- at most MAX_FORMAT_BRANCHES branches on a format's name outside lto_archive/formats/;
- every module directly under lto_archive/ has a place in the import-linter layers.

`lint-imports` (contracts in pyproject.toml) checks the layer order itself.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path



REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("lto_archive", "cli")       # the code measured (tests are not)
ROOT_PACKAGE = "lto_archive"            # whose package graph must be acyclic

MAX_CYCLES = 0
MAX_PRIVATE_IMPORTS = 0
MAX_MODULE_LINES = 600
MAX_LONG_MODULES = 0
MAX_FUNCTION_LINES = 80
MAX_LONG_FUNCTIONS = 0          # issue 13 asked for at most 5; there are none, keep it so
MAX_FORMAT_BRANCHES = 3

FORMAT_NAMES = frozenset({"tar", "cpio", "cpio-crc", "ltfs", "axf"})
FORMAT_PREDICATES = frozenset({"is_ltfs"})
FORMATS_DIR = ("lto_archive", "formats")   # where branching on a format's name belongs


@dataclass
class Module:
    """One source file: its dotted name, where it is, and its syntax tree."""

    name: str
    path: Path
    rel: str
    source: str
    tree: ast.Module
    is_package: bool

    def where(self, node: ast.AST) -> str:
        return f"{self.rel}:{getattr(node, 'lineno', 1)}"


@dataclass
class Source:
    """Every module of the measured packages under one repository root."""

    root: Path
    modules: dict[str, Module] = field(default_factory=dict)

    def resolve(self, mod: Module, node: ast.ImportFrom) -> str:
        """The absolute module name a `from ... import` statement reads from."""
        if node.level == 0:
            return node.module or ""
        base = mod.name.split(".")
        if not mod.is_package:
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def imports(self, mod: Module) -> Iterator[tuple[str, ast.AST]]:
        """(module imported, node) for every import of ours, at any depth of the tree.

        `from X import y` yields X.y when that is a module of ours, else X.
        """
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.Import):
                yield from ((alias.name, node) for alias in node.names if self.ours(alias.name))
        for node, target, alias in self.imported_names(mod):
            full = f"{target}.{alias.name}"
            yield (full if full in self.modules else target), node

    def imported_names(self, mod: Module) -> Iterator[tuple[ast.ImportFrom, str, ast.alias]]:
        """(statement, module read from, name) for every `from <one of ours> import name`."""
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.ImportFrom):
                target = self.resolve(mod, node)
                if self.ours(target):
                    yield from ((node, target, alias) for alias in node.names)

    def ours(self, name: str) -> bool:
        return name.split(".")[0] in PACKAGES


def load(root: Path = REPO) -> Source:
    src = Source(root)
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            text = path.read_text(encoding="utf-8")
            name = ".".join(parts)
            src.modules[name] = Module(name, path, path.relative_to(root).as_posix(), text,
                                       ast.parse(text, filename=str(path)), is_package)
    return src


@cache
def repo_source() -> Source:
    return load(REPO)


def by_place(entry: str) -> tuple[str, int]:
    """Sort key of "file:line..." entries: by file, then by line number."""
    path, line, *_ = entry.split(":", 2)
    return path, int(line)


# ---------------------------------------------------------------- package graph

def unit(name: str, root_package: str = ROOT_PACKAGE) -> str | None:
    """The package or module directly under the root that `name` belongs to.

    The root package itself is a node too: `from .. import __version__` in a submodule
    runs lto_archive/__init__.py, which imports the public API and so everything.
    """
    parts = name.split(".")
    if parts[0] != root_package:
        return None
    return ".".join(parts[:2])


def package_graph(src: Source) -> dict[str, dict[str, list[str]]]:
    """unit -> {unit it imports: [file:line of each import]} (self-imports left out)."""
    graph: dict[str, dict[str, list[str]]] = {}
    for mod in src.modules.values():
        here = unit(mod.name)
        if here is None:
            continue
        graph.setdefault(here, {})
        for target, node in src.imports(mod):
            there = unit(target)
            if there is not None and there != here:
                graph[here].setdefault(there, []).append(mod.where(node))
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def describe_cycles(graph: dict[str, dict[str, list[str]]], comps: list[list[str]]) -> str:
    """Each cycle, and every import that makes an edge of it (file:line)."""
    lines = []
    for comp in comps:
        lines.append("cycle: " + " <-> ".join(comp))
        for a in comp:
            for b in comp:
                if b in graph.get(a, {}):
                    where = sorted(set(graph[a][b]), key=by_place)
                    lines.append(f"  {a} -> {b}: " + ", ".join(where))
    return "\n".join(lines)


# ---------------------------------------------------------------- private names

def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_imports(src: Source) -> list[str]:
    """`from X import _name` and `X._name` where X is another module of ours."""
    found = []
    for mod in src.modules.values():
        module_names: dict[str, str] = {}     # local name -> our module it is bound to
        for node, target, alias in src.imported_names(mod):
            full = f"{target}.{alias.name}"
            if full in src.modules:
                module_names[alias.asname or alias.name] = full
            elif private(alias.name) and target != mod.name:
                found.append(f"{mod.where(node)}: from {target} import {alias.name}")
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if src.ours(alias.name) and alias.asname:
                        module_names[alias.asname] = alias.name
        for node in ast.walk(mod.tree):
            if (isinstance(node, ast.Attribute) and private(node.attr) and isinstance(node.value, ast.Name)
                    and module_names.get(node.value.id, mod.name) != mod.name):
                found.append(f"{mod.where(node)}: {module_names[node.value.id]}.{node.attr}")
    return sorted(found, key=by_place)


# ---------------------------------------------------------------- sizes

def long_modules(src: Source, limit: int = MAX_MODULE_LINES) -> list[str]:
    found = []
    for mod in src.modules.values():
        n = len(mod.source.splitlines())
        if n > limit:
            found.append(f"{mod.rel}:1: {n} lines")
    return sorted(found, key=by_place)


def long_functions(src: Source, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    found = []
    for mod in src.modules.values():
        for node in ast.walk(mod.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > limit:
                    found.append(f"{mod.where(node)}: {node.name}() {n} lines")
    return sorted(found, key=by_place)


# ---------------------------------------------------------------- format branches

def format_constants(src: Source) -> dict[str, set[str]]:
    """Per module, the names bound to a format's name: its own (LTFS = "ltfs") and imported ones."""
    own: dict[str, set[str]] = {}
    for mod in src.modules.values():
        own[mod.name] = set()
        for node in mod.tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and node.value.value in FORMAT_NAMES):
                own[mod.name].update(t.id for t in node.targets if isinstance(t, ast.Name))
    names = {m: set(n) for m, n in own.items()}
    for mod in src.modules.values():
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.ImportFrom):
                bound = own.get(src.resolve(mod, node), set())
                names[mod.name].update(a.asname or a.name for a in node.names if a.name in bound)
    return names


def names_a_format(node: ast.AST, constants: set[str]) -> bool:
    """A format's name as a string, a constant bound to one, or a collection holding one."""
    if isinstance(node, ast.Constant):
        return node.value in FORMAT_NAMES
    if isinstance(node, ast.Name):
        return node.id in constants
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(names_a_format(e, constants) for e in node.elts)
    return False


def format_branches(src: Source) -> list[str]:
    """Comparisons with a format's name, `case "ltfs":` and is_ltfs() calls outside formats/."""
    constants = format_constants(src)
    found: dict[str, str] = {}      # file:line -> the first branch on it (`a == "x" or b == "x"` is one)
    for mod in src.modules.values():
        if Path(mod.rel).parts[: len(FORMATS_DIR)] == FORMATS_DIR:
            continue
        known = constants[mod.name]
        for node in ast.walk(mod.tree):
            what = None
            if isinstance(node, ast.Compare):
                if any(names_a_format(x, known) for x in [node.left, *node.comparators]):
                    what = ast.unparse(node)
            elif isinstance(node, ast.MatchValue) and names_a_format(node.value, known):
                what = f"case {ast.unparse(node.value)}"
            elif isinstance(node, ast.Call):
                fn = node.func
                called = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
                if called in FORMAT_PREDICATES:
                    what = ast.unparse(node)
            if what is not None:
                found.setdefault(mod.where(node), what[:100])
    return sorted((f"{where}: {what}" for where, what in found.items()), key=by_place)




# ---------------------------------------------------------------- layers

def layer_members(pyproject: Path) -> set[str]:
    """Every module named in pyproject.toml's import-linter `layers` contracts."""
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    names = set()
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["type"] != "layers":
            continue
        for layer in contract["layers"]:
            for item in layer.replace("|", ":").split(":"):
                names.add(item.strip().strip("()").strip())
    return names


# ---------------------------------------------------------------- the figures


def report(title: str, offenders: list[str], limit: int) -> str:
    return f"{title}: {len(offenders)} (at most {limit}):\n  " + "\n  ".join(offenders)


def test_the_package_graph_has_no_cycle():
    graph = package_graph(repo_source())
    comps = cycles(graph)
    assert len(comps) <= MAX_CYCLES, describe_cycles(graph, comps)


def test_no_module_imports_another_modules_private_names():
    found = private_imports(repo_source())
    assert len(found) <= MAX_PRIVATE_IMPORTS, report("private imports", found, MAX_PRIVATE_IMPORTS)


def test_no_module_is_too_long():
    found = long_modules(repo_source())
    assert len(found) <= MAX_LONG_MODULES, report(f"modules over {MAX_MODULE_LINES} lines", found,
                                                  MAX_LONG_MODULES)


def test_few_functions_are_too_long():
    found = long_functions(repo_source())
    assert len(found) <= MAX_LONG_FUNCTIONS, report(f"functions over {MAX_FUNCTION_LINES} lines", found,
                                                    MAX_LONG_FUNCTIONS)


def test_few_branches_on_a_formats_name_outside_formats():
    found = format_branches(repo_source())
    assert len(found) <= MAX_FORMAT_BRANCHES, report("branches on a format's name outside formats/", found,
                                                     MAX_FORMAT_BRANCHES)


def test_every_top_level_module_has_a_layer():
    src = repo_source()
    tops = {unit(name) for name in src.modules} - {ROOT_PACKAGE, None}
    placed = layer_members(REPO / "pyproject.toml")
    missing = sorted(t for t in tops if t not in placed)
    assert not missing, ("modules with no place in [tool.importlinter] layers (pyproject.toml, "
                         f"docs/architecture.md): {missing}")


# ---------------------------------------------------------------- the measures can fail

def unmapped_modules(root: Path = REPO) -> list[str]:
    """Modules of lto_archive/ and cli/ that docs/architecture.md's module map does not name."""
    text = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    mapped = text[text.index("## Module map"):text.index("## Where to add")]
    sections: dict[str, set[str]] = {}
    folder = ""
    for line in mapped.splitlines():
        if line.startswith("### "):
            folder = line[4:].strip().rstrip("/")
            sections[folder] = set()
        elif line.startswith("- `") and folder:
            sections[folder].add(line[3:line.index("`", 3)])
    missing = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root)
            if path.name == "__init__.py" and not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))):
                continue
            if path.name not in sections.get(str(rel.parent), set()):
                missing.append(str(rel))
    return missing


def test_every_module_is_in_the_module_map():
    missing = unmapped_modules()
    assert not missing, "docs/architecture.md's module map does not name: " + ", ".join(missing)


def _write(root: Path, files: dict[str, str]) -> Source:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "cli").mkdir(exist_ok=True)
    return load(root)


def test_the_measures_find_what_they_look_for(tmp_path):
    src = _write(tmp_path, {
        "lto_archive/__init__.py": "from .api import write\n",
        "lto_archive/api.py": "from .jobs import run as write\n",
        "lto_archive/jobs/__init__.py": "def run():\n    from .. import __version__\n",
        "lto_archive/jobs/w.py": "from . import r\nx = r._peek\n",
        "lto_archive/jobs/r.py": "from ..tape import _Handle\nfrom ..span import LTFS as L\n_peek = 1\nok = _peek == L\n",
        "lto_archive/tape/__init__.py": "def f():\n    from lto_archive.library import x\n",
        "lto_archive/library/__init__.py": "from ..tape import f\nFORMAT = 'vlib/1'\nx = f() != FORMAT\n",
        "lto_archive/formats/tar.py": "def g(n):\n    return n == 'tar'\n",
        "lto_archive/span.py": ("LTFS = 'ltfs'\ndef h(f, d):\n    if f.name in ('tar', 'cpio'):\n"
                                "        return is_ltfs(d)\n    return f == LTFS\n" + "\n" * 700),
        "cli/main.py": "def c(fmt):\n" + "    x = 1\n" * 85 + "    return fmt != 'axf'\n",
    })
    comps = cycles(package_graph(src))
    assert sorted(comps) == [["lto_archive", "lto_archive.api", "lto_archive.jobs"],
                             ["lto_archive.library", "lto_archive.tape"]]
    assert private_imports(src) == ["lto_archive/jobs/r.py:1: from lto_archive.tape import _Handle",
                                    "lto_archive/jobs/w.py:2: lto_archive.jobs.r._peek"]
    assert long_modules(src) == ["lto_archive/span.py:1: 705 lines"]
    assert long_functions(src) == ["cli/main.py:1: c() 87 lines"]
    assert [f.split(":")[:2] for f in format_branches(src)] == [
        ["cli/main.py", "87"], ["lto_archive/jobs/r.py", "4"], ["lto_archive/span.py", "3"], ["lto_archive/span.py", "4"],
        ["lto_archive/span.py", "5"]]


def test_the_measures_pass_clean_code(tmp_path):
    src = _write(tmp_path, {
        "lto_archive/__init__.py": "from .api import write\n",
        "lto_archive/api.py": "from .jobs.w import write\n",
        "lto_archive/jobs/__init__.py": "",
        "lto_archive/jobs/w.py": "from ..version import __version__\nfrom .r import peek\n_own = 1\n"
                                 "def write(fmt):\n    return fmt.writer(_own, peek)\n",
        "lto_archive/jobs/r.py": "peek = 1\n",
        "lto_archive/version.py": "__version__ = '0.1.0'\n",
    })
    assert cycles(package_graph(src)) == []
    assert private_imports(src) == []
    assert long_modules(src) == [] and long_functions(src) == [] and format_branches(src) == []
