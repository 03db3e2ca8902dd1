// The log's head in the console's footer: the clerk copies it down (or photographs it), so an
// auditor can later prove the record still reaches it — `hemicycle verify --head SEQ:HASH`
// fails on a log whose end was cut (docs/architecture.md, "Tamper evidence"). Fetched when the
// console starts, when a certificate is issued or the sitting closes, and every 30 s.

import { t } from "/static/lib/i18n.js";
import { h, mount } from "/static/lib/dom.js";
import { ui } from "./ui.js";

const EVERY_MS = 30000;
const REFRESH_ON = new Set(["certificate.issued", "sitting.closed", "ballot.closed"]);
let head = null;

export async function refreshHead() {
  try {
    const data = await ui.api("/api/console/head");
    head = data.head || null;
  } catch (err) {
    return; // offline or logged out: the footer keeps the last head it showed
  }
  renderHead();
}

export function renderHead() {
  const el = document.getElementById("log-head");
  if (!el) return;
  mount(el, head
    ? h("div", {},
      h("span", { class: "log-head-label" }, t("console.log_head")), " ",
      h("code", { id: "log-head-value", class: "log-head-value" }, head), " ",
      h("span", { class: "log-head-hint" }, t("console.log_head_hint")))
    : null);
}

/** Start following: a refresh now, on the events that move the anchored head, and now and then. */
export function followHead() {
  refreshHead();
  ui.conn.on((kind, detail) => {
    if (kind === "welcome" || (kind === "event" && REFRESH_ON.has(detail.name))) refreshHead();
  });
  setInterval(refreshHead, EVERY_MS);
}
