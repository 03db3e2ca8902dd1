// The tablet's reader: one document full-screen, page by page, from the server's rendered
// page images (the PageStore: memory, Cache Storage, then the network).
//
// Turning: swipe, the arrow/Page keys, the big side buttons, the thumbnail strip and "go to
// page". Zoom: pinch, double-tap, or the + / − buttons; a zoomed page pans by dragging.
// Follow mode: while on, the presenter's `show_page` turns this reader; a member who turns a
// page themselves leaves it, and a "back to the presenter" button stays visible to return.
// Where a member stopped is remembered per document (public/internal in localStorage;
// confidential in memory only: not even a position of a confidential document is persisted).

import { t } from "/static/lib/i18n.js";
import { h, mount, words } from "/static/lib/dom.js";
import { classBadge } from "/static/lib/documents.js";

const POSITIONS = "hemicycle.reader.positions";
const ZOOMS = [1, 1.5, 2, 3, 4];
const SWIPE = 60; // px of horizontal travel that turns a page

export class Reader {
  /**
   * @param root     the element the reader fills (hidden while closed)
   * @param store    the PageStore
   * @param hooks    {opened(doc), left(), follow(), closed(), presenter(): {document, page} | null, following(): bool}
   */
  constructor(root, store, hooks) {
    this.root = root;
    this.store = store;
    this.hooks = hooks;
    this.doc = null;
    this.page = 1;
    this.zoom = 1;
    this.pan = { x: 0, y: 0 };
    this.urls = new Map(); // page (or "t"+page for a thumbnail) -> object URL (revoked when no longer near)
    this.pool = new Map(); // page -> Promise of its decoded <img>, for the pages near the one shown
    this.secretPositions = new Map();
    this.turn = 0; // bumps on every turn: a late image never replaces a newer one
    this.onKey = (ev) => this.key(ev);
  }

  get isOpen() {
    return this.doc !== null;
  }

  position(doc) {
    if (doc.classification === "confidential") return this.secretPositions.get(doc.id) || 1;
    try {
      return JSON.parse(localStorage.getItem(POSITIONS) || "{}")[doc.id] || 1;
    } catch {
      return 1;
    }
  }

  remember() {
    const { doc, page } = this;
    if (doc.classification === "confidential") {
      this.secretPositions.set(doc.id, page);
      return;
    }
    let all = {};
    try {
      all = JSON.parse(localStorage.getItem(POSITIONS) || "{}");
    } catch {
      all = {};
    }
    all[doc.id] = page;
    localStorage.setItem(POSITIONS, JSON.stringify(all));
  }

  forget(id) {
    this.secretPositions.delete(id);
  }

  /** Open `doc` at `page` (default: where the member left it). */
  open(doc, page) {
    const switching = !this.doc || this.doc.id !== doc.id;
    if (switching) this.release();
    this.doc = doc;
    if (switching) {
      this.build();
      document.addEventListener("keydown", this.onKey);
    }
    this.show(Math.min(doc.pages, Math.max(1, page || this.position(doc))));
    this.hooks.opened(doc);
  }

  close() {
    if (!this.doc) return;
    this.release();
    this.doc = null;
    document.removeEventListener("keydown", this.onKey);
    this.root.classList.add("hidden");
    mount(this.root);
    document.body.classList.remove("reading");
    this.hooks.closed();
  }

  release() {
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
    this.pool.clear();
    if (this.thumbObserver) this.thumbObserver.disconnect();
  }

  /** A member's own turn: leaves follow mode. */
  go(page) {
    if (!this.doc) return;
    const target = Math.min(this.doc.pages, Math.max(1, page));
    if (target === this.page) return;
    if (this.hooks.following()) this.hooks.left();
    this.show(target);
  }

