// The agenda: items with their ballots; make an item current, pick a ballot to look at.

import { t } from "/static/lib/i18n.js";
import { h, mount, words } from "/static/lib/dom.js";
import { ui } from "./ui.js";

const $ = (id) => document.getElementById(id);

export function renderAgenda() {
  const s = ui.conn.state;
  const { busy } = ui;
  mount($("agenda"), s.snap.items.map((item) => {
    const current = s.snap.current_item === item.id;
    return h("div", { class: `item${current ? " current" : ""}`, "data-item": item.id },
      h("div", { class: "item-head" },
        h("span", { class: "item-title" }, words(item.title)),
        current ? h("span", { class: "tag tag-current" }, t("console.current_item"))
          : h("button", { class: "btn small", id: `item-${item.id}`, disabled: busy || s.snap.closed, onclick: () => ui.command("select_item", { item: item.id }) }, t("console.select_item"))),
      h("ul", { class: "ballots" }, item.ballots.map((id) => {
        const b = s.ballot(id);
        if (!b) return null;
        return h("li", {}, h("button", {
          class: `ballot-link${ui.selected === id ? " selected" : ""}`, "data-ballot": id, id: `ballot-${id}`, "aria-current": ui.selected === id ? "true" : null,
          onclick: () => {
            ui.selected = id;
            ui.render();
          },
        }, h("span", {}, words(b.title)), h("span", { class: `status status-${b.status}` }, t(`status.${b.status}`))));
      })));
  }));
}
