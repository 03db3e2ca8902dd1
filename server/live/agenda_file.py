"""Reading an agenda file: TOML in, a validated Agenda out, or every problem named."""

from __future__ import annotations

import tomllib
from pathlib import Path

from ..core.agenda import Agenda, agenda_from_dict
from ..core.errors import AgendaError


def load_agenda(path: str | Path) -> Agenda:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AgendaError(["file not found"], str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise AgendaError([f"not valid TOML: {exc}"], str(path)) from None
    return agenda_from_dict(data, source=str(path))