  build() {
    const doc = this.doc;
    const img = h("img", { class: "reader-page", id: "reader-page", alt: "", draggable: "false" });
    this.img = img;
    this.stage = h("div", { class: "reader-stage", id: "reader-stage" }, img);
    this.status = h("div", { class: "reader-status", id: "reader-status", role: "status" });
    this.counter = h("span", { class: "reader-count", id: "reader-count" });
    this.followBox = h("span", { class: "reader-follow", id: "reader-follow" });
    const goInput = h("input", {
      id: "reader-goto", type: "number", inputmode: "numeric", min: 1, max: doc.pages, "aria-label": t("doc.goto_label", { pages: doc.pages }),
    });
    const thumbs = h("nav", { class: "reader-thumbs", id: "reader-thumbs", "aria-label": t("doc.thumbnails") },
      Array.from({ length: doc.pages }, (_, i) => h("button", {
        class: "thumb", "data-page": i + 1, "aria-label": t("doc.page_n", { n: i + 1 }), onclick: () => this.go(i + 1),
      }, h("span", { class: "thumb-n" }, String(i + 1)))));
    this.thumbs = thumbs;
    mount(this.root,
      h("header", { class: "reader-bar" },
        h("button", { class: "btn touch", id: "reader-close", onclick: () => this.close() }, t("doc.back_to_library")),
        h("div", { class: "reader-title" }, classBadge(doc), " ", h("span", { id: "reader-title" }, words(doc.title))),
        this.followBox,
        h("div", { class: "reader-zoom", role: "group", "aria-label": t("doc.zoom") },
          h("button", { class: "btn touch", id: "zoom-out", "aria-label": t("doc.zoom_out"), onclick: () => this.zoomBy(-1) }, "−"),
          h("button", { class: "btn touch", id: "zoom-reset", "aria-label": t("doc.zoom_reset"), onclick: () => this.setZoom(1) }, "1:1"),
          h("button", { class: "btn touch", id: "zoom-in", "aria-label": t("doc.zoom_in"), onclick: () => this.zoomBy(1) }, "+"))),
      h("div", { class: "reader-body" },
        h("button", { class: "reader-turn prev", id: "reader-prev", "aria-label": t("doc.previous"), onclick: () => this.go(this.page - 1) }, "‹"),
        this.stage,
        h("button", { class: "reader-turn next", id: "reader-next", "aria-label": t("doc.next"), onclick: () => this.go(this.page + 1) }, "›")),
      h("footer", { class: "reader-foot" },
        this.counter,
        h("form", {
          class: "reader-goto",
          onsubmit: (ev) => {
            ev.preventDefault();
            const n = parseInt(goInput.value, 10);
            if (Number.isInteger(n)) this.go(n);
            goInput.value = "";
          },
        }, goInput, h("button", { class: "btn touch", id: "reader-goto-button", type: "submit" }, t("doc.goto"))),
        this.status),
      thumbs);
    this.root.setAttribute("aria-label", doc.title);
    delete this.root.dataset.shown; // nothing of the previous document counts as shown
    this.root.classList.remove("hidden");
    document.body.classList.add("reading");
    this.gestures();
    this.observeThumbs();
    this.renderFollow();
    this.root.querySelector("#reader-close").focus({ preventScroll: true });
  }

