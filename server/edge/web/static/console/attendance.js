// Attendance: the summary and quorum, the seats with their status and keypad state; a seat
// opens a dialog to mark the member present, on leave or not checked in. In selection mode
// a seat toggles its selection instead, and the selected seats (or all not checked in) are
// marked in one command (set_attendance_many: one commit).

import { t, tOr, num, joined, pair, paren } from "/static/lib/i18n.js";
import { h, mount } from "/static/lib/dom.js";
import { seatMap } from "/static/lib/seatmap.js";
import { ui } from "./ui.js";

const $ = (id) => document.getElementById(id);

/** Keypad lines that are down: one notice each, which also explains their seats' markers. */
export function downLines() {
  const lines = ui.conn.state.snap.keypad_lines || {};
  return Object.entries(lines).filter(([, l]) => !l.online).map(([name, l]) => ({ name, ...l }));
}

export function lineText(line) {
  const why = tOr(`keypad_line.${line.reason}`, line.reason);
  const reason = line.detail ? paren(why, line.detail) : why;
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
    return { text, label: paren(text, line.name), el: h("span", { class: "kp-off kp-line", title: line.name, "data-line": line.name }, text) };
  }
  if (keypads[seat] === false) {
    const text = t("console.keypad_offline");
    return { text, label: text, el: h("span", { class: "kp-off", title: text }, text) };
  }
  return null;
}

/** The members picked for a bulk change; null when the clerk is not selecting. */
let picked = null;

function pickable(s) {
  return s.snap.members.filter((m) => m.votes || s.snap.attendance[m.id] === "present");
}

function bulkBar(s) {
  const { busy } = ui;
  const closed = s.snap.closed;
  const notIn = pickable(s).filter((m) => (s.snap.attendance[m.id] || "absent") === "absent").map((m) => m.id);
  const mark = (status) => async () => {
    const members = [...picked];
    const ok = await ui.command("set_attendance_many", { members, status },
      t("console.bulk_done", { n: num(members.length), status: t(`attendance.${status}`) }));
    if (ok) picked = null;
    ui.render();
  };
  if (picked === null) {
    return h("div", { class: "bulk no-print", id: "bulk" },
      h("button", { class: "btn small", id: "bulk-select", disabled: busy || closed, onclick: () => { picked = new Set(); ui.render(); } },
        t("console.bulk_select")),
      h("button", { class: "btn small", id: "bulk-not-checked-in", disabled: busy || closed || !notIn.length,
        onclick: () => { picked = new Set(notIn); ui.render(); } }, t("console.bulk_not_checked_in", { n: num(notIn.length) })));
  }
  return h("div", { class: "bulk selecting no-print", id: "bulk" },
    h("span", { id: "bulk-count" }, t("console.bulk_count", { n: num(picked.size) })),
    h("button", { class: "btn small", id: "bulk-all-not-in", disabled: busy, onclick: () => { picked = new Set(notIn); ui.render(); } },
      t("console.bulk_not_checked_in", { n: num(notIn.length) })),
    h("button", { class: "btn small primary", id: "bulk-present", disabled: busy || closed || !picked.size, onclick: mark("present") },
      t("console.bulk_mark", { status: t("attendance.present") })),
    h("button", { class: "btn small", id: "bulk-leave", disabled: busy || closed || !picked.size, onclick: mark("leave") },
      t("console.bulk_mark", { status: t("attendance.leave") })),
    h("button", { class: "btn small", id: "bulk-cancel", onclick: () => { picked = null; ui.render(); } }, t("console.cancel")));
}

export function renderAttendance() {
  const s = ui.conn.state;
  if (s.snap.closed) picked = null;
  const sum = s.summary();
  const keypads = s.snap.keypads || {};
  const down = downLines();
  const lineOf = new Map(down.flatMap((l) => l.seats.map((seat) => [seat, l])));
  const live = s.liveBallot();
  const voters = new Set(live ? live.voters || [] : []); // vote progress, seat by seat (the clerk's view)
  const tiles = s.snap.members.map((m) => {
    const status = s.snap.attendance[m.id] || "absent";
    const kp = keypadMarker(m.seat, keypads, lineOf);
    const chosen = picked !== null && picked.has(m.id);
    const voted = live && voters.has(m.id);
    return h("button", {
      class: `seat seat-${status}${m.votes ? "" : " observer"}${chosen ? " picked" : ""}${voted ? " voted" : ""}`,
      "data-member": m.id, "data-status": status, id: `seat-${m.id}`, title: t("console.seat_name", { seat: m.seat, name: m.name }),
      "aria-label": pair(t("console.seat_name", { seat: m.seat, name: m.name }),
        joined([t(`attendance.${status}`), voted ? t("console.has_voted") : "", kp ? kp.label : ""])),
      "aria-pressed": picked === null ? null : String(chosen), disabled: s.snap.closed,
      onclick: () => {
        if (picked === null) return seatDialog(m, status);
        if (chosen) picked.delete(m.id); else picked.add(m.id);
        return ui.render();
      },
    }, h("span", { class: "seat-no" }, m.seat), h("span", { class: "seat-name" }, m.name),
      h("span", { class: "seat-st" }, t(`attendance.${status}`)),
      voted ? h("span", { class: "seat-voted" }, t("console.has_voted")) : null,
      kp ? kp.el : null);
  });
  const { map, rest } = seatMap(s.snap.layout, s.snap.members.map((m, i) => ({ seat: m.seat, el: tiles[i] })), "console");
  $("attendance").closest("section").classList.toggle("with-map", !!map);
  mount($("attendance"),
    h("div", { id: "keypad-lines" }, down.map(lineNotice)),
    h("div", { class: "summary", id: "summary" },
      h("span", {}, t("summary.seated"), " ", h("b", {}, num(sum.seated))),
      h("span", {}, t("summary.present"), " ", h("b", { id: "present-count" }, num(sum.present))),
      h("span", {}, t("summary.leave"), " ", h("b", {}, num(sum.leave))),
      h("span", {}, t("summary.absent"), " ", h("b", {}, num(sum.absent))),
      h("span", { class: sum.quorum_met ? "quorum-yes" : "quorum-no", id: "quorum" },
        sum.quorum_met ? t("summary.quorum_met") : t("summary.quorum_not_met", { needed: sum.quorum_needed }))),
    h("div", { class: "legend muted" }, t(picked === null ? "console.seat_help" : "console.bulk_help")),
    bulkBar(s),
    map,
    rest.length ? h("div", { class: "seats" }, rest) : null);
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
    if (st && st !== "cancel" && st !== status) ui.command("set_attendance", { member: m.id, status: st }, null);
  }, { once: true });
  dlg.showModal();
}
