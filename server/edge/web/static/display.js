// The display wall: full-screen layouts that follow the sitting by themselves.
//   idle      sitting title, current item, attendance and quorum
//   ballot    in progress: countdown, voted / expected (never choices unless the ballot shows live counts)
//   result    per option counts and bars, the verdict in words; a table for many lines
//   floor     who has the floor, the timer, the next few waiting (display-floor.js)
//   closed    the sitting has ended
// ?mode=chair adds detail (rule, threshold, not voted); ?mode=attendance stays on attendance.
// A display pairs like a tablet: /display#pair=CODE (or the code typed in) is exchanged once
// for a token of its own, kept in this browser; the clerk can revoke it.

import { Connection, ProtocolError, clock } from "/static/lib/protocol.js";
import * as i18n from "/static/lib/i18n.js";
import { t, tOr, num, date, clockText, joined, errorText } from "/static/lib/i18n.js";
import { foldDocument } from "/static/lib/documents.js";
import { presented, documentLayout } from "./wall_document.js";
import { seatMap } from "/static/lib/seatmap.js";
import { h, mount, statusBadge, optionLabel, verdictLabel, countKeys, ballotRuleText, ballotHeader, words } from "/static/lib/dom.js";
import { tickTimers } from "/static/lib/floor.js";
import { floorLayout, floorTakesWall } from "./display-floor.js";

const STORE = "hemicycle.display";
const params = new URLSearchParams(location.search);
const mode = params.get("mode") || "auto";
let token = null;
let conn = null;
let lastSig = null;

function storedToken() {
  try {
    const data = JSON.parse(localStorage.getItem(STORE) || "null");
    return data && data.token ? data.token : null;
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
  if (data.role !== "display") throw new ProtocolError("wrong_role", "this code does not pair a display");
  localStorage.setItem(STORE, JSON.stringify({ token: data.token, device: data.device }));
  return data.token;
}

/** Not paired (or revoked): a code field, as on a tablet. */
function showPairing(problem) {
  mount(document.getElementById("conn"));
  const input = h("input", { id: "pair-code", autocomplete: "off", "aria-label": t("seat.pair_code"), maxlength: 64 });
  const form = h("form", {
    class: "d-pair-form",
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        token = await pairWith(input.value);
        start();
      } catch (err) {
        showPairing(err);
      }
    },
  }, input, h("button", { class: "btn primary", type: "submit" }, t("seat.pair_button")));
  mount(document.getElementById("screen"), h("section", { class: "layout layout-idle", "data-layout": "pairing" },
    h("h1", { class: "d-title" }, t("display.pairing")),
    problem ? h("div", { class: "d-pair-error", id: "pair-error", "data-code": problem.code || "" },
      tOr(`pair.${problem.code}`, errorText(problem), { seconds: problem.retryAfter ?? 60 })) : null,
    h("p", { class: "d-current" }, t("display.not_paired")),
    form));
  input.focus();
}

function layout() {
  const s = conn.state;
  if (!s.ready) return "connecting";
  if (s.snap.closed) return "closed";
  if (mode === "attendance") return "idle";
  if (s.liveBallot()) return "ballot";
  // the newer of a presented page and a speaker's turn has the wall
  const shown = presented(s);
  const speaking = s.snap.floor && s.snap.floor.speaker;
  if (shown && !(speaking && speaking.since > (s.snap.page.at || 0))) return "document";
  if (floorTakesWall(s)) return "floor";
  if (s.lastClosed) return "result";
  return "idle";
}

function header(s, sub) {
  return h("header", { class: "d-head" },
    h("div", { class: "d-body" }, joined([s.meeting.body, s.meeting.session], "dot")),
    sub ? h("div", { class: "d-item" }, words(sub)) : null);
}

/** ?mode=attendance on an agenda with a [layout]: the room as a seat map, coloured by status. */
function seatMapView(s, sum) {
  const tiles = s.snap.members.map((m) => {
    const status = s.snap.attendance[m.id] || "absent";
    return { seat: m.seat, el: h("div", { class: `d-seat d-seat-${status}${m.votes ? "" : " observer"}`, "data-member": m.id, "data-status": status },
      h("span", { class: "d-seat-no" }, m.seat), h("span", { class: "d-seat-name" }, m.name)) };
  });
  const { map, rest } = seatMap(s.snap.layout, tiles, "wall");
  return h("section", { class: "layout layout-map", "data-layout": "seatmap" },
    header(s, s.currentItem()?.title),
    h("div", { class: "d-att d-att-small", id: "d-attendance" },
      figure("summary.seated", sum.seated), figure("summary.present", sum.present, "present"),
      figure("summary.leave", sum.leave), figure("summary.absent", sum.absent),
      h("div", { class: `d-quorum ${sum.quorum_met ? "yes" : "no"}`, id: "d-quorum" },
        sum.quorum_met ? t("summary.quorum_met") : t("summary.quorum_not_met", { needed: sum.quorum_needed }))),
    map, rest.length ? h("div", { class: "d-seats" }, rest) : null);
}

