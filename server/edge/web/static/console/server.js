// A notice when the server under the console changed — a standby took over from a leader
// that failed, or the server restarted. Votes already cast in a secret ballot still open can
// then no longer be changed (`vote_locked`: the link from a member to their urn entry lived
// only in the old process's memory); everything else goes on. The clerk's welcome, snapshot
// or resume, carries how the server began and which votes that locked (docs/protocol.md,
// "Connecting"); the console tells the clerk once it has reconnected.

import { t, time } from "/static/lib/i18n.js";
import { h, mount } from "/static/lib/dom.js";
import { ui } from "./ui.js";

const DISMISSED = "hemicycle.console.server_notice"; // the start the clerk has acknowledged
let shown = null; // the welcome's `server` being shown, or null
let seenAt = null; // when the server of this page's previous welcome began

function dismissed(server) {
  try {
    return sessionStorage.getItem(DISMISSED) === String(server.at);
  } catch {
    return false;
  }
}

/** Decide on each welcome: shown after a change of server seen by this page, or while votes
 * it locked are in a ballot still open; never for a sitting this server opened. */
export function followServer() {
  ui.conn.on((kind, msg) => {
    if (kind !== "welcome" || !msg.server) return;
    const server = msg.server;
    const changed = seenAt !== null && seenAt !== server.at;
    seenAt = server.at;
    if (server.began === "opened" || dismissed(server)) shown = null;
    else if (changed || server.locked.length || (shown && shown.at === server.at)) shown = server;
    renderServer();
  });
}

/** A locked ballot is worth a line while its run is open (or held); once closed, nothing is. */
function stillOpen(locked) {
  const b = ui.conn.state.ballot(locked.ballot);
  return b && b.run === locked.run && (b.status === "open" || b.status === "held");
}

export function renderServer() {
  const el = document.getElementById("server-notice");
  if (!el) return;
  if (!shown) {
    mount(el, null);
    return;
  }
  const ok = () => {
    try {
      sessionStorage.setItem(DISMISSED, String(shown.at));
    } catch {
      // storage refused: the notice still goes away for this page
    }
    shown = null;
    renderServer();
  };
  mount(el,
    h("div", { class: "server-notice no-print", role: "alert", id: "server-changed", "data-began": shown.began },
      h("p", {}, t("console.server_changed", { time: time(shown.at), how: t(`console.server_how_${shown.began}`) })),
      ...shown.locked.filter(stillOpen).map((b) =>
        h("p", { class: "server-locked", "data-ballot": b.ballot }, t("console.server_locked", { title: b.title, votes: b.votes }))),
      h("p", {}, t("console.server_continues")),
      h("button", { class: "btn", type: "button", id: "server-notice-ok", onclick: ok }, t("console.server_dismiss"))));
}
