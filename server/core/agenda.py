"""The meeting definition: members, seats, items, ballots, documents.

`agenda_from_dict` validates plain data (as read from TOML, or from the first event of
a log) and reports *every* problem with its key path, so a clerk fixes a file in one go.
The validated input is kept verbatim in `Agenda.source`: it is written into the log's
first event, which lets an auditor recompute every tally from the log alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import bounds
from .bounds import Checker, shown
from .errors import AgendaError
from .floor import speaking_from_dict
from .layout import Layout, layout_from_dict
from .rules import QUORUM_PRESET, Threshold, threshold_from_dict, threshold_from_dict_or_preset

LANGUAGES = ("zh-CN", "en")
ROLES = ("member", "chair", "observer")
AUDIENCES = ("everyone", "members", "observers")
CLASSIFICATIONS = ("public", "internal", "confidential")
#: when the room (tablets, displays) sees a result: at close, or once the chair announces it
REVEALS = ("on_close", "on_announce")


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    seat: str
    group: str = ""
    role: str = "member"
    votes: bool = True
    card: str = ""

    @property
    def can_vote(self) -> bool:
        return self.votes and self.role != "observer"


@dataclass(frozen=True)
class BallotSpec:
    id: str
    item: str
    title: str
    kind: str
    rule: Threshold
    secret: bool
    live_counts: bool
    countdown: int | None
    allow_change: bool
    certificate: bool = True  # write (and print) a tally certificate when it closes
    reveal: str = "on_close"  # REVEALS: when tablets and displays are given the result
    params: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def public(self) -> dict[str, Any]:
        """The ballot as every client may see it."""
        return {
            "id": self.id,
            "item": self.item,
            "title": self.title,
            "kind": self.kind,
            "rule": self.rule.to_dict(),
            "secret": self.secret,
            "live_counts": self.live_counts,
            "countdown": self.countdown,
            "allow_change": self.allow_change,
            "certificate": self.certificate,
            "reveal": self.reveal,
            **dict(self.params),
        }


@dataclass(frozen=True)
class DocumentSpec:
    id: str
    item: str
    title: str
    file: str
    audience: tuple[str, ...]
    classification: str


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    ballots: tuple[str, ...]
    documents: tuple[str, ...]
    speaking: Mapping[str, int] = field(default_factory=dict, hash=False, compare=False)  # floor limits


@dataclass(frozen=True)
class MeetingInfo:
    body: str
    term: str
    session: str
    title: str
    date: str
    language: str


@dataclass(frozen=True)
class Agenda:
    meeting: MeetingInfo
    members: tuple[Member, ...]
    items: tuple[Item, ...]
    ballots: Mapping[str, BallotSpec]
    documents: Mapping[str, DocumentSpec]
    quorum: Threshold
    source: Mapping[str, Any] = field(hash=False, compare=False, default_factory=dict)
    speaking: Mapping[str, int] = field(hash=False, compare=False, default_factory=dict)  # the sitting's floor limits
    layout: Layout | None = field(default=None, hash=False, compare=False)  # the room's seat map, if drawn

    def member(self, member_id: str) -> Member | None:
        return self._members_by_id().get(member_id)

    def member_at_seat(self, seat: str) -> Member | None:
        cache = self.__dict__.get("_by_seat")
        if cache is None:
            cache = {m.seat: m for m in self.members}
            object.__setattr__(self, "_by_seat", cache)
        return cache.get(seat)

    def _members_by_id(self) -> dict[str, Member]:
        cache = self.__dict__.get("_by_id")
        if cache is None:
            cache = {m.id: m for m in self.members}
            object.__setattr__(self, "_by_id", cache)
        return cache

    @property
    def voting_members(self) -> tuple[Member, ...]:
        """Members with a vote; computed once (the agenda is immutable), as every
        attendance summary, quorum check and turnout walks it."""
        cache = self.__dict__.get("_voting")
        if cache is None:
            cache = tuple(m for m in self.members if m.can_vote)
            object.__setattr__(self, "_voting", cache)
        return cache


_MEETING_KEYS = {"body", "term", "session", "title", "date", "language", "quorum", "rule", "reveal", "speaking"}
_MEMBER_KEYS = {"id", "name", "seat", "group", "role", "votes", "card"}
_ITEM_KEYS = {"id", "title", "ballots", "documents", "speaking"}
_BALLOT_KEYS = {
    "id",
    "title",
    "kind",
    "rule",
    "secret",
    "live_counts",
    "countdown",
    "allow_change",
    "certificate",
    "reveal",
}
_DOCUMENT_KEYS = {"id", "title", "file", "audience", "classification"}


def agenda_from_dict(data: Mapping[str, Any], source: str = "agenda") -> Agenda:
    """Validate agenda data; raise AgendaError listing every problem with its key path."""
    from .kinds import KINDS  # late import: kinds import agenda types

    if not isinstance(data, Mapping):  # a JSON file holding a list, say: nothing else can be checked
        raise AgendaError([f"must be a table of meeting, members and items, not {type(data).__name__}"], source)
    c = Checker()
    top = c.table(data, "", {"meeting", "members", "items", "layout"}, {"meeting", "members", "items"})
    raw_meeting = c.table(top.get("meeting", {}), "meeting", _MEETING_KEYS, {"title", "language"})
    language = c.typed(raw_meeting, "language", "meeting", str, "zh-CN")
    if language not in LANGUAGES:
        c.fail("meeting.language", f"must be one of {', '.join(LANGUAGES)}, not {shown(language)}")
    meeting = MeetingInfo(
        body=c.optional_text(raw_meeting, "body", "meeting"),
        term=c.optional_text(raw_meeting, "term", "meeting"),
        session=c.optional_text(raw_meeting, "session", "meeting"),
        title=c.text(raw_meeting, "title", "meeting", "?"),
        date=c.optional_text(raw_meeting, "date", "meeting"),
        language=language,
    )
    quorum = QUORUM_PRESET
    if "quorum" in raw_meeting:
        try:
            q = raw_meeting["quorum"]
            if not isinstance(q, Mapping):
                raise ValueError('must be a table such as {fraction = "1/2", cmp = ">"}')
            quorum = threshold_from_dict({"option": "present", "base": "seated", **q})
            if quorum.base != "seated" or quorum.option != "present":
                raise ValueError("quorum counts members present against all seated members")
        except ValueError as exc:
            c.fail("meeting.quorum", str(exc))
    default_rule = raw_meeting.get("rule", "majority_of_all")
    try:
        threshold_from_dict_or_preset(default_rule, "majority_of_all")
    except ValueError as exc:
        c.fail("meeting.rule", str(exc))
    default_reveal = _reveal(c, raw_meeting, "meeting", "on_close")
    speaking = speaking_from_dict(c, raw_meeting, "speaking", "meeting")

    members: list[Member] = []
    raw_members = c.sized(top, "members", "", bounds.MAX_MEMBERS)
    seen_ids: dict[str, str] = {}
    seen_seats: dict[str, str] = {}
    for i, raw in enumerate(raw_members):
        path = f"members[{i}]"
        m = c.table(raw, path, _MEMBER_KEYS, {"id", "name", "seat"})
        mid, seat = c.ident(m, "id", path), c.ident(m, "seat", path)
        role = c.typed(m, "role", path, str, "member")
        if role not in ROLES:
            c.fail(f"{path}.role", f"must be one of {', '.join(ROLES)}, not {shown(role)}")
        if mid in seen_ids:
            c.fail(f"{path}.id", f"duplicate member id {shown(mid)} (also {seen_ids[mid]})")
        if seat in seen_seats:
            c.fail(f"{path}.seat", f"duplicate seat {shown(seat)} (also {seen_seats[seat]})")
        seen_ids.setdefault(mid, path)
        seen_seats.setdefault(seat, path)
        members.append(
            Member(
                id=mid,
                name=c.text(m, "name", path, "?", bounds.MAX_NAME),
                seat=seat,
                group=c.optional_text(m, "group", path),
                role=role,
                votes=c.typed(m, "votes", path, bool, role != "observer"),
                card=c.ident(m, "card", path, ""),
            )
        )
    if not members and isinstance(top.get("members"), list):  # not a list: told so already
        c.fail("members", "must list at least one member")

    items: list[Item] = []
    ballots: dict[str, BallotSpec] = {}
    documents: dict[str, DocumentSpec] = {}
    item_ids: set[str] = set()
    for i, raw in enumerate(c.sized(top, "items", "", bounds.MAX_ITEMS)):
        path = f"items[{i}]"
        it = c.table(raw, path, _ITEM_KEYS, {"id", "title"})
        item_id = c.ident(it, "id", path)
        if item_id in item_ids:
            c.fail(f"{path}.id", f"duplicate item id {shown(item_id)}")
        item_ids.add(item_id)
        ballot_ids: list[str] = []
        for j, raw_b in enumerate(c.sized(it, "ballots", path, bounds.MAX_BALLOTS)):
            expanded = _expanded(raw_b, KINDS)
            for raw_one in expanded:
                # a title made from the written one and a nominee's name and post
                generated = isinstance(raw_b, Mapping) and raw_one.get("title") != raw_b.get("title")
                spec = _ballot(
                    c, raw_one, f"{path}.ballots[{j}]", item_id, default_rule, KINDS, default_reveal, generated
                )
                if spec is None:
                    continue
                if spec.id in ballots:
                    c.fail(f"{path}.ballots[{j}].id", f"duplicate ballot id {shown(spec.id)}")
                ballots[spec.id] = spec
                ballot_ids.append(spec.id)
        doc_ids: list[str] = []
        for j, raw_d in enumerate(c.sized(it, "documents", path, bounds.MAX_DOCUMENTS)):
            doc = _document(c, raw_d, f"{path}.documents[{j}]", item_id, seen_ids)
            if doc.id in documents:
                c.fail(f"{path}.documents[{j}].id", f"duplicate document id {shown(doc.id)}")
            documents[doc.id] = doc
            doc_ids.append(doc.id)
        title = c.text(it, "title", path, "?")
        items.append(
            Item(item_id, title, tuple(ballot_ids), tuple(doc_ids), speaking_from_dict(c, it, "speaking", path))
        )
    if len(ballots) > bounds.MAX_BALLOTS:
        c.fail("items", f"may hold at most {bounds.MAX_BALLOTS} ballots in all, not {len(ballots)}")
    if len(documents) > bounds.MAX_DOCUMENTS:
        c.fail("items", f"may hold at most {bounds.MAX_DOCUMENTS} documents in all, not {len(documents)}")

    layout = layout_from_dict(c, top.get("layout"), seen_seats)
    if c.problems:
        raise AgendaError(c.problems, source)
    return Agenda(
        meeting, tuple(members), tuple(items), ballots, documents, quorum, source=data, speaking=speaking, layout=layout
    )


def ballot_from_dict(
    raw: Any, path: str, item_id: str, default_rule: Any = "majority_of_all", default_reveal: str = "on_close"
) -> BallotSpec:
    """Validate one ballot definition (agenda file or a clerk's ad hoc ballot)."""
    from .kinds import KINDS

    c = Checker()
    spec = _ballot(c, raw, path, item_id, default_rule, KINDS, default_reveal)
    if c.problems or spec is None:
        raise AgendaError(c.problems or [f"{path}: invalid ballot"], "ballot")
    return spec


def _expanded(raw: Any, kinds: Mapping[str, Any]) -> list[Any]:
    """A kind may turn one definition into several ballots (e.g. one per nominee)."""
    name = raw.get("kind", "motion") if isinstance(raw, Mapping) else None
    kind = kinds.get(name) if isinstance(name, str) else None
    expand = getattr(kind, "expand", None)
    return list(expand(dict(raw))) if expand else [raw]


def _reveal(c: Checker, data: Mapping[str, Any], path: str, default: str) -> str:
    value = c.typed(data, "reveal", path, str, default)
    if value not in REVEALS:
        c.fail(f"{path}.reveal", f"must be one of {', '.join(REVEALS)}, not {value!r}")
        return default
    return str(value)


def _ballot(
    c: Checker,
    raw: Any,
    path: str,
    item_id: str,
    default_rule: Any,
    kinds: Mapping[str, Any],
    default_reveal: str = "on_close",
    generated: bool = False,
) -> BallotSpec | None:
    kind_name = raw.get("kind", "motion") if isinstance(raw, Mapping) else "motion"
    if not isinstance(kind_name, str):
        c.fail(f"{path}.kind", f"must be a string naming a kind: {', '.join(kinds)}")
        return None
    kind = kinds.get(kind_name)
    extra = set(kind.PARAM_KEYS) if kind else set()
    b = c.table(raw, path, _BALLOT_KEYS | extra, {"id", "title"})
    if kind is None:
        c.fail(f"{path}.kind", f"unknown ballot kind {shown(kind_name)}; kinds: {', '.join(kinds)}")
        return None
    try:
        rule_value = b.get("rule", kind.DEFAULT_RULE or default_rule)
        rule = threshold_from_dict_or_preset(rule_value, "majority_of_all")
    except ValueError as exc:
        c.fail(f"{path}.rule", str(exc))
        rule = threshold_from_dict({})
    countdown = c.typed(b, "countdown", path, int, None)
    if countdown is not None and not 5 <= countdown <= 3600:
        c.fail(f"{path}.countdown", "must be between 5 and 3600 seconds")
    ballot_id = c.ident(b, "id", path)
    check_id = getattr(kind, "check_id", None)
    for problem in check_id(ballot_id) if check_id and "id" in b else ():
        c.fail(f"{path}.id", problem)
    params = {k: b[k] for k in kind.PARAM_KEYS if k in b}
    kind_problems = kind.check_params(params, rule)
    for problem in kind_problems:
        key, _, message = problem.partition(": ")
        c.fail(f"{path}.{key}", message)
    secret = c.typed(b, "secret", path, bool, kind.SECRET_BY_DEFAULT)
    live_counts = c.typed(b, "live_counts", path, bool, not secret)
    if secret and live_counts:
        # running counts beside the live list of who has voted would reveal each choice
        c.fail(f"{path}.live_counts", "a secret ballot cannot show live counts")
    # a generated title (appointment "each": title, name and post) was checked as written
    title_limit = bounds.MAX_TITLE + 2 * bounds.MAX_NAME + 20 if generated else bounds.MAX_TITLE
    return BallotSpec(
        id=ballot_id,
        item=item_id,
        title=c.text(b, "title", path, "?", title_limit),
        kind=kind_name,
        rule=rule,
        secret=secret,
        live_counts=live_counts,
        countdown=countdown,
        allow_change=c.typed(b, "allow_change", path, bool, True),
        certificate=c.typed(b, "certificate", path, bool, True),
        reveal=_reveal(c, b, path, default_reveal),
        # normalized only when the kind found nothing wrong: a kind's normalizer may rely on
        # what its checker established (a list where a list belongs), and a definition with
        # problems is refused whole anyway
        params=dict(params) if kind_problems else kind.normalize_params(params),
    )


def _document(c: Checker, raw: Any, path: str, item_id: str, member_ids: Mapping[str, str]) -> DocumentSpec:
    d = c.table(raw, path, _DOCUMENT_KEYS, {"id", "title", "file"})
    audience_raw = d.get("audience", "everyone")
    if isinstance(audience_raw, str):
        audience = (audience_raw,)
        if audience_raw not in AUDIENCES:
            c.fail(f"{path}.audience", f"must be one of {', '.join(AUDIENCES)} or a list of member ids")
    elif isinstance(audience_raw, list) and all(isinstance(x, str) for x in audience_raw) and audience_raw:
        audience = tuple(audience_raw[: bounds.MAX_MEMBERS])
        unknown = [who for who in audience if who not in member_ids]
        if unknown:
            c.fail(f"{path}.audience", f"unknown member id {', '.join(shown(who) for who in unknown[:5])}")
    else:
        c.fail(f"{path}.audience", "must be one of everyone, members, observers or a list of member ids")
        audience = ("everyone",)
    classification = c.typed(d, "classification", path, str, "public")
    if classification not in CLASSIFICATIONS:
        c.fail(f"{path}.classification", f"must be one of {', '.join(CLASSIFICATIONS)}")
    return DocumentSpec(
        id=c.ident(d, "id", path),
        item=item_id,
        title=c.text(d, "title", path, "?"),
        file=c.text(d, "file", path, "?"),
        audience=audience,
        classification=classification,
    )
