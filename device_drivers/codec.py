"""Sans-I/O framing for the keypad RS-485 bus: CRC, frame layout, and a hunting decoder.

Nothing here touches a port or a clock. The bus master and the simulated units both feed
whatever bytes they read into a :class:`FrameDecoder` and get whole, CRC-checked frames
back; they call :func:`encode_frame` to get bytes to write. Keeping the byte-level rules in
one pure module means the master, the simulator and the tests cannot disagree about them.

Frame layout (see docs/keypad-protocol.md for the full specification)::

    A5 | addr | cmd | len | payload[len] | crc_lo crc_hi        (full frame, 6 + len bytes)
    A6 | addr | tag                                             (short idle reply, 3 bytes)

The CRC is CRC-16/MODBUS (poly 0x8005 reflected = 0xA001, init 0xFFFF, no final xor) over
``addr .. payload`` (the start marker is excluded, as in Modbus RTU), sent little-endian.

Hunting (resynchronisation) strategy, in the spirit of the pymodbus RTU framer:

1. Scan the buffer for a start marker (``A5``; ``A6`` only while a short reply is expected
   from a given address). Bytes before it are garbage and are counted in
   :attr:`FrameDecoder.discarded`.
2. At a candidate, check the cheap header rules first (address <= 247, length <= 128). A
   candidate that breaks them is not a frame: step ONE byte past its marker and hunt again,
   because a real marker may hide in what looked like its header.
3. If the candidate is complete, check the CRC. On a mismatch step one byte and hunt again
   (never skip the whole claimed length: a corrupted length byte must not swallow the next
   good frame).
4. If the candidate is incomplete, keep it, but look ahead for a complete, valid frame that
   starts later in the buffer. If one exists the incomplete candidate was garbage (a bogus
   marker with a large length would otherwise stall the decoder until the reply timeout
   while a good frame sits behind it); otherwise wait for more bytes.

Merged frames (two in one read) come out one after the other; split frames (one frame over
several reads) are kept until complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SOF: Final = 0xA5
"""Start of a full frame."""
SOF_SHORT: Final = 0xA6
"""Start of the 3-byte idle reply a unit sends to a poll when it has nothing to report."""
MAX_ADDRESS: Final = 247
BROADCAST: Final = 0
MAX_PAYLOAD: Final = 128
OVERHEAD: Final = 6
"""Bytes a full frame adds around its payload: marker, address, command, length, CRC."""
SHORT_LEN: Final = 3
MAX_FRAME: Final = OVERHEAD + MAX_PAYLOAD


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE: Final = _crc_table()


def crc16(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/MODBUS of ``data`` (check value for b"123456789" is 0x4B37)."""
    crc = 0xFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


@dataclass(frozen=True, slots=True)
class Frame:
    """A CRC-checked full frame; its meaning is decided by :mod:`device_drivers.messages`."""

    address: int
    command: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class ShortFrame:
    """The 3-byte idle reply. It has no CRC: only its expected sender is accepted."""

    address: int
    tag: int


def encode_frame(address: int, command: int, payload: bytes = b"") -> bytes:
    """Bytes of one full frame. Raises ValueError for out-of-range fields."""
    if not 0 <= address <= MAX_ADDRESS:
        raise ValueError(f"address {address} outside 0..{MAX_ADDRESS}")
    if not 0 <= command <= 0xFF:
        raise ValueError(f"command {command} is not a byte")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = bytes((address, command, len(payload))) + payload
    crc = crc16(body)
    return bytes((SOF,)) + body + bytes((crc & 0xFF, crc >> 8))


def encode_short(address: int, tag: int) -> bytes:
    """Bytes of the short idle reply."""
    if not 1 <= address <= MAX_ADDRESS:
        raise ValueError(f"address {address} outside 1..{MAX_ADDRESS}")
    return bytes((SOF_SHORT, address, tag & 0xFF))


_INVALID: Final = -1
_INCOMPLETE: Final = -2


class FrameDecoder:
    """Turns a byte stream into frames, resynchronising on garbage (see module docstring).

    Why the short reply needs :meth:`expect_short_reply`: it carries no CRC, so the decoder
    only accepts one while the caller is waiting for exactly that unit's answer to a poll.
    Units (which never receive short frames) leave it unset and treat ``A6`` as noise.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._short_from: int | None = None
        self.discarded = 0
        """Bytes thrown away while hunting: a cheap line-quality figure."""

    def expect_short_reply(self, address: int | None) -> None:
        """Accept a short idle reply from ``address`` only (None: accept none)."""
        self._short_from = address

    def reset(self) -> None:
        """Forget buffered bytes, e.g. before a new transaction on a half-duplex line."""
        self.discarded += len(self._buf)
        self._buf.clear()

    def needed(self) -> int:
        """Fewest further bytes that could complete the frame being assembled.

        A reader asks for exactly this many, so a blocking ``read(n)`` returns as soon as a
        frame can be complete instead of waiting for its timeout.
        """
        buf = self._buf
        if not buf:
            return SHORT_LEN if self._short_from is not None else OVERHEAD
        if buf[0] == SOF_SHORT:
            return max(1, SHORT_LEN - len(buf))
        if len(buf) < 4:
            return OVERHEAD - len(buf)
        return max(1, OVERHEAD + buf[3] - len(buf))

    def feed(self, data: bytes) -> list[Frame | ShortFrame]:
        """Add bytes read from the line; return every complete frame now available."""
        self._buf += data
        out: list[Frame | ShortFrame] = []
        while (item := self._next()) is not None:
            out.append(item)
        return out

    def _next(self) -> Frame | ShortFrame | None:
        buf = self._buf
        n = len(buf)
        first_incomplete = -1
        i = 0
        while i < n:
            marker = buf[i]
            if marker == SOF:
                end = self._check_full(i)
            elif marker == SOF_SHORT and self._short_from is not None:
                end = self._check_short(i)
            else:
                i += 1
                continue
            if end == _INCOMPLETE:
                if first_incomplete < 0:
                    first_incomplete = i
            elif end != _INVALID:
                item: Frame | ShortFrame
                if marker == SOF:
                    item = Frame(buf[i + 1], buf[i + 2], bytes(buf[i + 4 : end - 2]))
                else:
                    item = ShortFrame(buf[i + 1], buf[i + 2])
                self.discarded += i
                del buf[:end]
                return item
            i += 1
        keep_from = first_incomplete if first_incomplete >= 0 else n
        self.discarded += keep_from
        del buf[:keep_from]
        return None

    def _check_full(self, i: int) -> int:
        """End index of a valid full frame at ``i``, or _INVALID / _INCOMPLETE."""
        buf = self._buf
        avail = len(buf) - i
        if avail >= 2 and buf[i + 1] > MAX_ADDRESS:
            return _INVALID
        if avail < 4:
            return _INCOMPLETE
        length = buf[i + 3]
        if length > MAX_PAYLOAD:
            return _INVALID
        end = i + OVERHEAD + length
        if end > len(buf):
            return _INCOMPLETE
        crc = crc16(memoryview(buf)[i + 1 : end - 2])
        if buf[end - 2] != crc & 0xFF or buf[end - 1] != crc >> 8:
            return _INVALID
        return end

    def _check_short(self, i: int) -> int:
        buf = self._buf
        if len(buf) - i < 2:
            return _INCOMPLETE
        if buf[i + 1] != self._short_from:
            return _INVALID
        if len(buf) - i < SHORT_LEN:
            return _INCOMPLETE
        return i + SHORT_LEN
