// The floor, beside the agenda: who speaks now (timer, end, next), the current item's queue
// (grant, remove, reorder by dragging or "move up"), adding a member, clearing the queue, and
// speaking-time totals per member and group for the item and the sitting. Every step is a
// clerk command (docs/protocol.md); the panel re-renders from the floor the server sends back.

import { t, num, joined } from "/static/lib/i18n.js";
import { h, mount } from "/static/lib/dom.js";
import { floorOf, queueOf, timerEl, memberLabel, kindLabel, spoken } from "/static/lib/floor.js";
import { ui } from "./ui.js";

const $ = (id) => document.getElementById(id);
const KINDS = ["normal", "point_of_order", "reply"];
const adding = { member: "", kind: "normal" }; // the add form, kept across re-renders
let dragged = null; // the member being dragged

function speakerBlock(s, speaker) {
  const { busy } = ui;
  if (!speaker) return h("div", { class: "floor-now muted", id: "floor-speaker" }, t("floor.nobody"));
  const m = s.memberById(speaker.member);
  return h("div", { class: "floor-now", id: "floor-speaker", "data-member": speaker.member },
    h("div", { class: "floor-who" },
      h("b", {}, m ? m.name : speaker.member), " ",
      h("span", { class: "muted" }, joined([m && m.group, m && t("floor.seat", { seat: m.seat })], "dot")),
      speaker.kind !== "normal" ? h("span", { class: "tag" }, kindLabel(speaker.kind)) : null),
    h("div", { class: "floor-clock" }, timerEl(speaker, "console-floor-timer"),
      h("span", { class: "muted" }, speaker.limit ? t("floor.limit", { time: spoken(speaker.limit) }) : t("floor.no_limit"))),
    h("button", { class: "btn small", id: "floor-end", disabled: busy, onclick: () => ui.command("end_floor", {}) }, t("floor.end")));
}

function queueList(s, queue) {
  const { busy } = ui;
  const move = (member, position) => ui.command("move_speaker", { member, position });
  return h("ol", { class: "floor-queue", id: "floor-queue" }, queue.map((r, i) => h("li", {
    class: "floor-entry", draggable: busy ? "false" : "true", "data-member": r.member, id: `floor-entry-${r.member}`,
    ondragstart: (ev) => {
      dragged = r.member;
      ev.dataTransfer.effectAllowed = "move";
      ev.dataTransfer.setData("text/plain", r.member);
    },
    ondragover: (ev) => ev.preventDefault(),
    ondrop: (ev) => {
      ev.preventDefault();
      const who = dragged || ev.dataTransfer.getData("text/plain");
      dragged = null;
      if (who && who !== r.member) move(who, i);
    },
  },
  h("span", { class: "floor-pos" }, num(i + 1)),
  h("span", { class: "floor-name" }, memberLabel(s, r.member),
    r.kind !== "normal" ? h("span", { class: `tag kind-${r.kind}` }, kindLabel(r.kind)) : null),
  h("span", { class: "floor-row-actions" },
    i > 0 ? h("button", { class: "btn small", title: t("floor.move_up"), "aria-label": t("floor.move_up"), disabled: busy, onclick: () => move(r.member, i - 1) }, "↑") : null,
    h("button", { class: "btn small", "data-grant": r.member, disabled: busy, onclick: () => ui.command("grant_floor", { member: r.member }) }, t("floor.grant")),
    h("button", { class: "btn small danger", "data-remove": r.member, title: t("floor.remove"), "aria-label": t("floor.remove"), disabled: busy, onclick: () => ui.command("remove_speaker", { member: r.member }) }, "×")))));
}

function addForm(s, queue) {
  const waiting = new Set(queue.map((r) => r.member));
  const select = h("select", { id: "floor-add-member", "aria-label": t("floor.add_member"), onchange: (ev) => { adding.member = ev.target.value; } },
    h("option", { value: "" }, t("floor.add_member")),
    s.snap.members.filter((m) => !waiting.has(m.id)).map((m) => h("option", { value: m.id, selected: adding.member === m.id }, `${m.seat} ${m.name}`)));
  const kind = h("select", { id: "floor-add-kind", "aria-label": t("floor.add_kind"), onchange: (ev) => { adding.kind = ev.target.value; } },
    KINDS.map((k) => h("option", { value: k, selected: adding.kind === k }, kindLabel(k))));
  return h("div", { class: "floor-add" }, select, kind, h("button", {
    class: "btn small", id: "floor-add", disabled: ui.busy,
    onclick: async () => {
      if (!adding.member) return;
      if (await ui.command("add_speaker", { member: adding.member, kind: adding.kind })) adding.member = "";
    },
  }, t("floor.add")));
}

function totalsTable(s, rows, id, label = t("floor.member")) {
  if (!rows.length) return h("p", { class: "muted" }, t("floor.totals_none"));
  return h("table", { class: "floor-totals", id },
    h("thead", {}, h("tr", {}, h("th", {}, label), h("th", { class: "n" }, t("floor.count")), h("th", { class: "n" }, t("floor.time")))),
    h("tbody", {}, rows.map(([label, row]) => h("tr", {}, h("td", {}, label), h("td", { class: "n" }, num(row.speeches)), h("td", { class: "n" }, spoken(row.seconds))))));
}

function byTime(table, label) {
  return Object.entries(table || {}).sort((a, b) => b[1].seconds - a[1].seconds).map(([k, row]) => [label(k), row]);
}

function totals(s, floor) {
  const all = floor.totals || { members: {}, groups: {}, items: {} };
  const item = all.items[s.snap.current_item] || { members: {}, groups: {} };
  const who = (id) => memberLabel(s, id);
  return h("details", { class: "floor-totals-box", id: "floor-totals", open: true },
    h("summary", {}, t("floor.totals")),
    h("h4", {}, t("floor.totals_item")), totalsTable(s, byTime(item.members, who), "floor-totals-item"),
    h("h4", {}, t("floor.totals_sitting")), totalsTable(s, byTime(all.members, who), "floor-totals-sitting"),
    Object.keys(all.groups).length ? [h("h4", {}, t("floor.by_group")), totalsTable(s, byTime(all.groups, (g) => g), "floor-totals-groups", t("floor.group"))] : null);
}

export function renderFloor() {
  const s = ui.conn.state;
  const floor = floorOf(s);
  const queue = queueOf(s);
  const { busy } = ui;
  mount($("floor"),
    speakerBlock(s, floor.speaker),
    h("div", { class: "floor-head" },
      h("h3", { id: "floor-queue-title" }, t("floor.queue", { n: num(queue.length) })),
      h("button", { class: "btn small primary", id: "floor-next", disabled: busy || !queue.length, onclick: () => ui.command("grant_floor", {}) }, t("floor.next"))),
    queue.length ? [queueList(s, queue), h("p", { class: "muted legend" }, t("floor.drag_help"))]
      : h("p", { class: "muted", id: "floor-queue-empty" }, t("floor.queue_empty")),
    addForm(s, queue),
    queue.length ? h("button", {
      class: "btn small danger", id: "floor-clear", disabled: busy,
      onclick: async () => {
        if ((await ui.confirmStep(t("floor.confirm_clear", { n: num(queue.length) }), t("floor.clear"))) !== null) ui.command("clear_speakers", {});
      },
    }, t("floor.clear")) : null,
    totals(s, floor));
}
