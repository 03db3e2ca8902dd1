"""The seat terminal: a Python asyncio client library and (in static/) the tablet web UI."""

from .client import Client, ConnectionLost, ServerError

__all__ = ["Client", "ConnectionLost", "ServerError"]
