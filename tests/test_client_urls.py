"""Several server URLs (a leader and its standbys, docs/operations.md "Hot standby"): the
Python client tries the next at each reconnection, and the keypad bridge hands it them all."""

from __future__ import annotations

from pathlib import Path

from device_drivers.bridge import Bridge
from device_drivers.bridge_config import config_from_dict
from terminal_client.client import Client
from tests.standby_support import free_port
from tests.support import make_agenda, serving


async def test_the_client_moves_past_a_server_that_does_not_answer(tmp_path: Path) -> None:
    dead = f"ws://127.0.0.1:{free_port()}/ws"  # nothing listens there: the machine that died
    async with serving(tmp_path, make_agenda(3)) as srv:
        client = Client([dead, srv.url], srv.creds["clerk"]["token"], backoff=(0.01, 0.1))
        welcome = await client.connect()
        assert welcome["type"] == "welcome"
        assert client.url == srv.url
        await client.close()


def test_the_bridge_takes_repeated_and_comma_separated_servers() -> None:
    line = {"name": "L1", "url": "/dev/null"}
    config = config_from_dict({"token": "t", "server": "ws://a/ws, ws://b/ws", "lines": [line]})
    assert Bridge(config).servers == ["ws://a/ws", "ws://b/ws"]
    assert Bridge(config, ["ws://c/ws", "ws://d/ws,ws://e/ws"]).servers == ["ws://c/ws", "ws://d/ws", "ws://e/ws"]
    assert Bridge(config, "ws://f/ws").servers == ["ws://f/ws"]