  /** Thumbnails draw their page only once scrolled into view (a 300-page pack stays light),
   * from what the tablet already holds; one still on its way is drawn when it arrives. */
  observeThumbs() {
    this.thumbObserver = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        this.thumbObserver.unobserve(entry.target);
        entry.target.dataset.seen = "1";
        this.drawThumb(entry.target);
      }
    }, { root: this.thumbs });
    for (const btn of this.thumbs.children) this.thumbObserver.observe(btn);
  }

  drawThumb(btn) {
    const doc = this.doc;
    const n = Number(btn.dataset.page);
    if (btn.querySelector("img") || this.urls.has(`t${n}`)) return;
    this.store.held(doc, n).then((blob) => {
      if (!blob || this.doc !== doc || this.urls.has(`t${n}`)) return;
      const url = URL.createObjectURL(blob);
      this.urls.set(`t${n}`, url);
      btn.prepend(h("img", { src: url, alt: "" }));
    }, () => {});
  }

  /** A page of `docId` has just been fetched in the background. */
  arrived(docId, n) {
    if (!this.doc || this.doc.id !== docId) return;
    const btn = this.thumbs.children[n - 1];
    if (btn && btn.dataset.seen) this.drawThumb(btn);
  }

  async show(page) {
    const doc = this.doc;
    const turn = ++this.turn;
    const previous = this.page;
    this.page = page;
    this.setZoom(1);
    this.remember();
    this.counter.textContent = t("doc.page_of", { page, pages: doc.pages });
    this.root.dataset.page = String(page);
    const thumbs = this.thumbs.children;
    if (thumbs[previous - 1]) thumbs[previous - 1].setAttribute("aria-current", "false");
    thumbs[page - 1].setAttribute("aria-current", "page");
    thumbs[page - 1].scrollIntoView({ block: "nearest", inline: "center" });
    this.root.querySelector("#reader-prev").disabled = page <= 1;
    this.root.querySelector("#reader-next").disabled = page >= doc.pages;
    this.renderFollow();
    this.status.textContent = "";
    try {
      const img = await this.imageFor(page);
      if (turn !== this.turn || this.doc !== doc) return;
      this.img.removeAttribute("id");
      img.id = "reader-page";
      img.alt = t("doc.page_alt", { title: doc.title, page });
      this.img.replaceWith(img); // decoded already: the turn is one paint
      this.img = img;
      this.applyTransform();
      this.root.dataset.shown = String(page);
    } catch (err) {
      if (turn !== this.turn || this.doc !== doc) return;
      this.img.removeAttribute("src");
      this.root.dataset.shown = "";
      this.status.textContent = err.status ? t("doc.page_failed") : t("doc.page_offline");
    }
    this.preload(page, turn);
  }

  /** The page as an <img> already decoded (one per page near the one shown). */
  imageFor(page) {
    if (!this.pool.has(page)) {
      const doc = this.doc;
      const made = this.store.get(doc, page).then(async (blob) => {
        const url = URL.createObjectURL(blob);
        const img = h("img", { class: "reader-page", src: url, alt: "", draggable: "false" });
        this.urls.set(page, url);
        await img.decode().catch(() => {});
        return img;
      });
      made.catch(() => this.pool.delete(page)); // not held and offline: asked again next time
      this.pool.set(page, made);
    }
    return this.pool.get(page);
  }

  /** Keep the pages either side decoded (a turn is then only a paint), and let go of the rest. */
  preload(page, turn) {
    for (const key of [...this.pool.keys()]) {
      if (Math.abs(key - page) > 2) {
        this.pool.delete(key);
        if (this.urls.has(key)) URL.revokeObjectURL(this.urls.get(key));
        this.urls.delete(key);
      }
    }
    for (const n of [page + 1, page - 1]) {
      if (turn === this.turn && n >= 1 && n <= this.doc.pages) this.imageFor(n).catch(() => {});
    }
  }

  renderFollow() {
    const shown = this.hooks.presenter();
    const here = shown && this.doc && shown.document === this.doc.id;
    if (this.hooks.following()) {
      mount(this.followBox, h("span", { class: "tag tag-follow", id: "following" }, t("doc.following")));
    } else if (shown) {
      mount(this.followBox, h("button", {
        class: "btn primary touch", id: "follow-presenter", onclick: () => this.hooks.follow(),
      }, here ? t("doc.back_to_presenter", { page: shown.page }) : t("doc.follow_presenter")));
    } else {
      mount(this.followBox);
    }
  }

  // -- zoom and pan ---------------------------------------------------------------------------
  zoomBy(step) {
    const i = ZOOMS.findIndex((z) => z >= this.zoom - 1e-6);
    this.setZoom(ZOOMS[Math.min(ZOOMS.length - 1, Math.max(0, (i < 0 ? 0 : i) + step))]);
  }

  setZoom(z) {
    this.zoom = Math.min(ZOOMS[ZOOMS.length - 1], Math.max(1, z));
    if (this.zoom === 1) this.pan = { x: 0, y: 0 };
    this.applyTransform();
  }

  applyTransform() {
    if (!this.img) return;
    const { x, y } = this.clampPan(this.pan);
    this.pan = { x, y };
    this.img.style.translate = `${x}px ${y}px`;
    this.img.style.scale = String(this.zoom);
    this.root.dataset.zoom = String(this.zoom);
  }

  clampPan({ x, y }) {
    const w = this.stage.clientWidth;
    const hgt = this.stage.clientHeight;
    const mx = (w * (this.zoom - 1)) / 2;
    const my = (hgt * (this.zoom - 1)) / 2 + Math.max(0, this.img.clientHeight * this.zoom - hgt) / 2;
    return { x: Math.max(-mx, Math.min(mx, x)), y: Math.max(-my, Math.min(my, y)) };
  }

  gestures() {
    const pointers = new Map();
    let start = null; // {x, y, pan, zoom, dist}
    let lastTap = 0;
    const stage = this.stage;
    const distance = () => {
      const [a, b] = [...pointers.values()];
      return Math.hypot(a.x - b.x, a.y - b.y);
    };
    stage.addEventListener("pointerdown", (ev) => {
      try {
        stage.setPointerCapture(ev.pointerId);
      } catch {
        // a pointer the browser no longer tracks: the gesture works without capture
      }
      pointers.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
      start = { x: ev.clientX, y: ev.clientY, pan: { ...this.pan }, zoom: this.zoom, dist: pointers.size === 2 ? distance() : 0 };
    });
    stage.addEventListener("pointermove", (ev) => {
      if (!pointers.has(ev.pointerId) || !start) return;
      pointers.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
      if (pointers.size === 2 && start.dist) {
        this.zoom = Math.min(4, Math.max(1, start.zoom * (distance() / start.dist)));
        this.applyTransform();
      } else if (pointers.size === 1 && this.zoom > 1) {
        this.pan = { x: start.pan.x + ev.clientX - start.x, y: start.pan.y + ev.clientY - start.y };
        this.applyTransform();
      }
    });
    const end = (ev) => {
      if (!pointers.has(ev.pointerId)) return;
      pointers.delete(ev.pointerId);
      if (!start) return;
      const dx = ev.clientX - start.x;
      const dy = ev.clientY - start.y;
      if (pointers.size === 0 && start.dist === 0) {
        if (this.zoom === 1 && Math.abs(dx) > SWIPE && Math.abs(dx) > 1.5 * Math.abs(dy)) this.go(this.page + (dx < 0 ? 1 : -1));
        else if (Math.abs(dx) < 10 && Math.abs(dy) < 10) {
          const now = Date.now();
          if (now - lastTap < 350) {
            this.setZoom(this.zoom > 1 ? 1 : 2);
            lastTap = 0;
          } else lastTap = now;
        }
      }
      if (this.zoom <= 1.01) this.setZoom(1);
      start = pointers.size ? { ...start, dist: 0 } : null;
    };
    stage.addEventListener("pointerup", end);
    stage.addEventListener("pointercancel", end);
    stage.addEventListener("dblclick", (ev) => ev.preventDefault());
  }

  key(ev) {
    if (!this.doc || ev.target instanceof HTMLInputElement) return;
    const moves = { ArrowRight: 1, PageDown: 1, ArrowLeft: -1, PageUp: -1 };
    if (ev.key in moves && this.zoom === 1) {
      ev.preventDefault();
      this.go(this.page + moves[ev.key]);
    } else if (ev.key === "Home") this.go(1);
    else if (ev.key === "End") this.go(this.doc.pages);
    else if (ev.key === "+" || ev.key === "=") this.zoomBy(1);
    else if (ev.key === "-") this.zoomBy(-1);
    else if (ev.key === "Escape") this.close();
  }
}
