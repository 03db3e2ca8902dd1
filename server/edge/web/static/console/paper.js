// The end of the sitting and its paper: close the sitting (after a confirmation naming what
// is still open and what will be recalled), and for every closed ballot its tally
// certificate — the real PDF the server signed, with its QR code and signature lines —
// plus the sitting record, each to open, download or print.
//
// PDFs are fetched with the clerk's bearer token (never a token in a URL) as blobs; "print"
// prints the PDF itself in a hidden frame, not this web page.

import { t, num, joined } from "/static/lib/i18n.js";
import { h, mount, words } from "/static/lib/dom.js";
import { ui } from "./ui.js";

const $ = (id) => document.getElementById(id);
const DONE = ["closed", "announced"];

/** Certificates the server has issued: "ballot/run" -> [{ballot, run, void, url}], from /api/certificates. */
let issued = new Map();
let listening = false;
let fetching = null;

/** The clerk's token for HTTP: the one the console's connection holds. Minting one per
 * request would retire it (a session keeps only a few tokens), and the documents panel and
 * the next reconnection would then be refused. */
async function bearer() {
  if (!ui.token) ui.token = (await ui.api("/api/console/token")).token;
  return ui.token;
}

async function refresh() {
  if (fetching) return fetching;
  fetching = (async () => {
    try {
      const res = await fetch("/api/certificates", { headers: { Authorization: `Bearer ${await bearer()}` }, cache: "no-store" });
      if (!res.ok) return;
      const next = new Map();
      for (const c of (await res.json()).certificates) {
        const key = `${c.ballot}/${c.run}`;
        next.set(key, [...(next.get(key) || []), c]);
      }
      issued = next;
      ui.render();
    } catch (err) {
      ui.toast(t("console.pdf_failed", { error: String(err.message || err) }), "error");
    } finally {
      fetching = null;
    }
  })();
  return fetching;
}

