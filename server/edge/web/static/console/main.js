// The clerk console: logs in by cookie, gets a WebSocket token minted for the session, then
// speaks the protocol like any other client (docs/protocol.md, docs/screens.md). Each part of
// the page is its own module (agenda, ballot, attendance, …) rendering from the shared state.

import { Connection, clock } from "/static/lib/protocol.js";
import * as i18n from "/static/lib/i18n.js";
import { t, date, clockText, joined } from "/static/lib/i18n.js";
import { h, mount, statusBadge, words } from "/static/lib/dom.js";
import { ui } from "./ui.js";
import { renderAgenda } from "./agenda.js";
import { renderBallot, followEvent } from "./ballot.js";
import { renderAttendance, downLines, lineText } from "./attendance.js";
import { renderDocuments, followDocuments } from "./documents.js";
import { renderFloor } from "./floor.js";
import { tickTimers } from "/static/lib/floor.js";
import { followHead, renderHead } from "./head.js";
import { renderPaper } from "./paper.js";
import { followServer, renderServer } from "./server.js";

const $ = (id) => document.getElementById(id);

/** The panels, in page order: each renders itself from `ui.conn.state`. */
const PANELS = [renderServer, renderAgenda, renderFloor, renderBallot, renderAttendance, renderPaper, renderHead, renderDocuments];
let linesDown = new Set(); // keypad lines shown down at the last render: their return is announced

async function session() {
  const res = await fetch("/api/console/session", { cache: "no-store" });
  if (res.status === 401) {
    location.replace("/console/login");
    return null;
  }
  const data = await res.json();
  ui.csrf = data.csrf;
  return data;
}

function render() {
  mount($("conn"), statusBadge(ui.conn.status));
  const s = ui.conn.state;
  if (!s.ready) return;
  linesDown = new Set(downLines().map((l) => l.name));
  const focused = document.activeElement && document.activeElement.id; // keyboard users keep their place
  mount($("meeting-title"), words(s.meeting.title));
  $("meeting-sub").textContent = joined([s.meeting.body, s.meeting.session, date(s.meeting.date)], "dot");
  document.title = `${s.meeting.title} — ${t("console.page")}`;
  for (const panel of PANELS) panel();
  if (focused && document.activeElement !== $(focused) && $(focused) && !$(focused).closest("dialog")) {
    $(focused).focus({ preventScroll: true });
  }
}

/* A render rebuilds the panels (their buttons are new elements). A click is a press and a
 * release on one element: if a vote's progress re-rendered the panel between the two, the
 * clerk's click on "Close ballot" was lost — in a full room, events arrive many times a
 * second. So while a pointer is down the page is not rebuilt; it catches up on release. */
let pressed = false;
let missed = false;
let catchUp = null;
/** A press held longer than this (or a release the page never saw: the window lost focus)
 * stops holding renders back: the console must not freeze on a stuck button. */
const HOLD_MS = 5000;

function renderSoon() {
  if (!pressed) return render();
  missed = true;
  catchUp ??= setTimeout(released, HOLD_MS);
}

function released() {
  pressed = false;
  clearTimeout(catchUp);
  catchUp = null;
  if (missed) {
    missed = false;
    render();
  }
}

function holdRendersWhilePressed() {
  document.addEventListener("pointerdown", () => { pressed = true; }, true);
  // after the click this release makes has been dispatched to the element pressed
  const release = () => setTimeout(released, 0);
  document.addEventListener("pointerup", release, true);
  document.addEventListener("pointercancel", release, true);
  window.addEventListener("blur", release);
}

function tick() {
  tickTimers();
  const el = document.getElementById("countdown");
  if (!el) return;
  const left = clock.left(el);
  el.textContent = left === null ? "" : left > 0 ? t("ballot.remaining", { time: clockText(left) }) : t("ballot.time_up");
}

/** Pairing codes carry the public URL, else the address this browser used: warn when that is
 * this machine only, as no tablet on the room network could pair with it. */
function networkWarning(info) {
  const base = (info && info.public_url) || location.origin;
  const host = new URL(base).hostname.replace(/^\[|\]$/g, "");
  const loopback = host === "localhost" || host === "::1" || /^127\./.test(host);
  mount($("network-warning"), loopback
    ? h("div", { class: "warning-banner no-print", role: "alert", id: "loopback-warning" }, t("network.loopback_warning", { url: base }))
    : null);
}

async function main() {
  const info = await clock.sync();
  await i18n.load(i18n.pick(info && info.language));
  i18n.translate();
  networkWarning(info);
  if (!(await session())) return;
  $("logout").addEventListener("click", async () => {
    await ui.api("/api/console/logout");
    location.replace("/console/login");
  });
  const getToken = async () => {
    if (!ui.csrf) await session();
    ui.token = (await ui.api("/api/console/token")).token; // also the documents panel's, for HTTP
    return ui.token;
  };
  getToken.canRefresh = true;
  ui.conn = new Connection({ getToken });
  ui.render = render;
  ui.conn.on(async (kind, detail) => {
    if (kind === "event") followEvent(detail);
    if (kind === "event") followDocuments(detail);
    if (kind === "event" && detail.name === "keypad.line") {
      if (detail.online && linesDown.has(detail.line)) ui.toast(t("console.keypad_line_back", { line: detail.line }), "ok");
      if (!detail.online && !linesDown.has(detail.line)) ui.toast(lineText({ name: detail.line, ...detail }), "error");
    }
    if (kind === "welcome") {
      clock.sync();
      if (await i18n.load(i18n.pick(ui.conn.state.meeting.language))) i18n.translate();
    }
    if (kind === "status" || kind === "change" || kind === "welcome") renderSoon();
  });
  holdRendersWhilePressed();
  followServer();
  render();
  ui.conn.start();
  followHead();
  setInterval(tick, 250);
}

main();
