// The start page at /: where an operator who typed the server's address goes next — the
// clerk's console, the pairing sheet (QR codes for tablets and walls), the display wall.
import { clock } from "/static/lib/protocol.js";
import * as i18n from "/static/lib/i18n.js";
import { t } from "/static/lib/i18n.js";

async function main() {
  const info = await clock.sync();
  await i18n.load(i18n.pick(info && info.language));
  i18n.translate();
  document.title = t("start.title");
  // a language chosen here (?lang=en) goes along to the page the operator opens
  for (const a of document.querySelectorAll(".start-links a")) a.setAttribute("href", a.getAttribute("href") + location.search);
}

main();
