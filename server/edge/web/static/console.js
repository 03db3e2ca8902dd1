// The clerk console: attendance and quorum, the agenda, ballot control, live progress,
// results. It logs in by cookie, gets a WebSocket token minted for the session, and then
// speaks the protocol like any other client (docs/protocol.md, docs/screens.md).

import { Connection, clock } from "/static/seat/lib/protocol.js";
import * as i18n from "/static/seat/lib/i18n.js";
import { t, tOr, num, date, time, clockText, errorText } from "/static/seat/lib/i18n.js";
import { h, mount, statusBadge, optionLabel, resultView, ruleText } from "/static/seat/lib/dom.js";

const $ = (id) => document.getElementById(id);
let csrf = null;
let conn = null;
let selected = null; // ballot id the clerk is looking at
let busy = false;
let countdownValue = null; // what the clerk typed, kept across re-renders
let linesDown = new Set(); // keypad lines shown down at the last render: their return is announced

async function api(path, body) {
  const res = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body || {}),
  });
  if (res.status === 401) {
    location.replace("/console/login");
    throw new Error("not logged in");
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(data.message || res.status), { code: data.error });
  return data;
}

async function session() {
  const res = await fetch("/api/console/session", { cache: "no-store" });
  if (res.status === 401) {
    location.replace("/console/login");
    return null;
  }
  const data = await res.json();
  csrf = data.csrf;
  return data;
}

function toast(text, kind = "info") {
  const el = h("div", { class: `toast toast-${kind}` }, text);
  $("toasts").append(el);
  setTimeout(() => el.remove(), kind === "error" ? 9000 : 4000);
}

/** A confirmation for irreversible steps; resolves to null (cancelled) or the reason text. */
function confirmStep(text, okLabel, withReason = false) {
  const dlg = $("confirm");
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = okLabel;
  $("confirm-reason").value = "";
  $("confirm-reason").classList.toggle("hidden", !withReason);
  $("confirm-reason-label").classList.toggle("hidden", !withReason);
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok" ? $("confirm-reason").value : null), { once: true });
    dlg.returnValue = "cancel";
    dlg.showModal();
    $("confirm-cancel").focus();
  });
}

async function command(name, args, doneText) {
  if (busy) return;
  busy = true;
  render();
  try {
    const ok = await conn.command(name, args);
    if (doneText) toast(doneText, "ok");
    for (const w of ok.warnings || []) toast(tOr(`warning.${w.code}`, w.message, { seats: (w.seats || []).join(", ") }), "error");
  } catch (err) {
    toast(errorText(err), "error");
  } finally {
    busy = false;
    render();
  }
}

// -- agenda ---------------------------------------------------------------------------------
function renderAgenda() {
  const s = conn.state;
  mount($("agenda"), s.snap.items.map((item) => {
    const current = s.snap.current_item === item.id;
    return h("div", { class: `item${current ? " current" : ""}`, "data-item": item.id },
      h("div", { class: "item-head" },
        h("span", { class: "item-title" }, item.title),
        current ? h("span", { class: "tag tag-current" }, t("console.current_item"))
          : h("button", { class: "btn small", id: `item-${item.id}`, disabled: busy, onclick: () => command("select_item", { item: item.id }) }, t("console.select_item"))),
      h("ul", { class: "ballots" }, item.ballots.map((id) => {
        const b = s.ballot(id);
        if (!b) return null;
        return h("li", {}, h("button", {
          class: `ballot-link${selected === id ? " selected" : ""}`, "data-ballot": id, id: `ballot-${id}`, "aria-current": selected === id ? "true" : null,
          onclick: () => {
            selected = id;
            render();
          },
        }, h("span", {}, b.title), h("span", { class: `status status-${b.status}` }, t(`status.${b.status}`))));
      })));
  }));
}

// -- ballot control -------------------------------------------------------------------------
function pickBallot() {
  const s = conn.state;
  const live = s.liveBallot();
  if (live && (!selected || s.ballot(selected)?.status === "draft")) return live.id;
  if (selected && s.ballot(selected)) return selected;
  if (live) return live.id;
  const item = s.currentItem();
  return item && item.ballots.length ? item.ballots[0] : s.snap.ballots[0]?.id;
}

