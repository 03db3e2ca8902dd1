"""pytest fixtures; the helpers themselves live in tests/support.py."""

from tests.support import live  # noqa: F401
