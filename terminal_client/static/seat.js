// The seat tablet: pair with a one-time code (#pair=CODE: a fragment never reaches the
// server's logs), which the server exchanges for a token of this tablet's own; check in,
// vote, see the vote recorded.
// A confirmation is shown only after the server's ack; a cast made offline waits in the
// connection's queue and is confirmed (or refused, in words) after reconnection.

import { Connection, ProtocolError, clock, newKey } from "/static/lib/protocol.js";
import * as i18n from "/static/lib/i18n.js";
import { t, tOr, num, clockText, errorText } from "/static/lib/i18n.js";
import { h, mount, statusBadge, resultView, ballotRuleText, ballotHeader, choiceText, words } from "/static/lib/dom.js";
import { paperFor } from "./paper.js";
import { startLibrary } from "./library.js";
import { floorCard } from "./floor.js";
import { tickTimers } from "/static/lib/floor.js";

const STORE = "hemicycle.seat";
const DISCREET = "hemicycle.discreet";
const $ = (id) => document.getElementById(id);

let conn = null;
let identity = null; // {role, seat, member, name, token, device}
const ui = new Map(); // "ballot:run" -> {phase, choice, error, editing}
const drafts = new Map(); // "ballot:run" -> draft paper
const signatures = new Map();
let checkingIn = false;

function runKey(b) {
  return `${b.id}:${b.run}`;
}

function notice(text) {
  const el = $("notice");
  el.textContent = text;
  el.classList.remove("hidden");
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => el.classList.add("hidden"), 6000);
}

function loadIdentity() {
  try {
    const data = JSON.parse(localStorage.getItem(STORE) || "null");
    return data && data.token ? data : null;
  } catch {
    return null;
  }
}

async function pairWith(code) {
  const res = await fetch("/api/pair", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code }),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw Object.assign(new ProtocolError(data.error || "pair_failed", data.message || `HTTP ${res.status}`),
      { retryAfter: data.retry_after });
  }
  if (data.role !== "seat") throw new ProtocolError("wrong_role", "this code does not pair a seat");
  localStorage.setItem(STORE, JSON.stringify(data));
  return data;
}

// -- pairing screens ----------------------------------------------------------------------
function showPairing(problem) {
  $("seat-label").textContent = "";
  mount($("conn"));
  $("item-card").classList.add("hidden");
  $("floor-card").classList.add("hidden");
  $("attendance-card").classList.add("hidden");
  const input = h("input", { id: "pair-code", autocomplete: "off", "aria-label": t("seat.pair_code"), maxlength: 64 });
  const form = h("form", {
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        identity = await pairWith(input.value);
        start();
      } catch (err) {
        showPairing(err);
      }
    },
  }, input, h("button", { class: "btn primary touch", type: "submit" }, t("seat.pair_button")));
  mount($("ballot-card"), h("div", { class: "pairing" },
    h("h2", {}, t("seat.pairing")),
    problem ? h("div", { class: "state state-refused", id: "pair-error", "data-code": problem.code || "" }, pairError(problem)) : null,
    h("p", {}, t("seat.not_paired")),
    form));
}

function pairError(err) {
  return tOr(`pair.${err.code}`, errorText(err), { seconds: err.retryAfter ?? 60 });
}

// -- rendering ------------------------------------------------------------------------------
function render() {
  const s = conn.state;
  mount($("conn"), statusBadge(conn.status));
  if (conn.status === "refused") {
    localStorage.removeItem(STORE);
    showPairing({ code: "token_refused" });
    return;
  }
  if (!s.ready) {
    $("seat-label").textContent = identity ? t("seat.label", { seat: identity.seat, name: identity.name }) : "";
    mount($("ballot-card"), h("div", { class: "state state-idle" }, t("conn.connecting")));
    return;
  }
  const meeting = s.meeting;
  mount($("meeting-title"), words(meeting.title));
  document.title = `${meeting.title} — ${t("seat.page")}`;
  const me = s.memberById(s.member);
  $("seat-label").textContent = t("seat.label", { seat: s.seat, name: me ? me.name : "" });
  $("item-card").classList.remove("hidden");
  $("attendance-card").classList.remove("hidden");
  $("library-card").classList.remove("hidden");
  renderCard("item-card", renderItem);
  renderCard("attendance-card", renderAttendance);
  $("floor-card").classList.remove("hidden");
  renderCard("floor-card", () => floorCard(conn, notice, render));
  renderCard("ballot-card", renderBallot);
}