function renderBallot() {
  const s = conn.state;
  selected = pickBallot();
  const b = selected ? s.ballot(selected) : undefined;
  if (!b) {
    mount($("ballot"), h("p", { class: "muted" }, t("console.no_ballots")));
    return;
  }
  const live = s.liveBallot();
  const other = live && live.id !== b.id;
  const controls = [];
  const act = (label, name, extra = {}, cls = "btn", id = null) =>
    h("button", { class: cls, id, disabled: busy, onclick: () => command(name, { ballot: b.id, ...extra }, null) }, label);
  if (b.status === "draft" || b.status === "voided") {
    const input = h("input", {
      id: "countdown-input", type: "number", min: 5, max: 3600, step: 5, value: countdownValue ?? b.countdown ?? "",
      placeholder: t("console.no_countdown"), "aria-describedby": "countdown-help",
      oninput: (ev) => { countdownValue = ev.target.value; },
    });
    controls.push(h("div", { class: "field" },
      h("label", { for: "countdown-input" }, t("console.countdown_seconds")), input,
      h("span", { id: "countdown-help", class: "muted" }, t("console.countdown_help"))));
    controls.push(h("button", {
      class: "btn primary", id: "open-ballot", disabled: busy || other,
      onclick: () => {
        const args = { ballot: b.id };
        if (input.value) args.countdown = parseInt(input.value, 10);
        countdownValue = null;
        command("open_ballot", args, t("console.done_open"));
      },
    }, b.status === "voided" ? t("console.rerun") : t("console.open")));
    if (other) controls.push(h("p", { class: "muted" }, t("console.another_open", { title: live.title })));
  }
  if (b.status === "open") controls.push(act(t("console.hold"), "hold_ballot", {}, "btn", "hold-ballot"));
  if (b.status === "held") controls.push(act(t("console.resume"), "resume_ballot", {}, "btn primary", "resume-ballot"));
  if (b.status === "open" || b.status === "held") {
    controls.push(h("button", {
      class: "btn primary danger", id: "close-ballot", disabled: busy,
      onclick: async () => {
        if ((await confirmStep(t("console.confirm_close", { title: b.title }), t("console.close"))) !== null) {
          command("close_ballot", { ballot: b.id }, t("console.done_close"));
        }
      },
    }, t("console.close")));
  }
  if (b.status === "closed") controls.push(act(t("console.announce"), "announce_ballot", {}, "btn primary", "announce-ballot"));
  if (b.result && (b.status === "closed" || b.status === "announced")) {
    // The print stylesheet (console.css) keeps the meeting, this ballot and its result only.
    controls.push(h("button", { class: "btn", id: "print-result", type: "button", onclick: () => window.print() }, t("console.print_result")));
  }
  if (b.status === "closed" && b.result && b.result.verdict === "further_round_needed") {
    controls.push(act(t("console.further_round"), "create_further_round", {}, "btn", "further-round"));
  }
  if (["open", "held", "closed", "announced"].includes(b.status)) {
    controls.push(h("button", {
      class: "btn danger", id: "void-ballot", disabled: busy,
      onclick: async () => {
        const reason = await confirmStep(t("console.confirm_void", { title: b.title }), t("console.void"), true);
        if (reason !== null) command("void_ballot", { ballot: b.id, reason }, t("console.done_void"));
      },
    }, t("console.void")));
  }

  const parts = [
    h("div", { class: "bhead" },
      h("div", {},
        h("div", { class: "muted" }, t(`kind.${b.kind}`), " · ", b.secret ? t("ballot.secret") : t("ballot.named"),
          b.run ? ` · ${t("console.run", { n: b.run })}` : ""),
        h("h3", { class: "btitle", id: "ballot-title" }, b.title)),
      h("span", { class: `status status-${b.status}`, id: "ballot-status", "data-status": b.status }, t(`status.${b.status}`))),
    h("p", { class: "muted" }, ruleText(b.rule)),
    h("div", { class: "controls" }, controls),
  ];
  if (b.status === "open" || b.status === "held") parts.push(progressView(b));
  if (b.result && (b.status === "closed" || b.status === "announced")) {
    parts.push(h("h4", {}, t("console.result")), h("div", { id: "result" }, resultView(b.result)));
    if (b.choices && Object.keys(b.choices).length) parts.push(namedAnnex(b));
  }
  if (b.status === "voided" && b.reason) parts.push(h("p", { class: "muted" }, t("console.voided_reason", { reason: b.reason })));
  if ((b.previous_runs || []).length) {
    parts.push(h("details", {}, h("summary", {}, t("console.previous_runs", { n: b.previous_runs.length })),
      b.previous_runs.map((r) => h("div", { class: "prev" }, h("b", {}, t("console.run", { n: r.run })), " ",
        t(`status.${r.status}`), r.result ? resultView(r.result, { detail: false }) : null))));
  }
  mount($("ballot"), parts);
}

