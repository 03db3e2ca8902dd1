// The room's seat map (an agenda's optional [layout], server/core/layout.py): each seat drawn
// where it is in the chamber, facing the rostrum. The server computes the positions, in a
// drawing 100 x 100 units shown 2:1 (x across, y down); a screen hands in one element per
// seat (its own tile, coloured as it likes) and gets back the map and the tiles the layout
// leaves out, which the screen shows as its grid. No layout: everything stays in the grid.

import { h } from "./dom.js";

/**
 * @param layout the snapshot's `layout` ({rostrum, seats: {seat: [x, y]}}) or null
 * @param tiles  [{seat, el}] in the screen's order
 * @returns {{map: Element|null, rest: Element[]}}
 */
export function seatMap(layout, tiles, className = "") {
  if (!layout || !layout.seats) return { map: null, rest: tiles.map((t) => t.el) };
  const placed = [];
  const rest = [];
  for (const { seat, el } of tiles) {
    const at = layout.seats[seat];
    if (!at) {
      rest.push(el);
      continue;
    }
    el.classList.add("on-map");
    el.style.left = `${at[0]}%`;
    el.style.top = `${at[1]}%`;
    placed.push(el);
  }
  const r = layout.rostrum;
  const rostrum = r ? h("div", {
    class: "rostrum", "aria-hidden": "true",
    style: { left: `${r.x - r.width / 2}%`, top: `${r.y - r.height / 2}%`, width: `${r.width}%`, height: `${r.height}%` },
  }, h("span", { class: "rostrum-label" }, r.label)) : null;
  return { map: h("div", { class: `seatmap ${className}`.trim(), id: `${className || "seat"}-map` }, rostrum, placed), rest };
}
