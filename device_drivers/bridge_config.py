"""The keypad bridge's configuration file (TOML): server, token, lines, units, cards.

Documented in docs/keypads.md. :func:`load_config` reads and checks a file and reports
*every* problem with its key path (as the agenda loader does), so an installer fixes the
file in one go. Mapping units to seats "from the agenda" is resolved later, once the
bridge knows the seat order (:meth:`BridgeConfig.resolve_units`).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serial.rs485 import RS485Settings

import tomlproblems
from device_drivers.bus import LineConfig
from device_drivers.codec import MAX_ADDRESS
from device_drivers.timing import STANDARD_BAUDS, is_network_url

_TOP_KEYS = {"server", "token", "credentials", "cards", "checkin", "card_checks_in", "language", "lines"}
_LINE_KEYS = {
    "name",
    "url",
    "baud",
    "rs485",
    "units",
    "first_address",
    "skip",
    "count",
    "card_readers",
    "offline_after",
    "offline_probe_interval",
    "latency_allowance",
}
_RS485_KEYS = {"rts_level_for_tx", "rts_level_for_rx", "loopback", "delay_before_tx", "delay_before_rx"}
LANGUAGES = ("zh-CN", "en")
OFFLINE_AFTER = (1, 50)
"""Bounds of ``offline_after`` (silent exchanges before a unit is reported offline)."""
PROBE_INTERVAL = (0.01, 60.0)
"""Bounds of ``offline_probe_interval`` in seconds."""
LATENCY = (0.0, 0.5)
"""Bounds of ``latency_allowance`` in seconds: beyond half a second a line of offline units
would spend its time waiting rather than polling."""


class ConfigError(ValueError):
    def __init__(self, problems: list[str], source: str = "config") -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.problems = problems
        self.source = source


def normalize_card(card: str | bytes) -> str:
    """Card ids compare as upper-case hex without separators ("04:a1:b2:c3" = "04A1B2C3")."""
    if isinstance(card, bytes):
        return card.hex().upper()
    return re.sub(r"[\s:\-]", "", card).upper()


@dataclass(frozen=True)
class LineSpec:
    name: str
    url: str
    baud: int = 115200
    rs485: RS485Settings | None = None
    units: Mapping[int, str] | None = None
    """Explicit address -> seat; None means "from the agenda" (seat order -> addresses)."""
    first_address: int = 1
    skip: int = 0
    """Agenda mapping: seats to skip (in agenda order) before this line's first unit."""
    count: int | None = None
    """Agenda mapping: how many seats this line serves (default: the rest, at most 247)."""
    card_readers: bool = False
    """Units on this line have card slots: their keys work only with the seat's member's card."""
    offline_after: int = 5
    offline_probe_interval: float = 0.5
    latency_allowance: float | None = None
    """Seconds added to reply timeouts; None: 3 ms for a local port, 15 ms for a network URL."""

    def line_config(self) -> LineConfig:
        return LineConfig(
            baudrate=self.baud,
            rs485=self.rs485,
            offline_after=self.offline_after,
            offline_probe_interval=self.offline_probe_interval,
            latency_allowance=self.latency_allowance,
        )


