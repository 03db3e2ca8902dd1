// Attendance: the summary and quorum, the seats with their status and keypad state; a seat
// opens a dialog to mark the member present, on leave or absent.

import { t, num } from "/static/lib/i18n.js";
import { h, mount } from "/static/lib/dom.js";
import { ui } from "./ui.js";

const $ = (id) => document.getElementById(id);

export function renderAttendance() {
  const s = ui.conn.state;
  const sum = s.summary();
  const keypads = s.snap.keypads || {};
  const tiles = s.snap.members.map((m) => {
    const status = s.snap.attendance[m.id] || "absent";
    const kp = keypads[m.seat];
    return h("button", {
      class: `seat seat-${status}${m.votes ? "" : " observer"}`, "data-member": m.id, "data-status": status, id: `seat-${m.id}`,
      "aria-label": `${m.seat} ${m.name}: ${t(`attendance.${status}`)}${kp === false ? `, ${t("console.keypad_offline")}` : ""}`,
      onclick: () => seatDialog(m, status),
    }, h("span", { class: "seat-no" }, m.seat), h("span", { class: "seat-name" }, m.name),
      h("span", { class: "seat-st" }, t(`attendance.${status}`)),
      kp === false ? h("span", { class: "kp-off", title: t("console.keypad_offline") }, t("console.keypad_offline")) : null);
  });
  mount($("attendance"),
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
    if (st && st !== "cancel" && st !== status) ui.command("set_attendance", { member: m.id, status: st }, null);
  }, { once: true });
  dlg.showModal();
}
