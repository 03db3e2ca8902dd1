// The display wall's "document" layout: the page the clerk presents (`show_page`), full
// screen. Only documents for everyone and not confidential reach a display at all (the
// server never sends it the others' events); an open ballot takes the wall back (display.js
// chooses the ballot layout first), and a result closed after the page was shown wins over it.

import { t } from "/static/lib/i18n.js";
import { h, words } from "/static/lib/dom.js";
import { fetchPage } from "/static/lib/documents.js";

let shown = null; // {key, url} of the image on the wall
let loading = null;

/** The page to present now, or null: shown after the last result, of a document not recalled. */
export function presented(state) {
  const page = state.snap && state.snap.page;
  if (!page) return null;
  const doc = (state.snap.documents || []).find((d) => d.id === page.document && !d.recalled);
  if (!doc) return null;
  if (state.lastClosed && !(page.at && page.at > state.lastClosed.at)) return null;
  return { doc, page: page.page };
}

/** The layout; `redraw` is called once the page image has arrived. */
export function documentLayout(state, token, redraw) {
  const { doc, page } = presented(state);
  const key = `${doc.id}/${page}`;
  if ((!shown || shown.key !== key) && loading !== key) {
    loading = key;
    fetchPage(token, doc.id, page)
      .then((res) => res.blob())
      .then((blob) => {
        if (loading !== key) return;
        if (shown) URL.revokeObjectURL(shown.url);
        shown = { key, url: URL.createObjectURL(blob) };
        loading = null;
        redraw();
      }, () => {
        if (loading === key) loading = null;
      });
  }
  const ready = shown && shown.key === key;
  return h("section", { class: "layout layout-document", "data-layout": "document", "data-doc": doc.id, "data-page": page },
    h("div", { class: "d-doc-head" }, h("span", { class: "d-doc-title" }, words(doc.title)),
      h("span", { class: "d-doc-page", id: "d-doc-page" }, t("doc.page_of", { page, pages: doc.pages }))),
    ready ? h("img", { class: "d-doc-page-img", id: "d-doc-img", src: shown.url, alt: t("doc.page_alt", { title: doc.title, page }), "data-shown": key })
      : h("div", { class: "d-current" }, t("doc.loading")));
}