function idle() {
  const s = conn.state;
  const item = s.currentItem();
  const sum = s.summary();
  if (mode === "attendance" && s.snap.layout) return seatMapView(s, sum);
  return h("section", { class: "layout layout-idle", "data-layout": "idle" },
    h("h1", { class: "d-title" }, words(s.meeting.title)),
    h("div", { class: "d-date" }, date(s.meeting.date)),
    item ? h("div", { class: "d-current" }, h("span", { class: "d-label" }, t("display.current_item")), h("span", { id: "d-item" }, words(item.title))) : null,
    h("div", { class: "d-att", id: "d-attendance" },
      figure("summary.seated", sum.seated),
      figure("summary.present", sum.present, "present"),
      figure("summary.leave", sum.leave),
      figure("summary.absent", sum.absent)),
    h("div", { class: `d-quorum ${sum.quorum_met ? "yes" : "no"}`, id: "d-quorum" },
      sum.quorum_met ? t("summary.quorum_met") : t("summary.quorum_not_met", { needed: sum.quorum_needed })));
}

function figure(key, value, cls = "") {
  return h("div", { class: `d-fig ${cls}` }, h("div", { class: "d-num" }, num(value)), h("div", { class: "d-cap" }, t(key)));
}

function ballotLayout() {
  const s = conn.state;
  const b = s.liveBallot();
  const { voted, present, live } = s.turnout(b);
  const pct = present ? Math.min(100, (100 * voted) / present) : 0;
  const parts = [
    header(s, s.item(b.item)?.title),
    h("div", { class: "d-kind", id: "d-kind" }, ballotHeader(b)),
    h("h1", { class: "d-btitle", id: "d-ballot-title" }, words(b.title)),
    b.status === "held" ? h("div", { class: "d-held", id: "d-held" }, t("display.held")) : null,
    h("div", { class: "d-progress" },
      h("div", { class: "d-count", id: "d-count", "data-voted": voted, "data-present": present },
        h("span", { class: "d-big" }, num(voted)), h("span", { class: "d-slash" }, t("sep.of")), h("span", { class: "d-big2" }, num(present))),
      h("div", { class: "d-cap" }, t("display.voted_of_expected")),
      h("div", { class: "d-countdown", id: "countdown", "data-deadline": b.deadline ?? "", "data-remaining": b.remaining ?? "" })),
    h("div", { class: "d-meter" }, h("span", { style: { width: `${pct}%` } })),
  ];
  if (live) parts.push(linesView({ kind: b.kind, lines: live }, false));
  if (mode === "chair") {
    parts.push(h("div", { class: "d-chair" },
      joined([ballotRuleText(b), t("display.not_voted_yet", { n: Math.max(0, present - voted) })], "dot")));
  }
  return h("section", { class: "layout layout-ballot", "data-layout": "ballot" }, parts);
}

function resultLayout() {
  const s = conn.state;
  const b = s.ballot(s.lastClosed.ballot);
  const r = b.result;
  if (!r) return awaiting(s, b);
  const single = r.lines.length === 1 && r.kind !== "score";
  const verdict = single ? r.lines[0].verdict : r.verdict;
  return h("section", { class: "layout layout-result", "data-layout": "result" },
    header(s, s.item(b.item)?.title),
    h("div", { class: "d-kind", id: "d-kind" }, ballotHeader(b)),
    h("h1", { class: "d-btitle" }, words(b.title)),
    verdict ? h("div", { class: `d-verdict verdict-${verdict}`, id: "d-verdict", "data-verdict": verdict }, verdictLabel(verdict)) : null,
    // the counts go with the verdict: a result nobody voted in is never a bare red word
    h("div", { class: `d-verdict-counts${r.voted ? "" : " d-nobody"}`, id: "d-verdict-counts" },
      t(r.voted ? "display.verdict_counts" : "display.nobody_voted", { voted: num(r.voted), present: num(r.present) })),
    linesView(r, true),
    h("div", { class: "d-figs" },
      small("result.seated", r.seated), small("result.present", r.present), small("result.voted", r.voted),
      small("result.not_voted", r.not_voted), r.invalid ? small("result.invalid", r.invalid) : null,
      mode === "chair" && single && r.lines[0].needed != null ? small("result.needed_short", r.lines[0].needed) : null),
    mode === "chair" ? h("div", { class: "d-chair" }, ballotRuleText(b)) : null);
}

/** reveal = "on_announce": closed, the result kept for the chair to announce. */
function awaiting(s, b) {
  return h("section", { class: "layout layout-result", "data-layout": "awaiting" },
    header(s, s.item(b.item)?.title),
    h("div", { class: "d-kind" }, ballotHeader(b)),
    h("h1", { class: "d-btitle" }, words(b.title)),
    h("div", { class: "d-awaiting", id: "d-awaiting" }, t("display.awaiting_announcement")));
}

