// The seat tablet's service worker (served at /seat-sw.js, scope /seat): keeps the page
// itself — its HTML, modules, styles and catalogues — so a tablet that reloads while the
// Wi-Fi is down still opens, and reads the pages its library already holds.
//
// Network first, the copy kept here only when the server cannot be reached: an upgraded
// server is picked up at once. Nothing under /api is touched: page images are stored by the
// page itself (pagestore.js), which alone knows a page's classification — a confidential
// page must never reach Cache Storage, and this worker never sees one to store.

const SHELL = "hemicycle-shell-v1";
const KEPT = [/^\/seat$/, /^\/static\/seat\//, /^\/static\/lib\//, /^\/i18n\//];

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || !KEPT.some((re) => re.test(url.pathname))) return;
  event.respondWith((async () => {
    const cache = await caches.open(SHELL);
    const key = url.pathname === "/seat" ? "/seat" : req; // pairing and ?lang= are the same page
    try {
      const res = await fetch(req);
      if (res.ok) await cache.put(key, res.clone());
      return res;
    } catch (err) {
      const kept = await cache.match(key, { ignoreSearch: url.pathname === "/seat" });
      if (kept) return kept;
      throw err;
    }
  })());
});
