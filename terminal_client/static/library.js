// The tablet's library: the documents this member may read, per agenda item (the current
// item first), with their classification, page count and "new" / "unread" marks; notices
// when one is pushed or recalled; the reader (reader.js) opened from it or by the presenter.
//
// In the background it fetches the pages of every document (the current item's first), one
// page at a time and not at all while a ballot is open, so a 300-page pack never competes
// with a vote; a document whose pages are all here is reported `delivered`, and `opened`
// when first shown. What disappears from the sitting's list (a recall, seen live or on
// reconnection) is dropped from the tablet at once (pagestore.js).

import { t, num } from "/static/lib/i18n.js";
import { h, mount, words } from "/static/lib/dom.js";
import { foldDocument, liveDocuments, classBadge } from "/static/lib/documents.js";
import { PageStore } from "./pagestore.js";
import { Reader } from "./reader.js";

const OPENED = "hemicycle.library.opened"; // ids of public/internal documents opened on this tablet

export function startLibrary(conn, { token, notice, card, readerRoot }) {
  const store = new PageStore(token);
  const opened = new Set(loadOpened());
  const secretOpened = new Set(); // confidential: memory only
  const fresh = new Set(); // arrived while this page was open, not opened yet
  const fetched = new Map(); // id -> pages held
  const complete = new Set(); // every page held (receipt sent)
  const sentOpened = new Set();
  let prevLive = null; // ids listed at the last change (null before the first snapshot)
  let follow = true;
  let lastSig = null;
  let wasLive = false;
  let wake = null;
  const ready = store.open();

  const snap = () => conn.state.snap;
  const live = () => liveDocuments(snap());
  const byId = (id) => live().find((d) => d.id === id);

  const reader = new Reader(readerRoot, store, {
    opened: (doc) => {
      (doc.classification === "confidential" ? secretOpened : opened).add(doc.id);
      saveOpened(opened);
      fresh.delete(doc.id);
      if (!sentOpened.has(doc.id)) {
        sentOpened.add(doc.id);
        receipt(doc.id, "opened");
      }
      render(true);
    },
    left: () => {
      follow = false;
      render(true);
    },
    follow: () => {
      follow = true;
      followPresenter();
      render(true);
    },
    closed: () => {
      follow = false;
      render(true);
    },
    presenter: () => (snap() && snap().page && byId(snap().page.document) ? snap().page : null),
    following: () => follow,
  });

  function receipt(id, state) {
    conn.request({ type: "doc_receipt", document: id, state }, { resend: true }).catch(() => {}); // a recalled one: nothing to say
  }

  function followPresenter() {
    const shown = snap() && snap().page;
    const doc = shown && byId(shown.document);
    if (!doc || conn.state.liveBallot()) return;
    if (reader.isOpen && reader.doc.id === doc.id) reader.show(shown.page);
    else reader.open(doc, shown.page);
  }

  // -- background fetching --------------------------------------------------------------------
  const nextChange = () => new Promise((resolve) => (wake = resolve));

  function order() {
    const current = snap() && snap().current_item;
    const docs = live().filter((d) => !complete.has(d.id));
    return [...docs.filter((d) => d.item === current), ...docs.filter((d) => d.item !== current)];
  }

  async function pump() {
    await ready;
    for (;;) {
      const doc = order()[0];
      if (!doc || conn.state.liveBallot() || conn.status !== "online") {
        await nextChange(); // a push, the ballot's end, the connection's return
        continue;
      }
      store.mark(doc);
      let n = fetched.get(doc.id) || 0;
      try {
        while (n < doc.pages && byId(doc.id) && !conn.state.liveBallot()) {
          await store.get(doc, n + 1, { background: true });
          n += 1;
          fetched.set(doc.id, n);
          reader.arrived(doc.id, n);
          render();
        }
      } catch (err) {
        if (err.status === 410 || err.status === 404) complete.add(doc.id); // recalled under us: the list drops it
        else await nextChange(); // offline, or stopped for a ballot: wait for the next change
        continue;
      }
      if (n >= doc.pages && byId(doc.id)) {
        complete.add(doc.id);
        receipt(doc.id, "delivered");
        render(true);
      }
    }
  }

  // -- following the sitting -------------------------------------------------------------------
  function changed() {
    const s = snap();
    if (!s) return;
    const docs = live();
    const ids = new Set(docs.map((d) => d.id));
    if (prevLive !== null) {
      for (const d of docs) {
        if (!prevLive.has(d.id)) {
          fresh.add(d.id);
          notice(t("doc.notice_added", { title: d.title }));
        }
      }
      for (const id of prevLive) {
        if (!ids.has(id)) {
          const gone = (s.documents || []).find((d) => d.id === id);
          notice(t("doc.notice_recalled", { title: gone ? gone.title : "" }));
        }
      }
    }
    for (const id of prevLive || []) if (!ids.has(id)) forget(id);
    prevLive = ids;
    ready.then(() => store.reconcile(ids));
    if (s.closed) store.dropConfidential();
    const ballot = Boolean(conn.state.liveBallot());
    document.body.classList.toggle("voting", ballot); // the library comes before the ballot card, except during a vote
    if (ballot && !wasLive) {
      store.stopBackground(); // the vote comes first: no page on the way while members vote
      if (reader.isOpen) reader.close();
    }
    wasLive = ballot;
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
    render();
  }

  function forget(id) {
    if (reader.isOpen && reader.doc.id === id) reader.close();
    reader.forget(id);
    fresh.delete(id);
    fetched.delete(id);
    complete.delete(id);
    secretOpened.delete(id);
    store.drop(id);
  }

  conn.on((kind, detail) => {
    if (kind === "event") {
      if (foldDocument(snap(), detail) === "shown") {
        if (follow) followPresenter();
        else if (reader.isOpen) reader.renderFollow();
      }
    }
    if (kind === "welcome" || kind === "change" || kind === "status") changed();
  });

  // -- the card -------------------------------------------------------------------------------
  function render(force = false) {
    const s = snap();
    if (!s) return;
    const docs = live();
    const shown = reader.hooks.presenter();
    const sig = JSON.stringify([docs.map((d) => [d.id, d.title, d.pages, d.classification, d.item]),
      [...fresh], [...opened], [...secretOpened], [...fetched], follow, shown, s.current_item, store.cache !== null]);
    if (!force && sig === lastSig) return;
    lastSig = sig;
    if (reader.isOpen) reader.renderFollow();
    const current = s.current_item;
    const items = [...s.items].sort((a, b) => (b.id === current) - (a.id === current));
    const groups = items.map((item) => [item, docs.filter((d) => d.item === item.id)]).filter(([, ds]) => ds.length);
    const orphans = docs.filter((d) => !s.items.some((i) => i.id === d.item));
    mount(card,
      h("h2", {}, t("doc.library")),
      shown && !follow ? h("div", { class: "presenting", id: "presenting" },
        h("span", {}, t("doc.presenter_showing", { title: byId(shown.document).title, page: shown.page })),
        h("button", { class: "btn primary touch", id: "library-follow", onclick: reader.hooks.follow }, t("doc.follow_presenter"))) : null,
      docs.length ? null : h("p", { class: "muted", id: "no-documents" }, t("doc.none")),
      groups.map(([item, ds]) => h("section", { class: "doc-group", "data-item": item.id },
        h("h3", {}, words(item.title), item.id === current ? h("span", { class: "tag" }, t("doc.current_item")) : null),
        h("ul", { class: "doc-list" }, ds.map(row)))),
      orphans.length ? h("ul", { class: "doc-list" }, orphans.map(row)) : null,
      store.cache === null ? h("p", { class: "hint", id: "offline-off" }, t("doc.offline_off")) : null);
  }

  function row(d) {
    const read = opened.has(d.id) || secretOpened.has(d.id);
    const have = fetched.get(d.id) || 0;
    return h("li", {},
      h("button", { class: "doc-row", "data-doc": d.id, "data-class": d.classification, onclick: () => reader.open(d) },
        h("span", { class: "doc-title" }, words(d.title)),
        h("span", { class: "doc-meta" },
          classBadge(d),
          h("span", { class: "doc-pages" }, t("doc.pages", { n: num(d.pages) })),
          fresh.has(d.id) ? h("span", { class: "doc-mark doc-new" }, t("doc.new")) : null,
          !read ? h("span", { class: "doc-mark doc-unread" }, t("doc.unread")) : null,
          have < d.pages ? h("span", { class: "doc-fetch" }, t("doc.fetching", { have: num(have), pages: num(d.pages) })) : null)));
  }

  pump();
  return { store, reader };
}

function loadOpened() {
  try {
    const ids = JSON.parse(localStorage.getItem(OPENED) || "[]");
    return Array.isArray(ids) ? ids : [];
  } catch {
    return [];
  }
}

function saveOpened(set) {
  localStorage.setItem(OPENED, JSON.stringify([...set].slice(-500)));
}
