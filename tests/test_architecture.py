"""The import rules of DESIGN.md, enforced.

- Core modules (all of ``sipstack`` and ``media`` except their ``transport``
  packages) import no ``asyncio``, ``socket``, ``ssl``, ``time``, ``random``.
- ``sipstack`` and ``media`` never import each other.
- Nothing imports ``softswitch`` (apart from itself, the tests, and the
  benchmarks, which measure the application's own parts).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = {"asyncio", "socket", "ssl", "time", "random", "uvloop", "selectors"}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _top(names: set[str]) -> set[str]:
    return {name.split(".", 1)[0] for name in names}


def _is_core(path: Path, package: str) -> bool:
    return "transport" not in path.relative_to(ROOT / package).parts


@pytest.mark.parametrize("package", ["sipstack", "media"])
def test_core_modules_do_no_io(package: str) -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(_top(_imports(p)) & FORBIDDEN_IN_CORE)
        for p in _modules(package)
        if _is_core(p, package) and _top(_imports(p)) & FORBIDDEN_IN_CORE
    }
    assert offenders == {}


@pytest.mark.parametrize(("package", "other"), [("sipstack", "media"), ("media", "sipstack")])
def test_sipstack_and_media_are_independent(package: str, other: str) -> None:
    offenders = [str(p.relative_to(ROOT)) for p in _modules(package)
                 if other in _top(_imports(p))]
    assert offenders == []


def test_nothing_imports_softswitch() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for package in ("sipstack", "media")
        for p in _modules(package)
        if "softswitch" in _top(_imports(p))
    ]
    assert offenders == []


def test_the_rule_checker_sees_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import asyncio\nfrom time import monotonic\nfrom . import x\n")
    assert _top(_imports(probe)) == {"asyncio", "time"}


def test_test_modules_have_unique_basenames() -> None:
    """tests/ has no packages, so two test modules with one basename break the
    collection of the whole suite."""
    names = [p.name for p in (ROOT / "tests").rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
