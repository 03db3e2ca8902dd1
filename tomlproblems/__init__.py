"""Saying what is wrong in a TOML file the way its author reads it.

Checkers (the agenda's in server/core, the keypad bridge's in device_drivers) report
problems as ``"items[0].ballots[0].coutdown: unknown key (countdown?)"``: a key path with
0-based indices, and an English message. ``explain`` turns each into what the clerk or the
installer reads: the line in the file where that key (or its nearest table) is, indices
counted from 1, the message in the meeting's language (``messages/<language>.json``: patterns
with their translation; a message no pattern covers stays in English rather than vanish).

A leaf package: standard library only, imported by server and device_drivers alike.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from importlib import resources

__all__ = ["explain", "locate", "nearest"]

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\" ]+?)\s*=")


def nearest(key: str, known: Iterable[str]) -> str | None:
    """The known key a mistyped one most likely meant ("coutdown" -> "countdown"), if any."""
    found = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.7)
    return found[0] if found else None


def _parts(path: str) -> list[str | int]:
    return [int(index) if index else name.strip() for name, index in _TOKEN.findall(path)]


def _dotted(text: str) -> list[str]:
    return [part.strip().strip('"') for part in text.split(".")]


def _index(text: str) -> dict[tuple[str | int, ...], int]:
    """Key path -> line number (from 1) of where it is defined in TOML ``text``.

    Covers what agenda and keypad files use: tables, arrays of tables, keys and dotted keys.
    A key inside an inline table or a multi-line value maps to the line that opens it."""
    where: dict[tuple[str | int, ...], int] = {}
    counts: dict[tuple[str | int, ...], int] = {}
    current: tuple[str | int, ...] = ()
    in_multiline = False
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                in_multiline = False
            continue
        header = _HEADER.match(line)
        if header:
            names = _dotted(header.group(2))
            resolved: list[str | int] = []
            for name in names[:-1]:  # a parent array of tables means its latest element
                resolved.append(name)
                latest = counts.get(tuple(resolved))
                if latest is not None:
                    resolved.append(latest - 1)
            resolved.append(names[-1])
            if header.group(1) == "[[":
                array = tuple(resolved)
                counts[array] = counts.get(array, 0) + 1
                where.setdefault(array, number)
                resolved.append(counts[array] - 1)
            current = tuple(resolved)
            where.setdefault(current, number)
            continue
        key = _KEY.match(line)
        if key:
            where.setdefault((*current, *_dotted(key.group(1))), number)
            if line.count('"""') == 1 or line.count("'''") == 1:
                in_multiline = True
    return where


def locate(text: str, path: str) -> int | None:
    """The line (from 1) where ``path`` — or the nearest enclosing table — is defined."""
    where = _index(text)
    parts = tuple(_parts(path))
    while parts:
        if parts in where:
            return where[parts]
        parts = parts[:-1]
    return None


def _catalogue(language: str) -> dict[str, object]:
    name = "zh-CN" if language.lower().startswith("zh") else "en"
    text = resources.files(__package__).joinpath("messages", f"{name}.json").read_text(encoding="utf-8")
    data: dict[str, object] = json.loads(text)
    return data


def _shown_path(path: str) -> str:
    """0-based indices as people count: items[0].ballots[2] -> items[1].ballots[3]."""
    return re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + 1}]", path)


def _translate(message: str, patterns: list[list[str]]) -> str:
    for pattern, template in patterns:
        match = re.fullmatch(pattern, message)
        if match:
            return template.format(*match.groups())
    return message


def explain(problems: Iterable[str], text: str | None, language: str) -> list[str]:
    """Each problem as its reader should see it: line, path counted from 1, their language."""
    catalogue = _catalogue(language)
    patterns = catalogue["patterns"]
    assert isinstance(patterns, list)
    where = _index(text) if text else {}
    out = []
    for problem in problems:
        path, sep, message = problem.partition(": ")
        if not sep:
            path, message = "", problem
        line = None
        parts = tuple(_parts(path))
        while parts and line is None:
            line = where.get(parts)
            parts = parts[:-1]
        said = _translate(message, patterns)
        shown = _shown_path(path)
        prefix = str(catalogue["line"]).format(line) if line else ""
        out.append(f"{prefix}{shown}: {said}" if shown else f"{prefix}{said}")
    return out


def heading(language: str, what: str) -> str:
    """The first line: "<what> cannot be used (lines and items counted from 1):"."""
    template = _catalogue(language)["heading"]
    assert isinstance(template, dict)
    return str(template[what])
