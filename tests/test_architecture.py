"""The import contract of the three layers, read from the source (no import is executed).

1. The pure domain, :mod:`buurtmonitor` (except its ``__main__`` entry point), imports neither
   Streamlit, nor :mod:`loaders`, nor :mod:`app`, nor a network or database client.
2. The I/O layer, :mod:`loaders`, imports neither Streamlit nor :mod:`app`.
3. The application layer (:mod:`app`, ``pages/``, ``dashboard.py``) may use both.

Everywhere: a project module is imported at the top of a module, never inside a function
(an import inside a function is how a cycle hides), and no module edits ``sys.path``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("buurtmonitor", "loaders", "app")
#: what each layer may not import (a module or any of its submodules)
FORBIDDEN = {
    "domain": ("streamlit", "loaders", "app", "requests", "urllib3", "cbsodata", "urllib.request",
               "http.client", "socket", "sqlite3", "psycopg"),
    "io": ("streamlit", "app"),
    "app": (),
}


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.what}"


def layer_of(module: str) -> str:
    if module == "buurtmonitor.__main__":
        return "app"          # the entry point of ``python -m buurtmonitor`` starts the CLI
    if module.split(".")[0] == "buurtmonitor":
        return "domain"
    if module.split(".")[0] == "loaders":
        return "io"
    return "app"


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        keep = len(parts) - node.level + (1 if is_package else 0)
        base = ".".join(parts[:keep] + ([base] if base else []))
    return [base] + [f"{base}.{a.name}" for a in node.names]


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def check_source(module: str, source: str, *, is_package: bool = False) -> list[Violation]:
    """The contract violations in ``source`` of ``module`` (a dotted name)."""
    tree = ast.parse(source)
    layer = layer_of(module)
    found: list[Violation] = []
    function_lines: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    function_lines.add(node.lineno)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = _imported(node, module, is_package)
            for bad in FORBIDDEN[layer]:
                if any(_matches(n, bad) for n in names):
                    found.append(Violation(module, node.lineno, f"{layer} imports {bad}"))
                    break
            if node.lineno in function_lines and any(n.split(".")[0] in PROJECT for n in names):
                found.append(Violation(module, node.lineno, f"import of {names[0]} inside a function"))
        elif isinstance(node, ast.Attribute) and node.attr == "path" and isinstance(node.value, ast.Name) \
                and node.value.id == "sys" and isinstance(getattr(node, "ctx", None), ast.Load):
            found.append(Violation(module, node.lineno, "uses sys.path"))
    return found


def project_modules() -> list[tuple[str, Path]]:
    out = []
    for pkg in PROJECT:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.append((".".join(parts), path))
    for path in sorted((ROOT / "pages").glob("*.py")):
        out.append((f"pages.{path.stem}", path))
    out.append(("dashboard", ROOT / "dashboard.py"))
    return out


def all_violations() -> list[Violation]:
    found = []
    for module, path in project_modules():
        found += check_source(module, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py")
    return found


# ---------------------------------------------------------------------------- the contract
@pytest.mark.slow
def test_the_code_keeps_the_import_contract():
    violations = all_violations()
    assert not violations, "\n".join(map(str, violations))


@pytest.mark.slow
def test_no_module_anywhere_edits_sys_path():
    """Also tests, bench and devtools: the project is installed (editable) instead."""
    hits = []
    for path in sorted(ROOT.rglob("*.py")):
        if {".venv", ".git", "node_modules"} & set(path.parts) or ".work" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if "sys.path" in text and path != Path(__file__).resolve():
            hits.append(str(path.relative_to(ROOT)))
    assert not hits, hits


def test_every_layer_is_seen():
    layers = {layer_of(m) for m, _ in project_modules()}
    assert layers == {"domain", "io", "app"}
    assert len(project_modules()) > 40


# ---------------------------------------------------------------------------- the checker
@pytest.mark.parametrize("module, source, expected", [
    ("buurtmonitor.maps.choropleth", "import streamlit as st\n", "domain imports streamlit"),
    ("buurtmonitor.analysis", "from loaders import repository\n", "domain imports loaders"),
    ("buurtmonitor.analysis", "from loaders.cache import ParquetStore\n", "domain imports loaders"),
    ("buurtmonitor.geo", "import requests\n", "domain imports requests"),
    ("buurtmonitor.charts", "from app import ui\n", "domain imports app"),
    ("loaders.cbs", "import streamlit\n", "io imports streamlit"),
    ("loaders.cbs", "from app.ui import load_table\n", "io imports app"),
    ("app.ui", "def f():\n    from loaders import repository\n", "import of loaders inside a function"),
    ("buurtmonitor.maps.national", "def f():\n    from buurtmonitor import geo\n",
     "import of buurtmonitor inside a function"),
    ("buurtmonitor.model", "import sys\nsys.path.insert(0, 'x')\n", "uses sys.path"),
])
def test_the_checker_catches_a_violation(module, source, expected):
    """A temporary violation, made here and not in the code: the contract test would fail."""
    found = check_source(module, source)
    assert expected in [v.what for v in found], found


@pytest.mark.parametrize("module, source", [
    ("app.ui", "import streamlit as st\nfrom loaders import repository\n"),
    ("loaders.repository", "from buurtmonitor.model import AreaTable\nimport requests\n"),
    ("buurtmonitor.exports.static", "def f():\n    import kaleido\n"),   # a heavy library, lazily
    ("buurtmonitor.__main__", "from app.cli import main\n"),
    ("buurtmonitor.maps", "from . import geometry\n"),
])
def test_the_checker_allows_what_the_layers_may_do(module, source):
    assert check_source(module, source, is_package=module == "buurtmonitor.maps") == []


def test_relative_imports_are_resolved():
    found = check_source("buurtmonitor.maps.canvas", "from ...loaders import cache\n")
    assert [v.what for v in found] == ["domain imports loaders"]
