"""Errors a command can end in: a stable machine code and a human message.

The code is part of the protocol (docs/protocol.md); the message is English for logs,
and user interfaces translate the code through their message catalogues.
"""

from __future__ import annotations


class CommandError(Exception):
    """A command was refused; nothing changed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class AgendaError(Exception):
    """An agenda definition is invalid; carries every problem found, each with its key path."""

    def __init__(self, problems: list[str], source: str = "agenda") -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(f"{source}: {p}" for p in problems))
