"""The house's walls: which package may import which, and tables that cover every type.

Read from the source (every ``import`` and ``from … import`` of every module), not from
what happens to be loaded, so an import inside a function counts too.
"""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

import pytest

from server.core import commands as c
from server.core import documents as core_documents
from server.core import events as e
from server.core.ballot_state import LIFECYCLE, Status
from server.core.meeting import APPLY, DECIDE

ROOT = Path(__file__).resolve().parents[1]


def imports_of(package: str) -> dict[str, set[str]]:
    """module path -> the absolute module names it imports (relative imports resolved)."""
    out: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        pkg = parts if rel.name == "__init__" else parts[:-1]
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg[: len(pkg) - (node.level - 1)]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                    names.add(module)
                    if node.module is None:  # from . import x: x is a module of the package
                        names.update(f"{module}.{alias.name}" for alias in node.names)
                else:
                    names.add(node.module or "")
        out[str(path.relative_to(ROOT))] = names
    return out


def test_the_core_imports_only_the_standard_library_and_itself() -> None:
    stdlib = sys.stdlib_module_names
    offenders = {
        module: sorted(n for n in names if n.split(".")[0] not in stdlib and not n.startswith("server.core"))
        for module, names in imports_of("server/core").items()
    }
    assert {m: bad for m, bad in offenders.items() if bad} == {}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("device_drivers", ("server",)),
        ("terminal_client", ("server",)),
        ("server", ("simulators", "device_drivers", "hemicycle")),
        ("tomlproblems", ("server", "device_drivers", "terminal_client", "simulators", "hemicycle")),
    ],
)
def test_packages_stand_alone(package: str, forbidden: tuple[str, ...]) -> None:
    offenders = {
        module: sorted(n for n in names if n.split(".")[0] in forbidden)
        for module, names in imports_of(package).items()
    }
    assert {m: bad for m, bad in offenders.items() if bad} == {}


def test_the_layer_check_sees_a_forbidden_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself can fail: a module importing the server is caught."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("def f():\n    from server.core import events\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert imports_of("pkg") == {"pkg/mod.py": {"server.core"}}


def _subclasses(module: object, base: type) -> set[type]:
    return {
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, base) and obj is not base and obj.__module__ == module.__name__  # type: ignore[attr-defined]
    }


def test_every_command_has_a_rule_and_every_event_a_fold() -> None:
    assert set(DECIDE) == _subclasses(c, c.Command)
    assert set(APPLY) == _subclasses(e, e.Event) == set(e.EVENT_TYPES.values())
    assert set(core_documents._DECIDE) == set(c.DOCUMENT_COMMANDS)
    assert set(core_documents._APPLY) == set(e.DOCUMENT_EVENTS)


def test_the_lifecycle_table_reaches_every_status_and_leaves_only_from_known_ones() -> None:
    targets = {t.target for t in LIFECYCLE.values()}
    sources = set().union(*(t.sources for t in LIFECYCLE.values()))
    assert targets | {Status.DRAFT} == set(Status)
    assert sources <= set(Status)
