"""Keypad frame codec: documented hex vectors, CRC, and resynchronisation on a noisy line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_drivers.codec import (
    MAX_PAYLOAD,
    SOF,
    SOF_SHORT,
    Frame,
    FrameDecoder,
    ShortFrame,
    crc16,
    encode_frame,
)
from device_drivers.messages import (
    Ack,
    AckReply,
    CardInserted,
    CardRemoved,
    Command,
    Display,
    Done,
    FloorLamp,
    IdleReply,
    Key,
    KeyPress,
    Message,
    Mode,
    Nak,
    NakReason,
    Poll,
    PollReply,
    ProtocolError,
    SetFloor,
    SetLeds,
    SetMode,
    StatusReply,
    StatusRequest,
    UnitFlag,
    decode,
    encode,
    idle_tag,
    seq_after,
)

VOTE_KEYS = frozenset({Key.FOR, Key.AGAINST, Key.ABSTAIN})

# Every vector here is quoted in docs/keypad-protocol.md ("Worked examples").
VECTORS: list[tuple[str, Message, str]] = [
    ("short poll", Poll(7), "a5 07 02 00 c1 61"),
    ("idle reply, epoch 42", IdleReply(7, idle_tag(7, 42)), "a6 07 d2"),
    ("long poll", Poll(7, boot=0x0102, ack=3, seen=5), "a5 07 02 06 02 01 03 00 05 00 f4 2f"),
    ("long poll acking 5", Poll(7, boot=0x0102, ack=5, seen=5), "a5 07 02 06 02 01 05 00 05 00 f4 a7"),
    (
        "broadcast secret vote, epoch 42",
        SetMode(0, Mode.VOTE, 42, VOTE_KEYS, secret=True),
        "a5 00 01 06 02 01 2a 00 0e 00 9d 66",
    ),
    (
        "check-in mode for unit 7, epoch 41",
        SetMode(7, Mode.CHECK_IN, 41, frozenset({Key.CHECK_IN})),
        "a5 07 01 06 01 00 29 00 01 00 83 11",
    ),
    (
        "poll reply with one FOR press",
        PollReply(7, 0x0102, 42, UnitFlag(0), (KeyPress(5, 42, Key.FOR),)),
        "a5 07 82 0b 02 01 2a 00 00 05 00 01 2a 00 01 ec 23",
    ),
    (
        "poll reply after power-up with card in/out",
        PollReply(3, 9, 1, UnitFlag.REBOOTED, (CardInserted(1, 1, bytes.fromhex("04a1b2c3")), CardRemoved(2, 1))),
        "a5 03 82 14 09 00 01 00 01 01 00 02 01 00 04 04 a1 b2 c3 02 00 03 01 00 a6 06",
    ),
    ("ack through 5", Ack(7, 0x0102, 5), "a5 07 03 04 02 01 05 00 cf 1b"),
    ("ack reply", AckReply(7, 0x0102, 0), "a5 07 83 03 02 01 00 e4 66"),
    ("leds: FOR + recorded", SetLeds(7, frozenset({Key.FOR}), True), "a5 07 04 03 02 00 01 90 28"),
    ("display 赞成", Display(7, "赞成"), "a5 07 05 06 e8 b5 9e e6 88 90 b8 7e"),
    ("status request", StatusRequest(7), "a5 07 06 00 c3 a1"),
    (
        "status reply",
        StatusReply(7, (1, 2), 0x0102, 0, UnitFlag.REBOOTED, Mode.IDLE, 0, 0),
        "a5 07 86 0a 01 02 02 01 00 01 00 00 00 00 c7 7e",
    ),
    ("set_mode done", Done(7, Command.SET_MODE), "a5 07 81 00 a0 51"),
    ("nak", Nak(7, 0x42, NakReason.UNKNOWN_COMMAND), "a5 07 ff 02 42 01 f1 74"),
    # protocol 1.1: the request key, the floor lamp, the version in STATUS
    (
        "poll reply with a REQUEST press",
        PollReply(7, 0x0102, 42, UnitFlag(0), (KeyPress(6, 42, Key.REQUEST),)),
        "a5 07 82 0b 02 01 2a 00 00 06 00 01 2a 00 10 2c 1c",
    ),
    ("floor lamp: queued", SetFloor(7, FloorLamp.QUEUED), "a5 07 07 01 01 70 c1"),
    ("floor lamp: speaking", SetFloor(7, FloorLamp.SPEAKING), "a5 07 07 01 02 30 c0"),
    ("set_floor done", Done(7, Command.SET_FLOOR), "a5 07 87 00 a3 f1"),
    (
        "status reply of a 1.1 unit",
        StatusReply(7, (1, 2), 0x0102, 0, UnitFlag.REBOOTED, Mode.IDLE, 0, 0, 1),
        "a5 07 86 0b 01 02 02 01 00 01 00 00 00 00 01 03 91",
    ),
    ("a 1.0 unit refuses set_floor", Nak(7, 0x07, NakReason.UNKNOWN_COMMAND), "a5 07 ff 02 07 01 c3 e4"),
]


def decode_stream(data: bytes, short_from: int | None = None, chunk: int | None = None) -> list[Message]:
    decoder = FrameDecoder()
    decoder.expect_short_reply(short_from)
    pieces = [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    return [decode(item) for piece in pieces for item in decoder.feed(piece)]


def test_crc_is_crc16_modbus() -> None:
    assert crc16(b"123456789") == 0x4B37


@pytest.mark.parametrize(("name", "message", "wire"), VECTORS, ids=[v[0] for v in VECTORS])
def test_documented_vectors_encode_and_decode(name: str, message: Message, wire: str) -> None:
    raw = bytes.fromhex(wire)
    assert encode(message) == raw
    short_from = message.address if isinstance(message, IdleReply) else None
    assert decode_stream(raw, short_from) == [message]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7])
def test_split_frames_are_reassembled(chunk: int) -> None:
    stream = b"".join(bytes.fromhex(w) for _, m, w in VECTORS if not isinstance(m, IdleReply))
    expected = [m for _, m, _ in VECTORS if not isinstance(m, IdleReply)]
    assert decode_stream(stream, chunk=chunk) == expected


def test_garbage_between_frames_is_skipped_and_counted() -> None:
    first, second = encode(Poll(1)), encode(Poll(2))
    decoder = FrameDecoder()
    frames = decoder.feed(b"\x00\xff\x13" + first + b"\x42\x99" + second)
    assert [decode(f) for f in frames] == [Poll(1), Poll(2)]
    assert decoder.discarded == 5


def test_corrupted_frame_is_dropped_and_next_frame_survives() -> None:
    bad = bytearray(encode(Poll(1, 5, 6, 7)))
    bad[6] ^= 0x10
    assert decode_stream(bytes(bad) + encode(Poll(2))) == [Poll(2)]


def test_corrupted_length_does_not_swallow_the_following_frame() -> None:
    # A marker followed by a plausible header claiming 100 bytes: the good frame behind it
    # must come out now, not after 100 more bytes or a timeout.
    bogus = bytes((SOF, 0x07, 0x82, 100, 1, 2))
    assert decode_stream(bogus + encode(Poll(9))) == [Poll(9)]


def test_marker_inside_payload_does_not_confuse_the_decoder() -> None:
    card = CardInserted(1, 1, bytes((SOF, 0x07, 0x02, 0x00, SOF_SHORT, 0x07)))
    reply = PollReply(7, 1, 1, UnitFlag(0), (card,))
    assert decode_stream(b"\xa5\xa5" + encode(reply), short_from=7) == [reply]


def test_short_reply_only_accepted_from_the_polled_unit() -> None:
    raw = bytes((SOF_SHORT, 8, idle_tag(8, 0)))
    assert decode_stream(raw, short_from=7) == []
    assert decode_stream(raw, short_from=None) == []
    assert decode_stream(raw, short_from=8) == [IdleReply(8, idle_tag(8, 0))]


def test_needed_asks_for_exactly_the_rest_of_a_frame() -> None:
    raw = encode(PollReply(7, 1, 1, UnitFlag(0), (KeyPress(1, 1, Key.FOR),)))
    decoder = FrameDecoder()
    assert decoder.needed() == 6
    decoder.feed(raw[:4])
    assert decoder.needed() == len(raw) - 4


def test_crc_valid_nonsense_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        decode(Frame(7, Command.POLL, b"\x01"))
    with pytest.raises(ProtocolError):
        decode(Frame(7, 0x42, b""))
    with pytest.raises(ProtocolError):
        decode(Frame(7, Command.DISPLAY, b"\xff\xfe"))


def test_encoder_refuses_out_of_range_fields() -> None:
    with pytest.raises(ValueError):
        encode_frame(248, Command.POLL)
    with pytest.raises(ValueError):
        encode_frame(1, Command.DISPLAY, bytes(MAX_PAYLOAD + 1))
    with pytest.raises(ValueError):
        encode(Display(1, "长" * 22))  # 66 UTF-8 bytes > 64


def test_sequence_numbers_wrap_without_ambiguity() -> None:
    assert seq_after(1, 0xFFFF)
    assert not seq_after(0xFFFF, 1)
    assert seq_after(5, 0) and not seq_after(0, 5)


frames = st.builds(
    lambda a, p: encode_frame(a, Command.DISPLAY, p),
    st.integers(0, 247),
    st.binary(max_size=20),
)
noise = st.binary(max_size=8).map(lambda b: bytes(x for x in b if x not in (SOF, SOF_SHORT)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(noise, frames), max_size=8), st.integers(1, 16))
def test_every_frame_is_recovered_from_noise_in_any_chunking(parts: list[tuple[bytes, bytes]], chunk: int) -> None:
    stream = b"".join(n + f for n, f in parts)
    decoder = FrameDecoder()
    out: list[Frame | ShortFrame] = []
    for i in range(0, len(stream), chunk):
        out += decoder.feed(stream[i : i + chunk])
    assert [encode_frame(f.address, f.command, f.payload) for f in out if isinstance(f, Frame)] == [f for _, f in parts]
