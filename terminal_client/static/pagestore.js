// Where the tablet keeps the page images it has fetched (docs/documents.md, "On the tablet").
//
//   public, internal   Cache Storage ("hemicycle-pages-v1"), keyed by the page's URL: still
//                      readable when the Wi-Fi drops or the page is reloaded offline (the
//                      service worker, sw.js, keeps the page itself). Cache Storage exists only
//                      in a secure context (HTTPS, or localhost); over plain HTTP these pages are
//                      kept in memory instead, the last MEMORY_PAGES of them.
//   confidential       memory only (Blobs in this page), never written to any browser storage;
//                      gone on recall, when the sitting closes, and when the page is closed.
//
// A recall drops the document from both at once (drop()); reconcile() drops whatever the
// sitting no longer lists, e.g. documents recalled while the tablet was off.

import { fetchPage, pageUrl } from "/static/lib/documents.js";

export const CACHE = "hemicycle-pages-v1";
const MEMORY_PAGES = 80; // public/internal pages kept in memory when there is no Cache Storage

export class PageStore {
  constructor(token) {
    this.token = token;
    this.memory = new Map(); // url -> Blob (confidential; public/internal only without Cache Storage)
    this.persistent = window.isSecureContext && "caches" in window;
    this.cache = null;
    this.known = new Set(); // document ids with pages in Cache Storage
    this.fetching = new Map(); // url -> Promise<Blob>: one fetch per page however many ask
    this.confidential = new Set(); // ids of confidential documents held in memory
    this.dropped = new Set(); // ids recalled: a fetch finishing after the recall keeps nothing
    this.background = new AbortController(); // the library's prefetches, stopped when a ballot opens
  }

  async open() {
    if (!this.persistent) return;
    try {
      this.cache = await caches.open(CACHE);
      for (const req of await this.cache.keys()) {
        const id = docOf(new URL(req.url).pathname);
        if (id) this.known.add(id);
      }
    } catch {
      this.persistent = false; // storage refused (private mode, quota): memory only
    }
  }

  keeps(doc) {
    return doc.classification !== "confidential" && this.cache !== null;
  }

  /** The page as a Blob if already held here (memory or cache), else null; no network. */
  async held(doc, n) {
    const url = pageUrl(doc.id, n);
    const mem = this.memory.get(url);
    if (mem) return mem;
    if (!this.keeps(doc)) return null;
    const hit = await this.cache.match(url);
    return hit ? hit.blob() : null;
  }

  /** The page as a Blob: from what is held, else fetched (and kept as its classification allows).
   * `background`: a prefetch, which stopBackground() aborts. */
  async get(doc, n, { background = false } = {}) {
    const have = await this.held(doc, n);
    if (have) return have;
    const url = pageUrl(doc.id, n);
    // a page the reader waits for never waits behind a prefetch of it: each lane fetches once
    const key = background ? `bg ${url}` : url;
    if (!this.fetching.has(key)) {
      const job = this.fetch(doc, n, url, background).finally(() => this.fetching.delete(key));
      this.fetching.set(key, job);
    }
    return this.fetching.get(key);
  }

  /** A ballot opened: the prefetch in flight stops at once, so the vote has the network and
   * the server to itself (the library starts no other until the ballot is over). */
  stopBackground() {
    this.background.abort();
    this.background = new AbortController();
  }

  async fetch(doc, n, url, background) {
    const signal = background ? this.background.signal : undefined;
    const res = await fetchPage(this.token, doc.id, n, { signal, background });
    const headers = new Headers(res.headers);
    const blob = await res.blob();
    if (this.dropped.has(doc.id)) return blob; // recalled while fetching: kept nowhere, shown nowhere
    if (this.keeps(doc)) {
      this.known.add(doc.id);
      // written in the background: the page is shown from the Blob without waiting for the disk
      this.cache.put(url, new Response(blob, { headers })).then(() => {
        if (this.dropped.has(doc.id)) return this.cache.delete(url); // recalled while writing
        return null;
      }, () => {});
      return blob;
    }
    this.memory.set(url, blob);
    this.mark(doc);
    if (doc.classification !== "confidential") this.trim();
    return blob;
  }

  trim() {
    const plain = [...this.memory.keys()].filter((u) => !this.confidential.has(docOf(u)));
    for (const url of plain.slice(0, Math.max(0, plain.length - MEMORY_PAGES))) this.memory.delete(url);
  }

  /** Remember which documents are confidential (their pages are never trimmed, only dropped). */
  mark(doc) {
    if (doc.classification === "confidential") this.confidential.add(doc.id);
  }

  /** Forget a document at once: memory and Cache Storage. */
  async drop(id) {
    this.dropped.add(id);
    this.confidential.delete(id);
    for (const url of [...this.memory.keys()]) if (docOf(url) === id) this.memory.delete(url);
    if (this.cache && this.known.has(id)) {
      this.known.delete(id);
      const keys = await this.cache.keys();
      await Promise.all(keys.filter((r) => docOf(new URL(r.url).pathname) === id).map((r) => this.cache.delete(r)));
    }
  }

  /** Drop every document held that `live` (a set of ids) no longer contains. */
  async reconcile(live) {
    const held = new Set([...this.known, ...[...this.memory.keys()].map(docOf)]);
    await Promise.all([...held].filter((id) => id && !live.has(id)).map((id) => this.drop(id)));
  }

  /** The sitting closed: no confidential page stays, even one not recalled yet. */
  dropConfidential() {
    return Promise.all([...this.confidential].map((id) => this.drop(id)));
  }
}

function docOf(path) {
  const m = /^\/api\/documents\/([^/]+)\/pages\//.exec(path);
  return m ? decodeURIComponent(m[1]) : null;
}
