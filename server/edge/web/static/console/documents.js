// The documents panel: upload (drag and drop, or the file picker) to an item with its
// audience and classification; each document's pre-rendering (pages ready, failures with
// their reason); release a held one; recall one, or every confidential one; present a page to
// the wall and to the tablets that follow, with previous / next; and who received and
// opened what (member × document), live from the `document.receipt` events.
//
// The upload form is built once and kept (a chosen file and typed title survive every
// re-render); the rest is redrawn from the state like the other panels.

import { t, tOr, num, errorText } from "/static/lib/i18n.js";
import { h, mount, words } from "/static/lib/dom.js";
import { foldDocument, classBadge, CLASSES } from "/static/lib/documents.js";
import { ui } from "./ui.js";

const $ = (id) => document.getElementById(id);
const AUDIENCES = ["everyone", "members", "observers", "named"];
const POLL_MS = 1000;

const renders = new Map(); // document id -> the server's pre-rendering status
let form = null;
let uploading = null; // {name} while an upload is on its way
let uploadError = null;
let polling = null;
let offlineOff = null; // whether tablets will read over plain HTTP (no service worker, no Cache Storage)

/** Tablets reach the server at its public URL (else this page's address); Cache Storage and
 * service workers exist only in a secure context: HTTPS, or this very machine. */
async function checkOffline() {
  const info = await fetch("/api/info", { cache: "no-store" }).then((r) => r.json()).catch(() => null);
  const url = new URL((info && info.public_url) || location.origin);
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  offlineOff = url.protocol !== "https:" && !loopback;
  ui.render();
}

/** Called by main.js for every event, before the re-render. */
export function followDocuments(ev) {
  foldDocument(ui.conn.state.snap, ev);
}

function docs() {
  return (ui.conn.state.snap.documents || []);
}

/** Whether a member is among a document's readers (server/core/documents.py, may_read). */
export function readsIt(doc, m) {
  if (doc.audience === "everyone") return true;
  if (doc.audience === "members") return m.role === "member" || m.role === "chair";
  if (doc.audience === "observers") return m.role === "observer";
  return (doc.readers || []).includes(m.id);
}

export function renderDocuments() {
  const root = $("documents");
  if (!root) return;
  if (!form) {
    form = buildForm();
    checkOffline();
  }
  if (offlineOff !== null) root.dataset.offlineReading = offlineOff ? "off" : "on";
  const s = ui.conn.state;
  const all = docs();
  const live = all.filter((d) => !d.recalled);
  const anyConfidential = live.some((d) => d.classification === "confidential" && d.released);
  mount(root,
    form,
    uploading ? h("div", { class: "doc-uploading", id: "doc-uploading", role: "status" }, t("docs.uploading", { name: uploading.name })) : null,
    uploadError ? h("div", { class: "doc-error", id: "doc-upload-error", role: "alert", "data-code": uploadError.code || "" }, uploadError.text) : null,
    offlineOff ? h("p", { class: "doc-note", id: "offline-reading-off" }, t("docs.offline_off")) : null,
    presenter(s),
    all.length ? h("table", { class: "doc-table", id: "doc-table" },
      h("thead", {}, h("tr", {}, ["docs.title", "docs.item", "docs.state", "docs.receipts", "docs.actions"].map((k) => h("th", {}, t(k))))),
      h("tbody", {}, all.map((d) => docRow(s, d)))) : h("p", { class: "muted" }, t("docs.none")),
    anyConfidential ? h("button", {
      class: "btn danger", id: "recall-confidential", disabled: ui.busy,
      onclick: async () => {
        if (await ui.confirmStep(t("docs.confirm_recall_all"), t("docs.recall_all")) === null) return;
        ui.command("recall_documents", {}, t("docs.done_recall_all"));
      },
    }, t("docs.recall_all")) : null,
    matrix(s, all.filter((d) => d.released && !d.recalled)));
  poll(live);
}