/** Re-render a card only when what it shows changed (keeps focus and typing intact). */
function renderCard(id, fn, force = false) {
  const [sig, build] = fn();
  if (!force && signatures.get(id) === sig) return;
  signatures.set(id, sig);
  mount($(id), build());
}

function renderItem() {
  const s = conn.state;
  const item = s.currentItem();
  const sig = JSON.stringify([i18n.language(), item && item.id, s.snap.closed]);
  return [sig, () => [
    h("h2", {}, t("seat.current_item")),
    h("div", { class: "item-title", id: "item-title" }, item ? words(item.title) : t("seat.no_item")),
    s.snap.closed ? h("div", { class: "state state-closed" }, t("sitting.closed")) : null,
  ]];
}

function renderAttendance() {
  const s = conn.state;
  const status = s.snap.attendance[s.member] || "absent";
  const me = s.memberById(s.member);
  const sum = s.summary();
  const sig = JSON.stringify([i18n.language(), status, sum, checkingIn, conn.status]);
  return [sig, () => [
    h("h2", {}, t("seat.attendance")),
    h("div", {}, t("seat.my_status"), " ", h("span", { class: "mystatus", id: "my-status", "data-status": status }, t(`attendance.${status}`))),
    sum ? h("div", { id: "summary" },
      h("span", { class: "big-number" }, t("summary.present_of", { present: sum.present, seated: sum.seated })), " ",
      h("span", { class: sum.quorum_met ? "quorum-yes" : "quorum-no" },
        sum.quorum_met ? t("summary.quorum_met") : t("summary.quorum_not_met", { needed: sum.quorum_needed }))) : null,
    status !== "present" && !s.snap.closed ? h("button", {
      class: "btn primary touch checkin", id: "check-in", disabled: checkingIn,
      onclick: async () => {
        checkingIn = true;
        render();
        try {
          await conn.checkIn();
        } catch (err) {
          notice(errorText(err));
        } finally {
          checkingIn = false;
          render();
        }
      },
    }, checkingIn ? t("seat.checking_in") : t("seat.check_in")) : null,
    me && !me.votes ? h("p", { class: "muted" }, t("seat.observer")) : null,
  ]];
}

function shownBallot() {
  const s = conn.state;
  const live = s.liveBallot();
  if (live) return live;
  if (s.lastClosed) return s.ballot(s.lastClosed.ballot);
  return undefined;
}

function renderBallot() {
  const s = conn.state;
  const b = shownBallot();
  const discreet = localStorage.getItem(DISCREET) === "1";
  if (!b) {
    return [JSON.stringify([i18n.language(), "none"]), () => [
      h("h2", {}, t("seat.ballot")), h("div", { class: "state state-idle", id: "ballot-state" }, t("seat.no_ballot"))]];
  }
  const key = runKey(b);
  const u = ui.get(key) || { phase: "idle" };
  const mine = b.mine ? b.mine[s.member] : undefined;
  const status = s.snap.attendance[s.member];
  const sig = JSON.stringify([i18n.language(), b.id, b.run, b.status, mine, u, status, discreet, conn.status,
    b.result ? b.result.verdict : null, s.memberById(s.member).votes]);
  return [sig, () => ballotView(b, u, mine, discreet)];
}

