// The wall's floor layout: who has the floor — name, group, seat, the kind of speech — and a
// large timer that counts down to the limit (or up, without one), turns amber in the warning
// before the end and red with the overrun; below, the next few waiting. A ballot still takes
// the wall when it opens (display.js decides the layout; this module only draws this one).

import { t, num, joined } from "/static/lib/i18n.js";
import { h, words } from "/static/lib/dom.js";
import { floorOf, queueOf, timerEl, kindLabel, spoken } from "/static/lib/floor.js";

const NEXT_SHOWN = 5;

/** Whether the floor takes the wall: someone speaks, or (with no result to show) people wait. */
export function floorTakesWall(s) {
  if (floorOf(s).speaker) return true;
  return queueOf(s).length > 0 && !s.lastClosed;
}

function person(s, id) {
  const m = s.memberById(id);
  return m || { name: id, group: "", seat: "" };
}

export function floorLayout(s, header) {
  const floor = floorOf(s);
  const speaker = floor.speaker;
  const queue = queueOf(s);
  const item = speaker ? s.item(speaker.item) : s.currentItem();
  const parts = [header(s, item && item.title)];
  if (speaker) {
    const m = person(s, speaker.member);
    parts.push(h("div", { class: "d-floor-now", id: "d-speaker", "data-member": speaker.member },
      h("div", { class: "d-label" }, speaker.kind === "normal" ? t("floor.speaking_now") : kindLabel(speaker.kind)),
      h("div", { class: "d-speaker-name", id: "d-speaker-name" }, words(m.name)),
      h("div", { class: "d-speaker-sub" }, joined([m.group, m.seat ? t("floor.seat", { seat: m.seat }) : ""], "dot")),
      h("div", { class: "d-floor-clock" }, timerEl(speaker, "d-floor-timer", "d-floor-timer"),
        h("div", { class: "d-cap" }, speaker.limit ? t("floor.limit", { time: spoken(speaker.limit) }) : t("floor.no_limit")))));
  } else {
    parts.push(h("div", { class: "d-floor-now" }, h("div", { class: "d-speaker-sub" }, t("floor.nobody"))));
  }
  if (queue.length) {
    parts.push(h("div", { class: "d-next", id: "d-next" },
      h("div", { class: "d-label" }, t("floor.next_up")),
      h("ol", {}, queue.slice(0, NEXT_SHOWN).map((r, i) => {
        const m = person(s, r.member);
        return h("li", { "data-member": r.member },
          h("span", { class: "d-next-pos" }, num(i + 1)),
          h("span", { class: "d-next-name" }, m.name),
          h("span", { class: "d-next-sub" }, joined([m.group, r.kind !== "normal" ? kindLabel(r.kind) : ""], "dot")));
      })),
      queue.length > NEXT_SHOWN ? h("div", { class: "d-cap" }, t("floor.queue", { n: num(queue.length) })) : null));
  }
  return h("section", { class: "layout layout-floor", "data-layout": "floor" }, parts);
}