function progressView(b) {
  const s = conn.state;
  const { voted, present, live } = s.turnout(b);
  const pct = present ? Math.min(100, (100 * voted) / present) : 0;
  const parts = [
    h("div", { class: "progress-head" },
      h("span", { class: "big", id: "progress-count" }, t("progress.voted_of", { voted, present })),
      h("span", { class: "countdown", id: "countdown", "data-deadline": b.deadline ?? "", "data-remaining": b.remaining ?? "" })),
    h("div", { class: "meter", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": present, "aria-valuenow": voted },
      h("span", { style: { width: `${pct}%` } })),
  ];
  if (b.status === "held") parts.push(h("p", { class: "state-held" }, t("console.held_note")));
  if (live) parts.push(resultView({ kind: b.kind, lines: live }, { detail: false, live: true }));
  if (!b.secret) {
    const voters = new Set(b.voters || []);
    const missing = s.snap.members.filter((m) => m.votes && s.snap.attendance[m.id] === "present" && !voters.has(m.id));
    parts.push(h("div", { class: "not-voted" },
      h("h4", {}, t("progress.not_yet", { n: missing.length })),
      h("ul", { id: "not-voted" }, missing.map((m) => h("li", {}, `${m.seat} ${m.name}`)))));
  }
  return h("div", { class: "progress" }, parts);
}

function namedAnnex(b) {
  const s = conn.state;
  const text = (c) => (typeof c === "string" ? optionLabel(c) : JSON.stringify(c));
  return h("details", {}, h("summary", {}, t("console.named_annex")),
    h("table", { class: "annex" }, h("tbody", {}, Object.entries(b.choices).map(([mid, c]) => {
      const m = s.memberById(mid);
      return h("tr", {}, h("td", {}, m ? m.seat : ""), h("td", {}, m ? m.name : mid), h("td", {}, text(c)));
    }))));
}

// -- attendance -----------------------------------------------------------------------------
/** Keypad lines that are down: one notice each, which also explains their seats' markers. */
function downLines() {
  const lines = conn.state.snap.keypad_lines || {};
  return Object.entries(lines).filter(([, l]) => !l.online).map(([name, l]) => ({ name, ...l }));
}

function lineText(line) {
  const reason = tOr(`keypad_line.${line.reason}`, line.reason) + (line.detail ? ` (${line.detail})` : "");
  return t("console.keypad_line_down", { line: line.name, seats: num(line.seats.length), reason });
}

/** Re-mounted at every render, so it is not a live region: the change is announced once, by a toast. */
function lineNotice(line) {
  return h("div", { class: "kp-line-down", id: `kp-line-${line.name}`, "data-line": line.name }, lineText(line));
}

/** The seat's keypad marker: its line's notice explains it, else the unit's own state. */
function keypadMarker(seat, keypads, lineOf) {
  const line = lineOf.get(seat);
  if (line) {
    const text = t("console.keypad_line_off");
    return { text, label: `${text} (${line.name})`, el: h("span", { class: "kp-off kp-line", title: line.name, "data-line": line.name }, text) };
  }
  if (keypads[seat] === false) {
    const text = t("console.keypad_offline");
    return { text, label: text, el: h("span", { class: "kp-off", title: text }, text) };
  }
  return null;
}

function renderAttendance() {
  const s = conn.state;
  const sum = s.summary();
  const keypads = s.snap.keypads || {};
  const down = downLines();
  const lineOf = new Map(down.flatMap((l) => l.seats.map((seat) => [seat, l])));
  const tiles = s.snap.members.map((m) => {
    const status = s.snap.attendance[m.id] || "absent";
    const kp = keypadMarker(m.seat, keypads, lineOf);
    return h("button", {
      class: `seat seat-${status}${m.votes ? "" : " observer"}`, "data-member": m.id, "data-status": status, id: `seat-${m.id}`,
      "aria-label": `${m.seat} ${m.name}: ${t(`attendance.${status}`)}${kp ? `, ${kp.label}` : ""}`,
      onclick: () => seatDialog(m, status),
    }, h("span", { class: "seat-no" }, m.seat), h("span", { class: "seat-name" }, m.name),
      h("span", { class: "seat-st" }, t(`attendance.${status}`)),
      kp ? kp.el : null);
  });
  mount($("attendance"),
    h("div", { id: "keypad-lines" }, down.map(lineNotice)),
    h("div", { class: "summary", id: "summary" },
      h("span", {}, t("summary.seated"), " ", h("b", {}, num(sum.seated))),
      h("span", {}, t("summary.present"), " ", h("b", { id: "present-count" }, num(sum.present))),
      h("span", {}, t("summary.leave"), " ", h("b", {}, num(sum.leave))),
      h("span", {}, t("summary.absent"), " ", h("b", {}, num(sum.absent))),
      h("span", { class: sum.quorum_met ? "quorum-yes" : "quorum-no", id: "quorum" },
        sum.quorum_met ? t("summary.quorum_met") : t("summary.quorum_not_met", { needed: sum.quorum_needed }))),
    h("div", { class: "legend muted" }, t("console.seat_help")),
    h("div", { class: "seats" }, tiles));
}

function seatDialog(m, status) {
  const dlg = $("seat-dialog");
  $("seat-dialog-title").textContent = t("console.set_attendance_for", { seat: m.seat, name: m.name });
  const actions = ["present", "leave", "absent"].map((st) => h("button", {
    class: `btn${st === status ? " primary" : ""}`, value: st, "data-set": st,
  }, t(`attendance.${st}`)));
  mount($("seat-dialog-actions"), actions, h("button", { class: "btn", value: "cancel" }, t("console.cancel")));
  dlg.returnValue = "cancel";
  dlg.addEventListener("close", () => {
    const st = dlg.returnValue;
    if (st && st !== "cancel" && st !== status) command("set_attendance", { member: m.id, status: st }, null);
  }, { once: true });
  dlg.showModal();
}

// -- page -------------------------------------------------------------------------------------
function render() {
  mount($("conn"), statusBadge(conn.status));
  const s = conn.state;
  if (!s.ready) return;
  linesDown = new Set(downLines().map((l) => l.name));
  const focused = document.activeElement && document.activeElement.id; // keyboard users keep their place

  $("meeting-title").textContent = s.meeting.title;
  $("meeting-sub").textContent = [s.meeting.body, s.meeting.session, date(s.meeting.date)].filter(Boolean).join(" · ");
  document.title = `${s.meeting.title} — ${t("console.page")}`;
  renderAgenda();
  renderBallot();
  renderAttendance();
  if (focused && document.activeElement !== $(focused) && $(focused) && !$(focused).closest("dialog")) {
    $(focused).focus({ preventScroll: true });
  }
}

function tick() {
  const el = document.getElementById("countdown");
  if (!el) return;
  const left = clock.left(el);
  el.textContent = left === null ? "" : left > 0 ? t("ballot.remaining", { time: clockText(left) }) : t("ballot.time_up");
}

async function main() {
  const info = await clock.sync();
  await i18n.load(i18n.pick(info && info.language));
  i18n.translate();
  if (!(await session())) return;
  $("logout").addEventListener("click", async () => {
    await api("/api/console/logout");
    location.replace("/console/login");
  });
  const getToken = async () => {
    if (!csrf) await session();
    return (await api("/api/console/token")).token;
  };
  getToken.canRefresh = true;
  conn = new Connection({ getToken });
  conn.on(async (kind, detail) => {
    if (kind === "event" && detail.name === "keypad.line") {
      if (detail.online && linesDown.has(detail.line)) toast(t("console.keypad_line_back", { line: detail.line }), "ok");
      if (!detail.online && !linesDown.has(detail.line)) toast(lineText({ name: detail.line, ...detail }), "error");
    }
    if (kind === "welcome") {
      clock.sync();
      if (await i18n.load(i18n.pick(conn.state.meeting.language))) i18n.translate();
    }
    if (kind === "status" || kind === "change" || kind === "welcome") render();
  });
  render();
  conn.start();
  setInterval(tick, 250);
}

main();