function small(key, value) {
  return value === undefined || value === null ? null
    : h("span", { class: "d-small" }, t(key), " ", h("b", {}, num(value)));
}

/** One line: big bars. Several (appointments, elections, subjects): a table. */
function linesView(result, final) {
  const lines = result.lines || [];
  if (result.kind === "score") {
    return h("table", { class: "d-table" },
      h("thead", {}, h("tr", {}, h("th", {}, ""), ["score.mean", "score.median", "score.trimmed", "score.count"].map((k) => h("th", {}, t(k))))),
      h("tbody", {}, lines.map((l) => h("tr", {}, h("td", {}, words(l.label)),
        [l.mean, l.median, l.trimmed_mean, l.count].map((v) => h("td", { class: "n" }, v == null ? "—" : num(v)))))));
  }
  const keys = countKeys(lines);
  if (lines.length === 1) {
    const line = lines[0];
    const total = Math.max(1, ...keys.map((k) => line.counts[k] || 0), result.present || 0);
    return h("div", { class: "d-bars", id: "d-bars" }, keys.map((k) =>
      h("div", { class: `d-bar bar-${k}`, "data-option": k },
        h("span", { class: "d-bname" }, optionLabel(k)),
        h("span", { class: "d-track" }, h("span", { class: "bfill", style: { width: `${(100 * (line.counts[k] || 0)) / total}%` } })),
        h("span", { class: "d-bcount" }, num(line.counts[k] || 0)))));
  }
  return h("table", { class: "d-table", id: "d-lines" },
    h("thead", {}, h("tr", {}, h("th", {}, ""), keys.map((k) => h("th", {}, optionLabel(k))), final ? h("th", {}, t("display.verdict")) : null)),
    h("tbody", {}, lines.map((l) => h("tr", { "data-line": l.id },
      h("td", {}, words(l.label), l.write_in ? h("span", { class: "d-wi" }, t("result.write_in")) : null),
      keys.map((k) => h("td", { class: "n" }, l.counts[k] === undefined ? "" : num(l.counts[k]))),
      final ? h("td", {}, l.verdict ? h("span", { class: `verdict verdict-${l.verdict}` }, verdictLabel(l.verdict)) : "") : null))));
}

function closed() {
  const s = conn.state;
  return h("section", { class: "layout layout-idle", "data-layout": "closed" },
    h("h1", { class: "d-title" }, words(s.meeting.title)), h("div", { class: "d-current" }, t("sitting.closed")));
}

function render() {
  if (conn.status === "refused") { // revoked, or the server no longer knows this display
    localStorage.removeItem(STORE);
    conn.stop();
    showPairing({ code: "token_refused" });
    return;
  }
  const badge = document.getElementById("conn");
  if (conn.status === "online") mount(badge);
  else mount(badge, statusBadge(conn.status));
  document.body.dataset.conn = conn.status;
  const which = layout();
  const s = conn.state;
  if (which === "connecting") {
    mount(document.getElementById("screen"), h("section", { class: "layout layout-idle", "data-layout": "connecting" },
      h("div", { class: "d-current" }, t("conn.connecting"))));
    return;
  }
  document.title = `${s.meeting.title} — ${t("display.page")}`;
  const document_ = () => documentLayout(s, token, render);
  const floor = () => floorLayout(s, header);
  const view = { idle, ballot: ballotLayout, result: resultLayout, closed, floor, document: document_ }[which]();
  const sig = view.outerHTML;
  if (sig === lastSig) return;
  lastSig = sig;
  document.body.dataset.screen = which;
  mount(document.getElementById("screen"), view);
  tick();
}

function tick() {
  tickTimers();
  const el = document.getElementById("countdown");
  if (!el) return;
  const left = clock.left(el);
  el.textContent = left === null ? "" : left > 0 ? clockText(left) : t("ballot.time_up");
  el.classList.toggle("low", left !== null && left <= 10);
}

function start() {
  const getToken = async () => token;
  conn = new Connection({ getToken, freshWhenLive: true });
  conn.on(async (kind, detail) => {
    if (kind === "event") foldDocument(conn.state.snap, detail);
    if (kind === "welcome") {
      clock.sync();
      if (await i18n.load(i18n.pick(conn.state.meeting.language))) lastSig = null;
    }
    if (["status", "change", "welcome"].includes(kind)) render();
  });
  render();
  conn.start();
}

async function main() {
  const info = await clock.sync();
  await i18n.load(i18n.pick(info && info.language));
  setInterval(tick, 250);
  const code = new URLSearchParams(location.hash.slice(1)).get("pair");
  token = storedToken();
  if (code) {
    history.replaceState(null, "", location.pathname + location.search); // a reload must not try the used code again
    try {
      token = await pairWith(code);
    } catch (err) {
      if (!token) {
        showPairing(err);
        return;
      }
    }
  }
  if (!token) {
    showPairing(null);
    return;
  }
  start();
}

main();