// -- upload ------------------------------------------------------------------------------------
function buildForm() {
  const s = ui.conn.state;
  const file = h("input", { type: "file", id: "doc-file", accept: "application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg", class: "visually-hidden" });
  const chosen = h("span", { class: "doc-chosen", id: "doc-chosen" }, t("docs.no_file"));
  const title = h("input", { id: "doc-title-input", maxlength: 200, autocomplete: "off" });
  const item = h("select", { id: "doc-item" }, s.snap.items.map((i) => h("option", { value: i.id, selected: i.id === s.snap.current_item }, i.title)));
  const audience = h("select", { id: "doc-audience" }, AUDIENCES.map((a) => h("option", { value: a }, t(`docs.audience.${a}`))));
  const readers = h("input", { id: "doc-readers", placeholder: t("docs.readers_hint"), autocomplete: "off" });
  const readersRow = field("doc-readers", t("docs.readers"), readers);
  readersRow.classList.add("hidden");
  audience.addEventListener("change", () => readersRow.classList.toggle("hidden", audience.value !== "named"));
  const cls = h("select", { id: "doc-class" }, CLASSES.map((c) => h("option", { value: c }, t(`doc.class.${c}`))));
  const hold = h("input", { type: "checkbox", id: "doc-hold" });
  const pick = (f) => {
    picked = f;
    chosen.textContent = f ? t("docs.chosen", { name: f.name, size: num(Math.ceil(f.size / 1024)) }) : t("docs.no_file");
    if (f && !title.value.trim()) title.value = f.name.replace(/\.[^.]+$/, "");
  };
  let picked = null;
  file.addEventListener("change", () => pick(file.files[0] || null));
  const drop = h("label", { class: "doc-drop", id: "doc-drop", for: "doc-file" },
    h("span", {}, t("docs.drop_here")), chosen);
  drop.addEventListener("dragover", (ev) => {
    ev.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    if (ev.dataTransfer.files.length) pick(ev.dataTransfer.files[0]);
  });
  return h("form", {
    class: "doc-form", id: "doc-upload",
    onsubmit: async (ev) => {
      ev.preventDefault();
      if (!picked) {
        uploadError = { code: "no_file", text: t("docs.choose_first") };
        ui.render();
        return;
      }
      const body = new FormData();
      body.append("file", picked, picked.name);
      body.append("title", title.value.trim() || picked.name);
      body.append("item", item.value);
      body.append("audience", audience.value);
      body.append("classification", cls.value);
      if (audience.value === "named") body.append("readers", readers.value);
      body.append("release", hold.checked ? "false" : "true");
      uploading = { name: picked.name };
      uploadError = null;
      ui.render();
      try {
        const res = await fetch("/api/documents", { method: "POST", headers: { Authorization: `Bearer ${ui.token}` }, body });
        const data = await res.json().catch(() => ({}));
        if (!res.ok) throw Object.assign(new Error(data.message || `HTTP ${res.status}`), { code: data.error || "http" });
        ui.toast(t("docs.done_upload", { title: title.value.trim() || picked.name, pages: data.pages }), "ok");
        form.reset();
        pick(null);
        readersRow.classList.add("hidden");
      } catch (err) {
        const text = tOr(`docs.error.${err.code}`, err.message || errorText(err));
        uploadError = { code: err.code, text: t("docs.upload_failed", { reason: text }) };
      } finally {
        uploading = null;
        ui.render();
      }
    },
  },
  drop, file,
  h("div", { class: "doc-fields" },
    field("doc-title-input", t("docs.title"), title),
    field("doc-item", t("docs.item"), item),
    field("doc-audience", t("docs.audience_label"), audience),
    readersRow,
    field("doc-class", t("docs.classification"), cls),
    h("label", { class: "doc-check" }, hold, t("docs.hold"))),
  h("button", { class: "btn primary", id: "doc-upload-button", type: "submit" }, t("docs.upload")));
}

function field(id, label, input) {
  return h("div", { class: "doc-field" }, h("label", { for: id }, label), input);
}

// -- the list ----------------------------------------------------------------------------------
function renderState(d) {
  if (d.recalled) return h("span", { class: "doc-state", "data-state": "recalled" }, t("docs.recalled"));
  const r = renders.get(d.id);
  const parts = [h("span", { class: "doc-state", "data-state": d.released ? "released" : "held" }, t(d.released ? "docs.released" : "docs.held"))];
  if (!r) return parts;
  if (r.state === "failed" || (r.failed && r.failed.length)) {
    const why = r.error ? r.error.message : r.failed.map((f) => t("docs.page_failed", { page: f.page + 1, reason: f.message })).join(" ");
    parts.push(h("div", { class: "doc-error", "data-render": "failed", role: "alert" }, t("docs.render_failed", { reason: why })));
  } else if (r.state === "ready") {
    parts.push(h("span", { class: "doc-render", "data-render": "ready" }, t("docs.render_ready")));
  } else {
    parts.push(h("span", { class: "doc-render", "data-render": r.state },
      t(r.state === "paused" ? "docs.render_paused" : "docs.render_progress", { ready: num(r.ready), pages: num(r.pages) })));
  }
  return parts;
}