function ballotView(b, u, mine, discreet) {
  const s = conn.state;
  const me = s.memberById(s.member);
  const live = b.status === "open" || b.status === "held";
  const head = h("div", { class: "bhead" },
    h("div", {},
      h("h2", { id: "ballot-kind" }, ballotHeader(b, { secrecy: false })), // secrecy is a tag beside it
      h("p", { class: "btitle", id: "ballot-title" }, words(b.title))),
    h("div", { class: "tags" },
      h("span", { class: "tag" }, b.secret ? t("ballot.secret") : t("ballot.named")),
      b.allow_change ? h("span", { class: "tag" }, t("ballot.changeable")) : null,
      live ? h("span", { class: "countdown", id: "countdown", "data-deadline": b.deadline ?? "", "data-remaining": b.remaining ?? "" }) : null));
  const parts = [head];
  const recordedChoice = u.phase === "recorded" ? u.choice : mine && mine.choice !== undefined ? mine.choice : undefined;
  const recorded = u.phase === "recorded" || (mine && mine.recorded);
  const recordedText = () => {
    if (discreet || recordedChoice === undefined || recordedChoice === null) return t("seat.recorded");
    return t("seat.recorded_choice", { choice: choiceText(b, recordedChoice) });
  };

  if (!live) {
    // reveal = "on_announce": the server gives the room the result with the announcement
    const awaiting = b.status === "closed" && !b.result;
    parts.push(h("div", { class: "state state-closed", id: "ballot-state", "data-state": awaiting ? "awaiting" : "closed" },
      b.status === "voided" ? t("seat.ballot_voided") : awaiting ? t("seat.awaiting_announcement") : t("seat.ballot_closed")));
    if (recorded) parts.push(h("div", { class: "state state-recorded", id: "vote-state", "data-state": "recorded" }, recordedText()));
    if (b.result && (b.status === "closed" || b.status === "announced")) parts.push(resultView(b.result, { detail: false }));
    return parts;
  }
  if (!me.votes) {
    parts.push(h("div", { class: "state state-idle", id: "ballot-state" }, t("seat.observer")));
    return parts;
  }
  if (s.snap.attendance[s.member] !== "present") {
    parts.push(h("div", { class: "state state-held", id: "ballot-state", "data-state": "not_checked_in" }, t("seat.check_in_to_vote")));
    return parts;
  }
  if (b.status === "held") {
    parts.push(h("div", { class: "state state-held", id: "ballot-state", "data-state": "held" }, t("seat.ballot_held")));
  }
  if (u.phase === "sending" || u.phase === "queued") {
    const offline = conn.status !== "online";
    parts.push(h("div", { class: `state state-${offline ? "queued" : "sending"}`, id: "vote-state", "data-state": offline ? "queued" : "sending" },
      offline ? t("seat.queued", { choice: choiceText(b, u.choice) }) : t("seat.sending", { choice: choiceText(b, u.choice) })));
    return parts;
  }
  if (recorded && !u.editing) {
    parts.push(h("div", { class: "state state-recorded", id: "vote-state", "data-state": "recorded" }, recordedText()));
    if (b.allow_change && b.status === "open") {
      parts.push(h("div", { class: "submit-row" }, h("button", {
        class: "btn touch", id: "change-vote", onclick: () => setUi(b, { ...u, editing: true, error: null }),
      }, t("seat.change_vote"))));
    }
    if (b.secret) parts.push(discreetToggle(discreet));
    return parts;
  }
  if (u.phase === "refused" && u.error) {
    parts.push(h("div", { class: "state state-refused", id: "vote-state", "data-state": "refused", "data-code": u.error.code },
      t("seat.refused", { reason: errorText(u.error) })));
  }
  const paper = paperFor(b);
  if (!paper) {
    parts.push(h("div", { class: "state state-idle", id: "ballot-state", "data-state": "unsupported" }, t("seat.unsupported")));
    return parts;
  }
  const key = runKey(b);
  if (!drafts.has(key)) drafts.set(key, paper.empty());
  const disabled = b.status !== "open";
  parts.push(paper.render({
    draft: drafts.get(key), disabled, t, num,
    update: (draft) => {
      drafts.set(key, draft);
      signatures.delete("ballot-card");
      render();
    },
    submit: (choice) => vote(b, choice),
    quick: b.allow_change, // a changeable motion is cast with one tap; otherwise tap, then confirm
  }));
  if (u.editing) {
    parts.push(h("div", { class: "submit-row" },
      h("button", { class: "btn touch", onclick: () => setUi(b, { ...u, editing: false }) }, t("seat.keep_vote"))));
  }
  if (b.secret) parts.push(discreetToggle(discreet));
  parts.push(h("p", { class: "hint", id: "ballot-rule" }, ballotRuleText(b)));
  return parts;
}

