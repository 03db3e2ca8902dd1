"""Every error code the server can send is listed in docs/protocol.md, so the list cannot rot.

The codes are found in the source by its syntax tree: the first text argument of each
``CommandError``, ``DocumentError`` and ``_error`` call, the ``"error"`` of each JSON
answer, each text assigned to a variable named ``code``, the keys of a table of
``messages`` (or ``REFUSALS``) by code, and the document library's ``CODES``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from server.documents.errors import CODES
from tests.fuzzing import documented_codes

SERVER = Path(__file__).resolve().parents[1] / "server"
RAISERS = {"CommandError", "DocumentError", "_error", "_refuse"}


def _texts(node: ast.AST) -> list[str]:
    """The string constants a value may be: ``"a"``, or ``"a" if … else "b"``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _texts(node.body) + _texts(node.orelse)
    return []


def codes_in_source() -> dict[str, str]:
    """code -> where it was found (file:line)."""
    found: dict[str, str] = {}
    for path in sorted(SERVER.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            texts: list[str] = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in RAISERS:
                    args = [a for a in node.args if not (isinstance(a, ast.Constant) and isinstance(a.value, int))]
                    texts = _texts(args[0]) if args else []
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value == "error":
                        texts += _texts(value)
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "code" for t in node.targets):
                texts = _texts(node.value)
            elif (
                isinstance(node, ast.Assign)
                and any(getattr(t, "id", "") in ("messages", "REFUSALS") for t in node.targets)
                and isinstance(node.value, ast.Dict)
            ):
                texts = [t for k in node.value.keys if k is not None for t in _texts(k)]
            for text in texts:
                if text.isidentifier() and text.islower():
                    found.setdefault(text, f"{path.relative_to(SERVER.parent)}:{node.lineno}")
    for code in CODES:
        found.setdefault(code, "server/documents/errors.py")
    return found


def test_the_scan_finds_the_codes_it_is_meant_to_find() -> None:
    found = codes_in_source()
    for code in ("write_in_not_allowed", "ballot_closed", "ballot_not_open", "internal", "bad_width", "code_used"):
        assert code in found, code


def test_every_error_code_the_server_sends_is_documented() -> None:
    documented = documented_codes("### On the WebSocket") | documented_codes("### Over HTTP")
    missing = {code: where for code, where in codes_in_source().items() if code not in documented}
    assert missing == {}, f"add these codes to docs/protocol.md, ## Errors: {missing}"


def test_the_error_tables_are_sorted_so_merges_stay_easy() -> None:
    text = (SERVER.parent / "docs" / "protocol.md").read_text(encoding="utf-8")
    for table in ("### On the WebSocket", "### Over HTTP"):
        section = text[text.index(table) :]
        section = section[: section.index("\n#", 1)]
        firsts = [line.split("`")[1] for line in section.splitlines() if line.startswith("| `")]
        assert firsts == sorted(firsts), table