@dataclass(frozen=True)
class BridgeConfig:
    lines: tuple[LineSpec, ...]
    token: str | None = None
    credentials: Path | None = None
    server: str | None = None
    cards: Mapping[str, str] | None = None
    """Card id (normalized hex) -> member id; None when cards are not used."""
    cards_from_agenda: bool = False
    """The cards are the agenda's (each member's ``card``), as the server sends them to devices."""
    checkin: bool = True
    """Between ballots, keypads are in check-in mode (else idle); the check-in key also
    works during a vote so a late member can check in and vote."""
    card_checks_in: bool = True
    """Inserting the seat's own card checks the member in."""
    language: str | None = None
    """Display language (zh-CN, en); default: the meeting's."""

    # ------------------------------------------------------------------ resolution

    def device_token(self) -> str:
        if self.token:
            return self.token
        if self.credentials is None:
            raise ConfigError(["token: give `token` or `credentials` (the server's credentials JSON)"])
        try:
            data = json.loads(self.credentials.read_text(encoding="utf-8"))
            token = data["device"]["token"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError([f"credentials: cannot read the device token from {self.credentials}: {exc}"]) from None
        if not isinstance(token, str) or not token:
            raise ConfigError([f"credentials: {self.credentials} holds no device token"])
        return token

    def card_members(self, from_server: Mapping[str, str] | None = None) -> dict[str, str] | None:
        """Card id (normalized) -> member id: the configured table, or with ``cards = "agenda"``
        the agenda's cards as the server's device snapshot lists them (``from_server``)."""
        if not self.cards_from_agenda:
            return dict(self.cards) if self.cards is not None else None
        out: dict[str, str] = {}
        problems = []
        for raw, member in (from_server or {}).items():
            card = normalize_card(raw)
            if card in out:
                problems.append(f"cards: the agenda gives card {raw!r} to both {out[card]} and {member}")
            out[card] = member
        if problems:
            raise ConfigError(problems)
        return out

    def resolve_units(self, seat_order: list[str]) -> dict[str, dict[int, str]]:
        """line name -> {address: seat}; ``seat_order`` is the agenda's seat order."""
        known = set(seat_order)
        problems: list[str] = []
        out: dict[str, dict[int, str]] = {}
        owner: dict[str, str] = {}
        for i, spec in enumerate(self.lines):
            path = f"lines[{i}] ({spec.name})"
            if spec.units is not None:
                units = dict(spec.units)
            else:
                rest = seat_order[spec.skip :]
                count = min(len(rest), spec.count if spec.count is not None else MAX_ADDRESS - spec.first_address + 1)
                if spec.count is not None and spec.count > len(rest):
                    problems.append(f"{path}.count: {spec.count} seats asked, the agenda has {len(rest)} after skip")
                if spec.first_address + count - 1 > MAX_ADDRESS:
                    problems.append(f"{path}: {count} units from address {spec.first_address} exceed {MAX_ADDRESS}")
                    count = max(0, MAX_ADDRESS - spec.first_address + 1)
                units = {spec.first_address + k: seat for k, seat in enumerate(rest[:count])}
            if not units:
                problems.append(f"{path}: no units")
            for address, seat in sorted(units.items()):
                if seat not in known:
                    problems.append(f"{path}.units.{address}: no seat {seat!r} in the agenda")
                elif seat in owner:
                    problems.append(f"{path}.units.{address}: seat {seat!r} is also served by {owner[seat]}")
                else:
                    owner[seat] = f"{spec.name} unit {address}"
            out[spec.name] = units
        if problems:
            raise ConfigError(problems)
        return out


# ---------------------------------------------------------------------- loading


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def typed(self, data: Mapping[str, Any], key: str, path: str, kind: type | tuple, default: Any) -> Any:
        if key not in data:
            return default
        value = data[key]
        bad_bool = kind in (int, float, (int, float)) and isinstance(value, bool)
        if not isinstance(value, kind) or bad_bool:
            name = kind.__name__ if isinstance(kind, type) else "a number"
            self.fail(f"{path}{key}", f"must be {name}, not {type(value).__name__}")
            return default
        return value

    def unknown(self, data: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in sorted(set(data) - allowed):
            meant = tomlproblems.nearest(str(key), allowed)
            hint = f"{meant}?" if meant else f"allowed: {', '.join(sorted(allowed))}"
            self.fail(f"{path}{key}", f"unknown key ({hint})")


def load_config(path: str | Path) -> BridgeConfig:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(["file not found"], str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"not valid TOML: {exc}"], str(path)) from None
    return config_from_dict(data, base_dir=path.resolve().parent, source=str(path))


def config_from_dict(data: Mapping[str, Any], *, base_dir: Path | None = None, source: str = "config") -> BridgeConfig:
    """Check plain data (as read from TOML); relative paths are taken from ``base_dir``."""
    c = _Checker()
    base = base_dir or Path.cwd()
    c.unknown(data, _TOP_KEYS, "")

    def a_path(key: str) -> Path | None:
        value = c.typed(data, key, "", str, None)
        return None if value is None else (base / value)

    token = c.typed(data, "token", "", str, None)
    credentials = a_path("credentials")
    if not token and credentials is None:
        c.fail("token", "give `token` (the device token) or `credentials` (path to the server's credentials JSON)")
    server = c.typed(data, "server", "", str, None)
    language = c.typed(data, "language", "", str, None)
    if language is not None and language not in LANGUAGES:
        c.fail("language", f"must be one of {', '.join(LANGUAGES)}")

    cards: dict[str, str] | None = None
    cards_from_agenda = False
    raw_cards = data.get("cards")
    if raw_cards == "agenda":
        cards_from_agenda = True
    elif isinstance(raw_cards, Mapping):
        cards = {}
        for card, member in raw_cards.items():
            if not isinstance(member, str) or not member:
                c.fail(f"cards.{card}", "must name a member id")
                continue
            norm = normalize_card(card)
            if not re.fullmatch(r"[0-9A-F]{2,32}", norm):
                c.fail(f"cards.{card}", "a card id is 1 to 16 bytes in hex")
            cards[norm] = member
    elif raw_cards is not None:
        c.fail("cards", 'must be "agenda" or a table {card id = member id}')

    lines: list[LineSpec] = []
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        c.fail("lines", "must list at least one line ([[lines]] tables)")
        raw_lines = []
    names: set[str] = set()
    for i, raw in enumerate(raw_lines):
        path = f"lines[{i}]."
        if not isinstance(raw, Mapping):
            c.fail(f"lines[{i}]", "must be a table")
            continue
        c.unknown(raw, _LINE_KEYS, path)
        name = c.typed(raw, "name", path, str, f"line{i + 1}")
        if name in names:
            c.fail(f"{path}name", f"duplicate line name {name!r}")
        names.add(name)
        url = c.typed(raw, "url", path, str, "")
        if not url:
            c.fail(f"{path}url", "required: a device path or pyserial URL (/dev/ttyUSB0, rfc2217://, socket://)")
        baud = c.typed(raw, "baud", path, int, 115200)
        if baud not in STANDARD_BAUDS:
            c.fail(f"{path}baud", f"must be a standard rate: {', '.join(map(str, STANDARD_BAUDS))}")
        rs485 = None
        if "rs485" in raw:
            r = raw["rs485"]
            if not isinstance(r, Mapping):
                c.fail(f"{path}rs485", "must be a table")
            elif url and is_network_url(url):
                c.fail(f"{path}rs485", "applies to a local port only: set RS-485 mode on the serial server itself")
            else:
                c.unknown(r, _RS485_KEYS, f"{path}rs485.")
                rs485 = RS485Settings(
                    rts_level_for_tx=c.typed(r, "rts_level_for_tx", f"{path}rs485.", bool, True),
                    rts_level_for_rx=c.typed(r, "rts_level_for_rx", f"{path}rs485.", bool, False),
                    loopback=c.typed(r, "loopback", f"{path}rs485.", bool, False),
                    delay_before_tx=c.typed(r, "delay_before_tx", f"{path}rs485.", (int, float), None),
                    delay_before_rx=c.typed(r, "delay_before_rx", f"{path}rs485.", (int, float), None),
                )
        units: dict[int, str] | None = None
        raw_units = raw.get("units", "agenda")
        if isinstance(raw_units, Mapping):
            units = {}
            for address, seat in raw_units.items():
                try:
                    a = int(address)
                except ValueError:
                    c.fail(f"{path}units.{address}", "a unit address is a number 1..247")
                    continue
                if not 1 <= a <= MAX_ADDRESS:
                    c.fail(f"{path}units.{address}", f"address must be 1..{MAX_ADDRESS}")
                if not isinstance(seat, str) or not seat:
                    c.fail(f"{path}units.{address}", "must name a seat")
                    continue
                units[a] = seat
            for key in ("first_address", "skip", "count"):
                if key in raw:
                    c.fail(f"{path}{key}", 'only with units = "agenda"')
        elif raw_units != "agenda":
            c.fail(f"{path}units", 'must be "agenda" or a table {address = seat}')
        first = c.typed(raw, "first_address", path, int, 1)
        if not 1 <= first <= MAX_ADDRESS:
            c.fail(f"{path}first_address", f"must be 1..{MAX_ADDRESS}")
        skip = c.typed(raw, "skip", path, int, 0)
        if skip < 0:
            c.fail(f"{path}skip", "must not be negative")
        count = c.typed(raw, "count", path, int, None)
        if count is not None and count < 1:
            c.fail(f"{path}count", "must be at least 1")
        card_readers = c.typed(raw, "card_readers", path, bool, False)
        if card_readers and cards is None and not cards_from_agenda:
            c.fail(f"{path}card_readers", 'card readers need `cards` (a table, or "agenda")')
        offline_after = c.typed(raw, "offline_after", path, int, 5)
        if not OFFLINE_AFTER[0] <= offline_after <= OFFLINE_AFTER[1]:
            c.fail(f"{path}offline_after", f"must be {OFFLINE_AFTER[0]} to {OFFLINE_AFTER[1]} exchanges")
        probe = c.typed(raw, "offline_probe_interval", path, (int, float), 0.5)
        if not PROBE_INTERVAL[0] <= probe <= PROBE_INTERVAL[1]:
            c.fail(f"{path}offline_probe_interval", f"must be {PROBE_INTERVAL[0]} to {PROBE_INTERVAL[1]:g} seconds")
        latency = c.typed(raw, "latency_allowance", path, (int, float), None)
        if latency is not None and not LATENCY[0] <= latency <= LATENCY[1]:
            c.fail(f"{path}latency_allowance", f"must be {LATENCY[0]:g} to {LATENCY[1]:g} seconds")
        lines.append(
            LineSpec(
                name,
                url,
                baud,
                rs485,
                units,
                first,
                skip,
                count,
                card_readers,
                offline_after,
                float(probe),
                None if latency is None else float(latency),
            )
        )

    config = BridgeConfig(
        lines=tuple(lines),
        token=token,
        credentials=credentials,
        server=server,
        cards=cards,
        cards_from_agenda=cards_from_agenda,
        checkin=c.typed(data, "checkin", "", bool, True),
        card_checks_in=c.typed(data, "card_checks_in", "", bool, True),
        language=language,
    )
    if c.problems:
        raise ConfigError(c.problems, source)
    return config
