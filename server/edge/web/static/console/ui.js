// What every console panel shares: the connection, the clerk's commands (one at a time,
// answered by a toast), confirmations for irreversible steps, and a re-render. Panels are
// ES modules that import `ui` and export a render function; main.js calls them in order.

import { tOr, errorText, joined } from "/static/lib/i18n.js";
import { h } from "/static/lib/dom.js";

const $ = (id) => document.getElementById(id);

export const ui = {
  conn: null, // the protocol Connection (set by main.js)
  csrf: null, // the session's CSRF token, for POSTs to /api/console/…
  busy: false, // a clerk command is on its way: controls are disabled
  selected: null, // the ballot the clerk is looking at
  countdown: null, // {ballot, value}: what the clerk typed in a ballot's countdown field, kept across re-renders
  awaitingRound: null, // the item whose further round the clerk asked for: the panel moves to it once created
  render: () => {}, // set by main.js

  /** Run a clerk command; toast `doneText` (and any warnings) when the server says ok. */
  async command(name, args, doneText) {
    if (ui.busy) return null;
    ui.busy = true;
    ui.render();
    try {
      const ok = await ui.conn.command(name, args);
      if (doneText) ui.toast(doneText, "ok");
      for (const w of ok.warnings || []) {
        ui.toast(tOr(`warning.${w.code}`, w.message, { seats: joined(w.seats || []) }), "error");
      }
      return ok;
    } catch (err) {
      ui.toast(errorText(err), "error");
      return null;
    } finally {
      ui.busy = false;
      ui.render();
    }
  },

  /** POST JSON to the console API with the CSRF token; 401 goes back to the login page. */
  async api(path, body) {
    const res = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": ui.csrf },
      body: JSON.stringify(body || {}),
    });
    if (res.status === 401) {
      location.replace("/console/login");
      throw new Error("not logged in");
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw Object.assign(new Error(data.message || res.status), { code: data.error });
    return data;
  },

  toast(text, kind = "info") {
    const el = h("div", { class: `toast toast-${kind}` }, text);
    $("toasts").append(el);
    setTimeout(() => el.remove(), kind === "error" ? 9000 : 4000);
  },

  /** A confirmation for irreversible steps; resolves to null (cancelled) or the reason text. */
  confirmStep(text, okLabel, withReason = false) {
    const dlg = $("confirm");
    $("confirm-text").textContent = text;
    $("confirm-ok").textContent = okLabel;
    $("confirm-reason").value = "";
    $("confirm-reason").classList.toggle("hidden", !withReason);
    $("confirm-reason-label").classList.toggle("hidden", !withReason);
    return new Promise((resolve) => {
      dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok" ? $("confirm-reason").value : null), {
        once: true,
      });
      dlg.returnValue = "cancel";
      dlg.showModal();
      $("confirm-cancel").focus();
    });
  },
};
