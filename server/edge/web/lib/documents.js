// Documents as every screen sees them (docs/documents.md): the snapshot's `documents` and
// `page`, folded forward by the `document.*` and `page.shown` events, and page images fetched
// with the connection's token (never in a URL) and shown from blob URLs.
// state.js leaves documents alone; a page calls foldDocument() from its "event" listener,
// which runs before the "change" that re-renders it.

import { t } from "./i18n.js";
import { h } from "./dom.js";

export const CLASSES = ["public", "internal", "confidential"];

/** Fold one event into the snapshot; returns what happened for notices ("added", "recalled", …) or null. */
export function foldDocument(snap, ev) {
  if (!snap) return null;
  snap.documents = snap.documents || [];
  const find = (id) => snap.documents.find((d) => d.id === id);
  switch (ev.name) {
    case "document.released":
      if (typeof ev.document === "string") { // the clerk's: just the id (readers get document.added)
        const doc = find(ev.document);
        if (doc) doc.released = true;
        return doc ? "added" : null;
      }
    // falls through
    case "document.added": {
      const view = ev.document;
      const old = find(view.id);
      if (old) Object.assign(old, view);
      else snap.documents.push({ ...view, receipts: view.receipts || {} });
      return old && old.released === view.released ? null : "added";
    }
    case "document.receipt": {
      const doc = find(ev.document);
      if (!doc) return null;
      doc.receipts = { ...(doc.receipts || {}), [ev.member]: ev.state };
      return "receipt";
    }
    case "document.recalled": {
      const doc = find(ev.document);
      if (doc) doc.recalled = true;
      if (snap.page && snap.page.document === ev.document) snap.page = null;
      return "recalled";
    }
    case "page.shown":
      snap.page = { document: ev.document, page: ev.page, at: ev.at };
      return "shown";
    default:
      return null;
  }
}

/** The documents a screen may show: released (or, for the clerk, any) and not recalled. */
export function liveDocuments(snap) {
  return ((snap && snap.documents) || []).filter((d) => !d.recalled);
}

export function pageUrl(docId, page, width = 1600) {
  return `/api/documents/${encodeURIComponent(docId)}/pages/${page}?width=${width}`;
}

/** Fetch a page image with the token; resolves to the Response, rejects with {status, code}.
 * `background`: a prefetch, served in the server's narrow background lane (docs/documents.md). */
export async function fetchPage(token, docId, page, { width = 1600, signal, background = false } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (background) headers["X-Hemicycle-Background"] = "1";
  const res = await fetch(pageUrl(docId, page, width), { headers, signal, priority: background ? "low" : "high" });
  if (!res.ok) {
    const data = await res.json().catch(() => ({}));
    throw Object.assign(new Error(data.message || `HTTP ${res.status}`), { status: res.status, code: data.error || "http" });
  }
  return res;
}

/** The classification badge (公开 / 内部 / 机密). */
export function classBadge(doc) {
  return h("span", { class: `doc-class doc-class-${doc.classification}`, "data-class": doc.classification },
    t(`doc.class.${doc.classification}`));
}