function discreetToggle(discreet) {
  return h("label", { class: "discreet" },
    h("input", {
      type: "checkbox", id: "discreet", checked: discreet,
      onchange: (ev) => {
        localStorage.setItem(DISCREET, ev.target.checked ? "1" : "0");
        render();
      },
    }), t("seat.discreet"));
}

function setUi(b, value) {
  ui.set(runKey(b), value);
  render();
}

async function vote(b, choice) {
  const key = runKey(b);
  setUi(b, { phase: conn.status === "online" ? "sending" : "queued", choice });
  try {
    const ack = await conn.cast(b.id, choice, newKey());
    // a named ballot's ack echoes the choice as recorded: confirm that, not our copy
    ui.set(key, { phase: "recorded", choice: "choice" in ack ? ack.choice : choice, seq: ack.seq });
    drafts.delete(key);
  } catch (err) {
    ui.set(key, { phase: "refused", choice, error: err, editing: ui.get(key)?.editing });
  }
  render();
}

function tick() {
  tickTimers();
  const el = document.getElementById("countdown");
  if (!el) return;
  const left = clock.left(el);
  if (left === null) {
    el.textContent = "";
    return;
  }
  el.textContent = left > 0 ? t("ballot.remaining", { time: clockText(left) }) : t("ballot.time_up");
  el.classList.toggle("low", left <= 10);
}

// -- start ------------------------------------------------------------------------------------
function start() {
  const token = identity.token;
  const getToken = async () => token;
  conn = new Connection({ getToken });
  startLibrary(conn, { token, notice, card: $("library-card"), readerRoot: $("reader") });
  conn.on(async (kind) => {
    if (kind === "welcome") {
      clock.sync();
      const wanted = i18n.pick(conn.state.meeting && conn.state.meeting.language);
      if (await i18n.load(wanted)) signatures.clear();
      render();
    } else if (kind === "status" || kind === "change") {
      render();
    }
  });
  render();
  conn.start();
}

async function main() {
  // the page and its modules stay loadable with the Wi-Fi down (sw.js; secure contexts only)
  if ("serviceWorker" in navigator && window.isSecureContext) navigator.serviceWorker.register("/seat-sw.js", { scope: "/seat" }).catch(() => {});
  const info = await clock.sync();
  await i18n.load(i18n.pick(info && info.language));
  i18n.translate();
  const params = new URLSearchParams(location.search);
  // the sheet's QR codes carry the code in the fragment; "?pair=" is read for sheets printed before
  const code = new URLSearchParams(location.hash.slice(1)).get("pair") || params.get("pair");
  const clean = () => history.replaceState(null, "", "/seat" + (params.get("lang") ? `?lang=${params.get("lang")}` : ""));
  identity = loadIdentity();
  if (code) {
    clean(); // a reload must not try the used code again
    try {
      identity = await pairWith(code);
    } catch (err) {
      if (!identity) {
        showPairing(err);
        return;
      }
      notice(pairError(err)); // already paired: say so, carry on with the stored seat
    }
  }
  if (!identity) {
    showPairing(null);
    return;
  }
  start();
}

setInterval(tick, 250);
main();