function docRow(s, d) {
  const readers = s.snap.members.filter((m) => readsIt(d, m));
  const got = readers.filter((m) => d.receipts && d.receipts[m.id]).length;
  const opened = readers.filter((m) => d.receipts && d.receipts[m.id] === "opened").length;
  const item = s.item(d.item);
  return h("tr", { "data-doc": d.id, class: d.recalled ? "recalled" : "" },
    h("td", {}, h("div", { class: "doc-name" }, words(d.title)), classBadge(d), " ", h("span", { class: "muted" }, t("doc.pages", { n: num(d.pages) }))),
    h("td", {}, item ? words(item.title) : d.item),
    h("td", {}, renderState(d)),
    h("td", { class: "doc-counts", "data-delivered": got, "data-opened": opened },
      d.released && !d.recalled ? t("docs.counts", { delivered: num(got), opened: num(opened), readers: num(readers.length) }) : ""),
    h("td", {}, h("div", { class: "doc-actions" },
      !d.released && !d.recalled ? h("button", {
        class: "btn small primary", id: `release-${d.id}`, disabled: ui.busy,
        onclick: () => ui.command("release_document", { document: d.id }, t("docs.done_release", { title: d.title })),
      }, t("docs.release")) : null,
      d.released && !d.recalled ? h("button", {
        class: "btn small", id: `present-${d.id}`, disabled: ui.busy,
        onclick: () => ui.command("show_page", { document: d.id, page: 1 }),
      }, t("docs.present")) : null,
      !d.recalled ? h("button", {
        class: "btn small danger", id: `recall-${d.id}`, disabled: ui.busy,
        onclick: async () => {
          if (await ui.confirmStep(t("docs.confirm_recall", { title: d.title }), t("docs.recall")) === null) return;
          ui.command("recall_documents", { document: d.id }, t("docs.done_recall", { title: d.title }));
        },
      }, t("docs.recall")) : null)));
}

/** What is being presented, with previous / next; why a confidential one is not on the wall. */
function presenter(s) {
  const shown = s.snap.page;
  const doc = shown && docs().find((d) => d.id === shown.document && !d.recalled);
  if (!doc) return null;
  const go = (page) => ui.command("show_page", { document: doc.id, page });
  return h("div", { class: "doc-presenting", id: "doc-presenting", "data-doc": doc.id, "data-page": shown.page },
    h("span", { class: "doc-presenting-what" }, t("docs.presenting", { title: doc.title, page: num(shown.page), pages: num(doc.pages) })),
    h("button", { class: "btn small", id: "present-prev", disabled: ui.busy || shown.page <= 1, "aria-label": t("docs.previous_page"), onclick: () => go(shown.page - 1) }, "‹ ", t("docs.previous_page")),
    h("button", { class: "btn small", id: "present-next", disabled: ui.busy || shown.page >= doc.pages, "aria-label": t("docs.next_page"), onclick: () => go(shown.page + 1) }, t("docs.next_page"), " ›"),
    doc.classification === "confidential" || doc.audience !== "everyone"
      ? h("div", { class: "doc-note", id: "not-on-wall", role: "note" },
        t(doc.classification === "confidential" ? "docs.not_on_wall_confidential" : "docs.not_on_wall_audience"))
      : null);
}

/** member × document: not delivered / delivered / opened. */
function matrix(s, shown) {
  if (!shown.length) return null;
  const members = s.snap.members;
  return h("div", { class: "doc-matrix-wrap" },
    h("h3", {}, t("docs.receipts_matrix")),
    h("table", { class: "doc-matrix", id: "doc-matrix" },
      h("thead", {}, h("tr", {}, h("th", {}, t("docs.member")), shown.map((d) => {
        const readers = members.filter((m) => readsIt(d, m));
        const count = (state) => readers.filter((m) => (d.receipts || {})[m.id] === state).length;
        return h("th", { scope: "col", "data-doc": d.id }, h("div", {}, words(d.title)),
          h("div", { class: "doc-col-counts" }, t("docs.matrix_counts", {
            delivered: num(count("delivered") + count("opened")), opened: num(count("opened")), readers: num(readers.length),
          })));
      }))),
      h("tbody", {}, members.map((m) => h("tr", { "data-member": m.id },
        h("th", { scope: "row" }, `${m.seat} ${m.name}`),
        shown.map((d) => {
          if (!readsIt(d, m)) return h("td", { "data-doc": d.id, "data-state": "none" }, "");
          const state = (d.receipts && d.receipts[m.id]) || "not_delivered";
          return h("td", { "data-doc": d.id, "data-state": state, class: `rc rc-${state}` }, t(`docs.receipt.${state}`));
        }))))));
}

// -- pre-rendering status ----------------------------------------------------------------------
function poll(live) {
  const wanted = live.filter((d) => {
    const r = renders.get(d.id);
    return !r || !["ready", "failed", "recalled"].includes(r.state);
  });
  if (!wanted.length || polling || !ui.token) return;
  polling = setTimeout(async () => {
    try {
      await Promise.all(wanted.map(async (d) => {
        const res = await fetch(`/api/documents/${encodeURIComponent(d.id)}/render`, { headers: { Authorization: `Bearer ${ui.token}` } });
        if (res.ok) renders.set(d.id, await res.json());
      }));
    } catch {
      // offline: the next render polls again
    } finally {
      polling = null;
      ui.render();
    }
  }, renders.size ? POLL_MS : 0);
}
