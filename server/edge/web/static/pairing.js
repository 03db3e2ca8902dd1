// The printable pairing sheet: one QR code per seat and one for the next display wall. Each
// code pairs one device, once, which gets a token of its own; "issue new codes" replaces
// every unused code (after a sheet was lost, for example). Below the sheet (not printed):
// the paired devices, each of which the clerk can revoke.
import { clock } from "/static/lib/protocol.js";
import * as i18n from "/static/lib/i18n.js";
import { t, time, errorText } from "/static/lib/i18n.js";
import { h, mount } from "/static/lib/dom.js";

let csrf = null;

function svgNode(text) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = document.importNode(doc.documentElement, true);
  svg.setAttribute("class", "qr");
  svg.setAttribute("role", "img");
  return svg;
}

async function post(path, body) {
  const res = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body || {}),
  });
  if (res.status === 401) {
    location.replace("/console/login");
    return null;
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(data.message || res.status), { code: data.error });
  return data;
}

async function load(renew) {
  const data = await post("/api/console/pairing", { renew });
  if (!data) return;
  // a sheet whose codes point at this machine only pairs nothing on the room network: say so loudly
  mount(document.getElementById("network-warning"), data.loopback
    ? h("div", { class: "warning-banner", role: "alert" }, t("network.loopback_warning", { url: data.base }))
    : null);
  mount(document.getElementById("room-ca"), data.ca
    ? h("div", { class: "sheet" }, h("figure", { class: "qr-card ca-card" },
      svgNode(data.ca.svg),
      h("figcaption", {},
        h("div", { class: "qr-seat" }, t("pairing.ca_title")),
        h("div", { class: "muted" }, t("pairing.ca_help")),
        h("a", { class: "qr-url", id: "ca-url", href: data.ca.url }, data.ca.url),
        h("div", { class: "qr-fingerprint" }, t("pairing.ca_fingerprint", { sha256: data.ca.sha256.match(/.{1,4}/g).join(" ") })))))
    : null);
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
        h("div", { class: "qr-code" }, t("pairing.code", { code: data.display.code })),
        h("div", { class: "muted" }, t("pairing.display_help")),
        h("a", { class: "qr-url", id: "display-url", href: data.display.url }, t("pairing.display_open")))));
}

/** The paired devices, newest first, each with a revoke button. */
async function loadDevices() {
  const data = await post("/api/console/devices");
  if (!data) return;
  const rows = data.devices.map((d) => h("tr", { "data-device": d.id, "data-seat": d.seat || "" },
    h("td", {}, d.role === "display" ? t("pairing.display") : t("pairing.seat", { seat: d.seat })),
    h("td", {}, d.name || ""),
    h("td", { class: "muted" }, t("devices.paired", { time: time(d.paired_at), address: d.address || "?" })),
    h("td", {}, h("button", {
      class: "btn danger small revoke", type: "button", "data-device": d.id,
      onclick: async (ev) => {
        if (!window.confirm(t("devices.revoke_confirm"))) return;
        ev.target.disabled = true;
        try {
          await post("/api/console/devices/revoke", { device: d.id });
        } catch (err) {
          window.alert(errorText(err));
        }
        await loadDevices();
      },
    }, t("devices.revoke")))));
  mount(document.getElementById("devices"), data.devices.length
    ? h("table", { class: "devices-table" }, h("tbody", {}, rows))
    : h("p", { class: "muted", id: "no-devices" }, t("devices.none")));
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
  document.getElementById("refresh-devices").addEventListener("click", () => loadDevices());
  await load(false);
  await loadDevices();
}

main();