/** Fetch a PDF as a blob URL (the caller revokes it when done). */
async function pdfBlob(url) {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${await bearer()}` }, cache: "no-store" });
  if (!res.ok) {
    const data = await res.json().catch(() => ({}));
    throw new Error(data.message || String(res.status));
  }
  return URL.createObjectURL(new Blob([await res.arrayBuffer()], { type: "application/pdf" }));
}

/** open | download | print one PDF; `name` is the file name a download is saved under. */
async function handle(action, url, name) {
  let blob;
  try {
    blob = await pdfBlob(url);
  } catch (err) {
    ui.toast(t("console.pdf_failed", { error: String(err.message || err) }), "error");
    return;
  }
  if (action === "open") {
    window.open(blob, "_blank", "noopener");
  } else if (action === "download") {
    const a = h("a", { href: blob, download: name, class: "hidden" });
    document.body.append(a);
    a.click();
    a.remove();
  } else {
    document.getElementById("pdf-print-frame")?.remove();
    const frame = h("iframe", { id: "pdf-print-frame", class: "print-frame", title: name, "data-file": name });
    frame.addEventListener("load", () => {
      try {
        frame.contentWindow.focus();
        frame.contentWindow.print();
      } catch {
        window.open(blob, "_blank", "noopener"); // a browser that cannot print a framed PDF: its viewer can
      }
    }, { once: true });
    frame.src = blob;
    document.body.append(frame);
  }
  setTimeout(() => URL.revokeObjectURL(blob), 60_000);
}

function pdfActions(prefix, url, name) {
  const act = (action, label) => h("button", {
    class: "btn small", type: "button", "data-action": action, id: `${prefix}-${action}`,
    onclick: () => handle(action, url, name),
  }, label);
  return h("span", { class: "pdf-actions" },
    act("open", t("console.open_pdf")), act("download", t("console.download_pdf")), act("print", t("console.print_pdf")));
}

/** Every run of every ballot that has (or will have) a certificate, newest runs last. */
function certificateRows(s) {
  const rows = [];
  for (const b of s.snap.ballots) {
    const runs = [...(b.previous_runs || []).map((r) => ({ ...r, current: false })), { run: b.run, status: b.status, current: true }];
    for (const r of runs) {
      const certs = issued.get(`${b.id}/${r.run}`) || [];
      const due = r.current && DONE.includes(r.status) && b.certificate !== false;
      if (!certs.length && !due) continue;
      const title = joined([b.title, t("console.run", { n: r.run })], "dot");
      const id = `cert-${b.id}-${r.run}`;
      const both = certs.length > 1; // a voided run: the original and the one marked VOID
      const cells = certs.length
        ? certs.map((c) => h("div", { class: "cert-file", "data-void": c.void ? "true" : "false" },
          c.void ? h("span", { class: "tag tag-void" }, t("console.certificate_void"))
            : both ? h("span", { class: "tag" }, t("console.certificate_original")) : null,
          pdfActions(`${id}${c.void ? "-void" : ""}`, c.url, c.name || `${b.id}-${r.run}.pdf`)))
        : [h("span", { class: "muted" }, t("console.certificate_pending"))];
      rows.push(h("li", { class: "cert", id, "data-ballot": b.id, "data-run": r.run },
        h("div", { class: "cert-head" }, h("span", { class: "cert-title" }, words(title)),
          h("span", { class: `status status-${r.status}` }, t(`status.${r.status}`))), cells));
    }
  }
  return rows;
}

/** What the close confirmation names: ballots not yet voted or announced, documents to recall. */
export function closingText(s) {
  const lines = [t("console.confirm_close_sitting")];
  const list = (bs) => joined(bs.map((b) => b.title));
  const draft = s.snap.ballots.filter((b) => b.status === "draft" || b.status === "voided");
  const unannounced = s.snap.ballots.filter((b) => b.status === "closed");
  const recall = (s.snap.documents || []).filter((d) => d.classification === "confidential" && !d.recalled);
  if (draft.length) lines.push(t("console.still_open", { n: num(draft.length), list: list(draft) }));
  if (unannounced.length) lines.push(t("console.not_announced", { n: num(unannounced.length), list: list(unannounced) }));
  lines.push(recall.length
    ? t("console.will_recall", { n: num(recall.length), list: joined(recall.map((d) => d.title)) })
    : t("console.nothing_to_recall"));
  if (!draft.length && !unannounced.length) lines.push(t("console.all_done"));
  return lines.join("\n");
}

function closeControls(s) {
  if (s.snap.closed) return h("p", { class: "sitting-closed", id: "sitting-closed" }, t("console.sitting_closed_note"));
  const live = s.liveBallot();
  return h("div", { class: "controls" },
    h("button", {
      class: "btn danger", id: "close-sitting", type: "button", disabled: ui.busy || !!live,
      onclick: async () => {
        if ((await ui.confirmStep(closingText(ui.conn.state), t("console.close_sitting"))) !== null) {
          await ui.command("close_sitting", {}, t("console.done_close_sitting"));
        }
      },
    }, t("console.close_sitting")),
    live ? h("span", { class: "muted", id: "close-sitting-blocked" }, t("console.close_sitting_blocked", { title: live.title })) : null);
}

export function renderPaper() {
  const s = ui.conn.state;
  if (!listening) {
    listening = true;
    ui.conn.on((kind, detail) => {
      if (kind === "welcome" || (kind === "event" && ["certificate.issued", "sitting.closed"].includes(detail.name))) refresh();
    });
    refresh();
  }
  const rows = certificateRows(s);
  mount($("paper"),
    closeControls(s),
    h("h3", {}, t("console.record")),
    h("div", { class: "record-row", id: "record" },
      h("span", { class: "muted" }, t(s.snap.closed ? "console.record_final" : "console.record_so_far")),
      pdfActions("record", "/api/record.pdf", "sitting-record.pdf")),
    h("h3", {}, t("console.certificates")),
    rows.length ? h("ul", { class: "certs", id: "certificates" }, rows) : h("p", { class: "muted" }, t("console.no_certificates")));
}
