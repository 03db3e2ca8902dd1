"""Reading an agenda file: TOML in, a validated Agenda out, or every problem named."""

from __future__ import annotations

import tomllib
from pathlib import Path

import tomlproblems

from ..core.agenda import Agenda, agenda_from_dict
from ..core.errors import AgendaError


def explain(path: str | Path, exc: AgendaError) -> str:
    """What the clerk reads when the agenda is refused: in the meeting's language (when the
    file says which), each problem with its line and with items counted from 1."""
    try:
        text: str | None = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    language = "en"
    try:
        meeting = tomllib.loads(text or "").get("meeting")
        if isinstance(meeting, dict) and isinstance(meeting.get("language"), str):
            language = meeting["language"]
    except tomllib.TOMLDecodeError:
        pass
    lines = [f"  {line}" for line in tomlproblems.explain(exc.problems, text, language)]
    return "\n".join([f"{path}", tomlproblems.heading(language, "agenda"), *lines])


def load_agenda(path: str | Path) -> Agenda:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AgendaError(["file not found"], str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise AgendaError([f"not valid TOML: {exc}"], str(path)) from None
    return agenda_from_dict(data, source=str(path))
