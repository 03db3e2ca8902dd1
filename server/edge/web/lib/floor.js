// The floor as every screen shows it (docs/floor.md): the current item's queue, who has the
// floor, and the speaking timer. The server sends the whole floor with each speaker.* event
// (Sitting.apply keeps it in snap.floor); this module only reads it, so the tablet, the
// console and the wall count the same seconds from the same grant time on the server's clock.

import { clock } from "./protocol.js";
import { t, clockText, paren } from "./i18n.js";
import { h } from "./dom.js";

/** The floor of the snapshot (never null once a welcome came). */
export function floorOf(state) {
  return (state.snap && state.snap.floor) || { queues: {}, speaker: null };
}

/** The current item's queue: [{member, kind, by, at}], in order. */
export function queueOf(state) {
  const item = state.snap && state.snap.current_item;
  return (item && floorOf(state).queues[item]) || [];
}

/** The speaker's time: elapsed, left (null without a limit) and the phase the colour follows. */
export function timing(speaker) {
  const elapsed = Math.max(0, clock.now() - speaker.since);
  if (!speaker.limit) return { elapsed, left: null, phase: "running" };
  const left = speaker.limit - elapsed;
  const phase = left < 0 ? "over" : left <= speaker.warning ? "warning" : "running";
  return { elapsed, left, phase };
}

export function timerText(speaker) {
  const { elapsed, left } = timing(speaker);
  // counting up shows whole seconds passed; down, seconds left (as a countdown); an overrun
  // starts at 0:01, never "0:00 over"
  if (left === null) return clockText(Math.floor(elapsed));
  return left >= 0 ? clockText(left) : t("floor.overrun", { time: clockText(-left) });
}

/** A timer element; `tickTimers` keeps every one on the page current. */
export function timerEl(speaker, id, extraClass = "") {
  return h("span", {
    class: `floor-timer ${extraClass}`.trim(), id, role: "timer",
    "data-since": speaker.since, "data-limit": speaker.limit ?? "", "data-warning": speaker.warning ?? 0,
  }, timerText(speaker));
}

export function tickTimers() {
  for (const el of document.querySelectorAll(".floor-timer")) {
    const speaker = {
      since: parseFloat(el.dataset.since), limit: parseFloat(el.dataset.limit) || null, warning: parseFloat(el.dataset.warning) || 0,
    };
    if (Number.isNaN(speaker.since)) continue;
    el.textContent = timerText(speaker);
    el.dataset.phase = timing(speaker).phase;
  }
}

/** "name (seat)" with the group, as lists show a member. */
export function memberLabel(state, id) {
  const m = state.memberById(id);
  if (!m) return id;
  return paren(m.name, m.seat);
}

export function kindLabel(kind) {
  return t(`floor.kind.${kind}`);
}

/** Seconds as m:ss for totals and limits, rounded as the printed record rounds them. */
export function spoken(seconds) {
  return clockText(Math.round(seconds));
}
