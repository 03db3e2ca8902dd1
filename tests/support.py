"""Test helpers: agendas built in code, and a real uvicorn server on an ephemeral port."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from server.assemble import Assembly, ServerConfig
from server.core.agenda import Agenda, agenda_from_dict

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
GIVEN = "建国秀英志强海燕丽华明辉晓红国庆玉兰德胜淑芬永刚春梅伟东桂英文杰雪梅立新"


def member_list(n: int, *, observers: int = 0) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(2 * i) % len(GIVEN)] + GIVEN[(2 * i + 1) % len(GIVEN)]
        out.append({"id": f"m{i + 1:02d}", "name": name, "seat": f"S{i + 1:03d}"})
    for j in range(observers):
        out.append({"id": f"o{j + 1}", "name": f"列席{j + 1}", "seat": f"O{j + 1:02d}", "role": "observer"})
    return out


def agenda_data(
    n: int = 41, *, ballots: list[dict[str, Any]] | None = None, language: str = "zh-CN", observers: int = 0
) -> dict[str, Any]:
    ballots = (
        ballots
        if ballots is not None
        else [
            {"id": "reg1", "title": "物业管理条例（草案）"},
            {"id": "reg2", "title": "生态环境保护条例（草案）"},
            {"id": "secret1", "title": "无记名表决", "secret": True, "live_counts": False},
        ]
    )
    return {
        "meeting": {
            "title": "常委会第二十三次会议",
            "body": "某市人大常委会",
            "language": language,
            "date": "2026-11-25",
            "rule": "majority_of_all",
        },
        "members": member_list(n, observers=observers),
        "items": [{"id": "item1", "title": "审议条例草案", "ballots": ballots}],
    }


def make_agenda(n: int = 41, **kw: Any) -> Agenda:
    return agenda_from_dict(agenda_data(n, **kw))


def free_socket(port: int = 0) -> socket.socket:
    """A loopback socket on ``port`` (0: an ephemeral one), reusable right after a stop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


@dataclass
class LiveServer:
    url: str
    http: str
    creds: dict[str, Any]
    db: str
    app: Any
    server: uvicorn.Server
    task: asyncio.Task

    def seat_token(self, seat: str) -> str:
        return self.creds["seats"][seat]["token"]

    @property
    def assembly(self) -> Any:
        return self.app.state.assembly

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 15)


async def start_server(
    tmp: Path,
    agenda: Agenda,
    *,
    db: str | None = None,
    port: int = 0,
    graceful_shutdown: float | None = None,
    tls: tuple[Path, Path] | None = None,
    **config: Any,
) -> LiveServer:
    """A real uvicorn server as `hemicycle serve` configures it, on ``port`` (0: ephemeral;
    a fixed one lets a test restart the server in place on the same database)."""
    db = db or str(tmp / "sitting.db")
    cfg = ServerConfig(agenda=agenda, db_url=db, credentials_path=tmp / "credentials.json", data_dir=tmp, **config)
    assembly = Assembly(cfg)
    app = assembly.app()
    sock = free_socket(port)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        assembly.uvicorn_config(
            app,
            log_level="warning",
            timeout_graceful_shutdown=graceful_shutdown,
            ssl_certfile=str(tls[0]) if tls else None,
            ssl_keyfile=str(tls[1]) if tls else None,
        )
    )
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    for _ in range(1000):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    creds = json.loads((tmp / "credentials.json").read_text())
    ws, http = ("wss", "https") if tls else ("ws", "http")
    return LiveServer(f"{ws}://127.0.0.1:{port}/ws", f"{http}://127.0.0.1:{port}", creds, db, app, server, task)


@contextlib.asynccontextmanager
async def serving(tmp: Path, agenda: Agenda, **config: Any) -> AsyncIterator[LiveServer]:
    """A live server for the block, stopped after it whatever happens."""
    srv = await start_server(tmp, agenda, **config)
    try:
        yield srv
    finally:
        await srv.stop()


def bearer(token: str) -> dict[str, str]:
    """The HTTP headers that present ``token`` to the API."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveServer]:
    srv = await start_server(tmp_path, make_agenda())
    try:
        yield srv
    finally:
        with contextlib.suppress(Exception):
            await srv.stop()


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def write_agenda_toml(path: Path, data: dict[str, Any]) -> Path:
    """A small TOML writer for test agendas (the standard library only reads TOML)."""
    out = ["[meeting]"] + [f"{k} = {toml_value(v)}" for k, v in data["meeting"].items()]
    for m in data["members"]:
        out += ["", "[[members]]"] + [f"{k} = {toml_value(v)}" for k, v in m.items()]
    for item in data["items"]:
        out += ["", "[[items]]"] + [
            f"{k} = {toml_value(v)}" for k, v in item.items() if k not in ("ballots", "documents")
        ]
        for b in item.get("ballots", []):
            out += ["", "[[items.ballots]]"] + [f"{k} = {toml_value(v)}" for k, v in b.items()]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


class ServerLog(logging.Handler):
    """Every log record of an in-process server: the project's loggers and uvicorn's, which
    do not propagate to the root logger (so pytest's ``caplog`` does not see them)."""

    LOGGERS = ("", "uvicorn")  # uvicorn.error propagates to uvicorn, which stops there

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def faults(self) -> list[str]:
        """What a server fault leaves: a traceback, or anything at ERROR or above."""
        return [
            f"{r.name}: {r.getMessage()}" + (" (with a traceback)" if r.exc_info else "")
            for r in self.records
            if r.exc_info or r.levelno >= logging.ERROR
        ]

    def __enter__(self) -> ServerLog:
        for name in self.LOGGERS:
            logging.getLogger(name).addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeHandler(self)
