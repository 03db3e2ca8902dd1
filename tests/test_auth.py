"""Clerk login (hashed password, signed HttpOnly cookie, CSRF) and one-time seat pairing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.edge.auth import AUTH_FILE, INITIAL_PASSWORD_FILE, SESSION_COOKIE, first_run_notice, set_password
from terminal_client import Client, ServerError
from tests.support import LiveServer, make_agenda, start_server

PASSWORD = "s3cret-for-tests"


@pytest.fixture
async def srv(tmp_path: Path) -> AsyncIterator[LiveServer]:
    set_password(tmp_path, PASSWORD)
    server = await start_server(tmp_path, make_agenda(5))
    try:
        yield server
    finally:
        await server.stop()


def same_origin(srv: LiveServer) -> dict[str, str]:
    return {"Origin": srv.http}


async def login(http: httpx.AsyncClient, srv: LiveServer) -> tuple[str, str]:
    """(cookie header value, csrf token)"""
    res = await http.post(
        "/api/console/login", json={"username": "clerk", "password": PASSWORD}, headers=same_origin(srv)
    )
    assert res.status_code == 200
    cookie = f"{SESSION_COOKIE}={res.cookies[SESSION_COOKIE]}"
    http.cookies.clear()  # each request below says explicitly whether it carries the cookie
    session = await http.get("/api/console/session", headers={"Cookie": cookie})
    return cookie, session.json()["csrf"]


def client(srv: LiveServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=srv.http, follow_redirects=False)


async def test_a_wrong_password_is_refused_and_the_right_one_gets_a_strict_httponly_cookie(srv: LiveServer) -> None:
    async with client(srv) as http:
        bad = await http.post(
            "/api/console/login", json={"username": "clerk", "password": "nope"}, headers=same_origin(srv)
        )
        assert bad.status_code == 401 and bad.json()["error"] == "wrong_password"
        assert SESSION_COOKIE not in bad.cookies
        good = await http.post(
            "/api/console/login", json={"username": "clerk", "password": PASSWORD}, headers=same_origin(srv)
        )
        assert good.status_code == 200
        header = good.headers["set-cookie"].lower()
        assert "httponly" in header and "samesite=strict" in header and "path=/" in header


async def test_the_password_is_stored_as_a_salted_scrypt_hash(srv: LiveServer, tmp_path: Path) -> None:
    stored = json.loads((tmp_path / AUTH_FILE).read_text())
    assert PASSWORD not in json.dumps(stored)
    assert stored["password"]["alg"] == "scrypt" and len(bytes.fromhex(stored["password"]["salt"])) == 16
    assert (tmp_path / AUTH_FILE).stat().st_mode & 0o077 == 0


async def test_a_first_run_generates_a_password_that_serve_says_where_to_find(tmp_path: Path) -> None:
    server = await start_server(tmp_path, make_agenda(3))
    try:
        notice = first_run_notice(server.assembly.auth)
        assert notice is not None
        password = server.assembly.auth.console.initial_password
        assert password is not None and password not in notice  # where it is, never what it is
        kept = tmp_path / INITIAL_PASSWORD_FILE
        assert str(kept) in notice and kept.read_text().strip() == password
        assert kept.stat().st_mode & 0o077 == 0
        async with client(server) as http:
            res = await http.post(
                "/api/console/login", json={"username": "clerk", "password": password}, headers={"Origin": server.http}
            )
            assert res.status_code == 200
    finally:
        await server.stop()


async def test_console_pages_need_a_login(srv: LiveServer) -> None:
    async with client(srv) as http:
        res = await http.get("/console")
        assert res.status_code == 303 and res.headers["location"] == "/console/login"
        assert (await http.get("/console/pairing")).status_code == 303
        assert (await http.get("/api/console/session")).status_code == 401
        forged = f"{SESSION_COOKIE}=eyJzaWQiOiJ4In0.AAAA"
        assert (await http.get("/console", headers={"Cookie": forged})).status_code == 303
        cookie, _ = await login(http, srv)
        assert (await http.get("/console", headers={"Cookie": cookie})).status_code == 200


async def test_state_changing_requests_need_the_csrf_header_and_the_same_origin(srv: LiveServer) -> None:
    async with client(srv) as http:
        cookie, csrf = await login(http, srv)
        missing = await http.post("/api/console/token", headers={"Cookie": cookie, **same_origin(srv)})
        assert missing.status_code == 403 and missing.json()["error"] == "csrf"
        wrong = await http.post(
            "/api/console/token", headers={"Cookie": cookie, "X-CSRF-Token": "x", **same_origin(srv)}
        )
        assert wrong.status_code == 403
        other_site = await http.post(
            "/api/console/token", headers={"Cookie": cookie, "X-CSRF-Token": csrf, "Origin": "http://evil.example"}
        )
        assert other_site.status_code == 403 and other_site.json()["error"] == "bad_origin"
        cross = await http.post(
            "/api/console/token", headers={"Cookie": cookie, "X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"}
        )
        assert cross.status_code == 403
        no_cookie = await http.post("/api/console/token", headers={"X-CSRF-Token": csrf, **same_origin(srv)})
        assert no_cookie.status_code == 401
        login_elsewhere = await http.post(
            "/api/console/login",
            json={"username": "clerk", "password": PASSWORD},
            headers={"Origin": "http://evil.example"},
        )
        assert login_elsewhere.status_code == 403
        ok = await http.post("/api/console/token", headers={"Cookie": cookie, "X-CSRF-Token": csrf, **same_origin(srv)})
        assert ok.status_code == 200


async def test_the_minted_clerk_token_works_until_logout(srv: LiveServer) -> None:
    async with client(srv) as http:
        cookie, csrf = await login(http, srv)
        headers = {"Cookie": cookie, "X-CSRF-Token": csrf, **same_origin(srv)}
        token = (await http.post("/api/console/token", headers=headers)).json()["token"]
        clerk = Client(srv.url, token, reconnect=False)
        assert (await clerk.connect())["role"] == "clerk"
        await clerk.close()
        assert (await http.post("/api/console/logout", headers=headers)).status_code == 200
        after = Client(srv.url, token, reconnect=False)
        with pytest.raises(ServerError) as refused:
            await after.connect()
        assert refused.value.code == "bad_token"
        # the old cookie, replayed, no longer works either
        assert (await http.get("/api/console/session", headers={"Cookie": cookie})).status_code == 401


async def test_wrong_passwords_from_one_address_must_wait(srv: LiveServer) -> None:
    async with client(srv) as http:
        answers = [
            await http.post(
                "/api/console/login", json={"username": "clerk", "password": f"x{i}"}, headers=same_origin(srv)
            )
            for i in range(6)
        ]
        assert [a.status_code for a in answers] == [401, 401, 401, 401, 429, 429]
        assert answers[-1].json()["error"] == "too_many_attempts" and answers[-1].json()["retry_after"] >= 1
        # (growing delays, and the clerk elsewhere never locked out: tests/test_login.py)


async def pairing_codes(http: httpx.AsyncClient, srv: LiveServer, **body: Any) -> dict[str, str]:
    cookie, csrf = await login(http, srv)
    res = await http.post(
        "/api/console/pairing", json=body, headers={"Cookie": cookie, "X-CSRF-Token": csrf, **same_origin(srv)}
    )
    assert res.status_code == 200
    data = res.json()
    assert data["seats"][0]["svg"].startswith("<svg")
    assert data["seats"][0]["url"] == f"{srv.http}/seat#pair={data['seats'][0]['code']}"
    assert data["display"]["url"] == f"{srv.http}/display#pair={data['display']['code']}"
    return {s["seat"]: s["code"] for s in data["seats"]} | {"display": data["display"]["code"]}


async def test_a_pairing_code_gives_a_token_of_the_devices_own_once(srv: LiveServer) -> None:
    async with client(srv) as http:
        codes = await pairing_codes(http, srv)
        first = await http.post("/api/pair", json={"code": codes["S002"]}, headers=same_origin(srv))
        assert first.status_code == 200
        paired = first.json()
        assert {k: paired[k] for k in ("role", "seat", "member", "name")} == {
            "role": "seat",
            "seat": "S002",
            "member": "m02",
            "name": srv.creds["seats"]["S002"]["name"],
        }
        assert paired["token"] != srv.seat_token("S002")  # not the seat's permanent token
        tablet = Client(srv.url, paired["token"], reconnect=False)
        welcome = await tablet.connect()
        assert (welcome["role"], welcome["seat"]) == ("seat", "S002")
        await tablet.close()
        second = await http.post("/api/pair", json={"code": codes["S002"]}, headers=same_origin(srv))
        assert second.status_code == 409 and second.json()["error"] == "code_used"
        unknown = await http.post("/api/pair", json={"code": "NOPE"}, headers=same_origin(srv))
        assert unknown.status_code == 404
        # the sheet shows the same unused codes again; a renewal replaces them
        again = await pairing_codes(http, srv)
        assert again["S001"] == codes["S001"] and again["S002"] != codes["S002"]
        renewed = await pairing_codes(http, srv, renew=True)
        old = await http.post("/api/pair", json={"code": codes["S001"]}, headers=same_origin(srv))
        assert old.status_code == 409 and old.json()["error"] == "code_replaced"
        assert (
            await http.post("/api/pair", json={"code": renewed["S001"]}, headers=same_origin(srv))
        ).status_code == 200


async def test_pairing_codes_survive_a_restart(tmp_path: Path) -> None:
    set_password(tmp_path, PASSWORD)
    server = await start_server(tmp_path, make_agenda(3))
    try:
        async with client(server) as http:
            codes = await pairing_codes(http, server)
    finally:
        await server.stop()
    server = await start_server(tmp_path, make_agenda(3), db=server.db)
    try:
        async with client(server) as http:
            res = await http.post("/api/pair", json={"code": codes["S003"]}, headers={"Origin": server.http})
            assert res.status_code == 200 and res.json()["seat"] == "S003"
    finally:
        await server.stop()


async def test_pages_catalogues_and_static_modules_are_served(srv: LiveServer) -> None:
    async with client(srv) as http:
        for path in ("/seat", "/display", "/console/login"):
            res = await http.get(path)
            assert res.status_code == 200 and "text/html" in res.headers["content-type"]
            assert "script-src 'self'" in res.headers["content-security-policy"]
        zh = (await http.get("/i18n/zh-CN.json")).json()
        en = (await http.get("/i18n/en.json")).json()
        assert set(zh) == set(en) and zh["option.for"] == "赞成" and en["option.for"] == "For"
        assert (await http.get("/i18n/fr.json")).status_code == 404
        js = await http.get("/static/lib/protocol.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        assert (await http.get("/static/web/console/main.js")).status_code == 200
        assert (await http.get("/api/info")).json()["language"] == "zh-CN"
