// The printable pairing sheet: one QR code per seat. Each code pairs one tablet, once;
// "issue new codes" replaces every unused code (after a sheet was lost, for example).
import { clock } from "/static/lib/protocol.js";
import * as i18n from "/static/lib/i18n.js";
import { t, time } from "/static/lib/i18n.js";
import { h, mount } from "/static/lib/dom.js";

let csrf = null;

function svgNode(text) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = document.importNode(doc.documentElement, true);
  svg.setAttribute("class", "qr");
  svg.setAttribute("role", "img");
  return svg;
}

async function load(renew) {
  const res = await fetch("/api/console/pairing", {
    method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ renew }),
  });
  if (res.status === 401) {
    location.replace("/console/login");
    return;
  }
  const data = await res.json();
  mount(document.getElementById("sheet"),
    data.seats.map((s) => h("figure", { class: "qr-card", "data-seat": s.seat },
      svgNode(s.svg),
      h("figcaption", {},
        h("div", { class: "qr-seat" }, t("pairing.seat", { seat: s.seat })),
        h("div", { class: "qr-name" }, s.name),
        h("div", { class: "qr-code" }, t("pairing.code", { code: s.code })),
        h("a", { class: "qr-url", href: s.url, "data-url": s.url }, s.url),
        s.paired_at ? h("div", { class: "muted no-print" }, t("pairing.paired_at", { time: time(s.paired_at) })) : null))),
    h("figure", { class: "qr-card display-card" },
      svgNode(data.display.svg),
      h("figcaption", {},
        h("div", { class: "qr-seat" }, t("pairing.display")),
        h("div", { class: "muted" }, t("pairing.display_help")),
        h("a", { class: "qr-url", id: "display-url", href: data.display.url }, t("pairing.display_open")))));
}

async function main() {
  const info = await clock.sync();
  await i18n.load(i18n.pick(info && info.language));
  i18n.translate();
  document.title = t("pairing.heading");
  const res = await fetch("/api/console/session", { cache: "no-store" });
  if (res.status === 401) {
    location.replace("/console/login");
    return;
  }
  csrf = (await res.json()).csrf;
  document.getElementById("print").addEventListener("click", () => window.print());
  document.getElementById("renew").addEventListener("click", () => {
    if (window.confirm(t("pairing.renew_confirm"))) load(true);
  });
  await load(false);
}

main();
