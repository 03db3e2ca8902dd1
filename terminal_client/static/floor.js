// The tablet's floor card: ask to speak (or raise a point of order) on the current item, see
// one's place in the queue and withdraw, and — while one has the floor — the timer, which
// turns amber near the limit and red past it. Who speaks now is shown to everyone.
// Requests go only for this tablet's own member: the server refuses anything else.

import { t, num, errorText } from "/static/lib/i18n.js";
import { h } from "/static/lib/dom.js";
import { floorOf, queueOf, timerEl, memberLabel, kindLabel } from "/static/lib/floor.js";

let sending = false;

async function send(conn, msg, notice, rerender) {
  sending = true;
  rerender();
  try {
    await conn.request(msg);
  } catch (err) {
    notice(errorText(err));
  } finally {
    sending = false;
    rerender();
  }
}

/** [signature, build] for seat.js's renderCard: rebuilt only when what it shows changes. */
export function floorCard(conn, notice, rerender) {
  const s = conn.state;
  const floor = floorOf(s);
  const queue = queueOf(s);
  const place = queue.findIndex((r) => r.member === s.member);
  const speaker = floor.speaker;
  const present = s.snap.attendance[s.member] === "present";
  const open = !s.snap.closed && !!s.snap.current_item;
  const sig = JSON.stringify([speaker, place, queue.length, present, open, sending, conn.status, t("floor.request")]);
  const mine = speaker && speaker.member === s.member;
  return [sig, () => [
    h("h2", {}, t("floor.heading")),
    speaker ? h("div", { class: `floor-now${mine ? " mine" : ""}`, id: "floor-speaker", "data-member": speaker.member },
      h("span", { class: "floor-label" }, mine ? t("floor.you_speak") : t("floor.speaking_now")),
      " ", mine ? null : h("span", { class: "floor-name" }, memberLabel(s, speaker.member)),
      speaker.kind !== "normal" ? h("span", { class: "tag" }, kindLabel(speaker.kind)) : null,
      timerEl(speaker, "floor-timer", mine ? "big" : "")) : null,
    place >= 0 ? h("div", { class: "floor-place", id: "floor-place", "data-place": place + 1 },
      t("floor.my_place", { n: num(place + 1) }),
      queue[place].kind !== "normal" ? h("span", { class: "tag" }, kindLabel(queue[place].kind)) : null) : null,
    !open || mine ? null
      : place >= 0 ? h("button", {
        class: "btn touch", id: "floor-withdraw", disabled: sending,
        onclick: () => send(conn, { type: "withdraw_floor" }, notice, rerender),
      }, t("floor.withdraw"))
        : present ? h("div", { class: "floor-actions" },
          h("button", {
            class: "btn primary touch", id: "floor-request", disabled: sending,
            onclick: () => send(conn, { type: "request_floor" }, notice, rerender),
          }, sending ? t("floor.requesting") : t("floor.request")),
          h("button", {
            class: "btn touch", id: "floor-point-of-order", disabled: sending,
            onclick: () => send(conn, { type: "request_floor", kind: "point_of_order" }, notice, rerender),
          }, t("floor.request_point_of_order")))
          : h("p", { class: "muted" }, t("floor.check_in_first")),
  ]];
}
