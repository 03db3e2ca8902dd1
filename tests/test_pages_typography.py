"""Typography of the three screens in both languages.

- Chinese text uses full-width punctuation: the page code hard-codes no separator (they
  come from the catalogues), and the Chinese catalogues put no ASCII ``: ; ,`` beside
  Chinese text.
- No line breaks inside words: on the wall, the console and the tablet a line only ends at
  a space or a punctuation mark (``word-break: keep-all``), and buttons, table headings,
  counts and verdicts never wrap at all.

Both sample agendas are run through their ballots from the console while tablets vote;
each screen is checked, and photographed (test-artifacts/screens/typo-*.png), at every step.
"""

from __future__ import annotations

import json
import random
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright, expect

from server.core.agenda import agenda_from_dict
from server.edge.auth import set_password
from simulators.choices import random_choice
from terminal_client import Client
from tests.pages_support import Errors, console_login, launch, needs_chromium, pairing_url, serve, shot

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
PAGE_CODE = [
    *ROOT.glob("terminal_client/static/*.js"),
    *ROOT.glob("server/edge/web/static/*.js"),
    *ROOT.glob("server/edge/web/static/console/*.js"),
    *ROOT.glob("server/edge/web/lib/*.js"),
]
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`((?:[^`\\]|\\.)*)`')
SEPARATOR = re.compile(r"^\s*[:;,、，：；·()（）]+\s*$")
GLUED = re.compile(r"(:\s*\$\{|\(\$\{|\}\)|\}:\s|\}\s*·|·\s*\$\{|\}、|、\$\{|\}，|\}；)")
# strings no person reads: a run key, an error for the log, a clock's m:ss
NOT_SHOWN = {"${b.id}:${b.run}", "catalogue ${which}: HTTP ${res.status}", "${code}: ${message}"}
CLOCK = "${num(m)}:${num(s % 60, { minimumIntegerDigits: 2 })}"

# Where a line may end: after a space or closing/pausing punctuation, or before an opening one.
BREAKS = r"""([selector, keep]) => {
  const after = /[\s，、。；：！？）》」』】,.;:!?)\]\-–—\/＋+”’]/;
  const before = /[\s（《「『【(\[“‘]/;
  const bad = [];
  const wrapped = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!el.getClientRects().length) continue;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const breaks = []; // offsets in the element's text where a new line starts
    let offset = 0;
    let lastTop = null;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent;
      let prev = null;
      for (let i = 0; i < text.length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        if (/\s/.test(text[i]) && prev) prev.ch = " "; // a space at a line's end has no box
        if (!rect || !rect.width) continue;
        if (lastTop !== null && rect.top > lastTop + rect.height / 2) breaks.push(offset + i);
        lastTop = rect.top;
        if (prev && rect.top > prev.top + rect.height / 2) {
          if (el.matches(".nowrap-check")) wrapped.push(el.textContent.trim());
          if (!(after.test(prev.ch) || before.test(text[i]))) bad.push(`${prev.ch}|${text[i]} in “${el.textContent.trim()}”`);
        }
        prev = { ch: text[i], top: rect.top };
      }
      offset += text.length;
    }
    // words the segmenter must not split (a break between two text nodes is otherwise allowed)
    const whole = el.textContent;
    for (const word of keep) {
      for (let at = whole.indexOf(word); at >= 0; at = whole.indexOf(word, at + 1)) {
        if (breaks.some((b) => b > at && b < at + word.length)) bad.push(`${word} split in “${whole.trim()}”`);
      }
    }
  }
  return { bad, wrapped };
}"""
# words of the samples' titles that a line must never split
KEEP = ["测评", "满意度", "委员会", "第二十三次", "第十七届", "副主任", "常务委员会", "人民代表大会", "另选他人"]
NO_WRAP = {
    "wall": ".d-table th, .d-table td.n, .d-verdict, .d-kind, .d-cap, .d-small, .verdict",
    "console": ".btn, .status, .tag, .verdict, .bname",
    "tablet": ".btn, .choice, .seg button, .tag, .verdict, .bname",
}
TEXT = {
    "wall": ".d-title, .d-btitle, .d-current, .d-item, .d-body, .d-table td, .d-awaiting, .d-held",
    "console": "h1, h3, .item-title, .ballot-link span, .rlabel, .muted, .summary span, .progress-head",
    "tablet": "h1, h2, .btitle, .item-title, .who, .hint, .state, .rlabel",
}


def test_no_separator_is_hard_coded_in_page_code() -> None:
    found = []
    for path in PAGE_CODE:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip().startswith("//"):
                continue
            for m in LITERAL.finditer(line):
                text = m.group(1) or m.group(2) or m.group(3) or ""
                glued = m.group(3) is not None and GLUED.search(text)
                if (SEPARATOR.match(text) or glued) and text not in NOT_SHOWN and text != CLOCK:
                    found.append(f"{path.relative_to(ROOT)}:{n}: {text!r}")
    assert found == [], "separators belong in the catalogues (sep.*, format.*)"


def strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    return [value] if isinstance(value, str) else []


def test_chinese_catalogues_use_full_width_punctuation() -> None:
    ascii_by_chinese = re.compile(r"[\u3400-\u9fff）》”][:;,]|[:;,]\s*[\u3400-\u9fff（《“]")
    for folder in ("server/edge/web/i18n", "server/paper/certificates/i18n", "device_drivers/i18n"):
        texts = strings(json.loads((ROOT / folder / "zh-CN.json").read_text(encoding="utf-8")))
        assert [s for s in texts if ascii_by_chinese.search(s)] == [], folder


def sample(name: str):
    data = tomllib.loads((ROOT / "agendas" / name).read_text(encoding="utf-8"))
    for item in data["items"]:
        item.pop("documents", None)  # the screens are the point here, not the files
    return agenda_from_dict(data)


async def check(page: Any, name: str, step: str) -> None:
    """No word broken anywhere; nothing that must stay on one line wraps."""
    await page.evaluate(
        "(sel) => document.querySelectorAll(sel).forEach((el) => el.classList.add('nowrap-check'))", NO_WRAP[name]
    )
    found = await page.evaluate(BREAKS, [f"{NO_WRAP[name]}, {TEXT[name]}", KEEP])
    assert found["bad"] == [], (name, step, found["bad"])
    assert found["wrapped"] == [], (name, step, found["wrapped"])


@needs_chromium
@pytest.mark.parametrize("agenda_file", ["standing-committee.zh.toml", "council.en.toml"])
async def test_no_screen_breaks_a_word_in_either_language(tmp_path: Path, agenda_file: str) -> None:
    agenda = sample(agenda_file)
    lang = agenda.meeting.language
    set_password(tmp_path, PASSWORD)
    srv = await serve(tmp_path, agenda)
    errors = Errors()
    clerk = Client(srv.url, srv.creds["clerk"]["token"])
    voters = {m.seat for m in agenda.voting_members}
    first = sorted(voters)[0]
    seats = {s: Client(srv.url, e["token"]) for s, e in srv.creds["seats"].items() if s != first}
    rng = random.Random(5)
    kinds_seen: set[str] = set()
    try:
        welcome = await clerk.connect()
        for client in seats.values():
            await client.connect()
            await client.check_in()
        async with async_playwright() as pw:
            browser = await launch(pw)
            console = errors.watch(
                await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page(), "console"
            )
            await console_login(console, srv.http, PASSWORD)
            wall = errors.watch(
                await (await browser.new_context(viewport={"width": 1280, "height": 720})).new_page(), "wall"
            )
            await wall.goto(pairing_url(srv))
            tablet = errors.watch(
                await (await browser.new_context(viewport={"width": 1180, "height": 820})).new_page(), "tablet"
            )
            await tablet.goto(pairing_url(srv, first))
            await tablet.click("#check-in")
            pages = {"wall": wall, "console": console, "tablet": tablet}
            await expect(wall.locator("[data-layout=idle]")).to_be_visible()
            for name, page in pages.items():
                await check(page, name, "idle")
                await shot(page, f"typo-{name}-idle-{lang}")
            for view in welcome["snapshot"]["ballots"]:
                if view["kind"] in kinds_seen:
                    continue
                kinds_seen.add(view["kind"])
                await console.click(f"#ballot-{view['id']}")
                await console.click("#open-ballot")
                await expect(wall.locator("[data-layout=ballot]")).to_be_visible()
                await expect(tablet.locator("#ballot-title")).to_have_text(view["title"])
                for name, page in pages.items():
                    await check(page, name, f"{view['id']} open")
                    await shot(page, f"typo-{name}-{view['kind']}-open-{lang}")
                for seat in sorted(voters - {first}):  # the tablet's member looks on
                    await seats[seat].cast(view["id"], random_choice(view, rng))
                await console.click("#close-ballot")
                await console.click("#confirm-ok")
                await expect(wall.locator("[data-layout=result], [data-layout=awaiting]")).to_be_visible()
                await expect(console.locator("#result")).to_be_visible()
                for name, page in pages.items():
                    await check(page, name, f"{view['id']} result")
                    await shot(page, f"typo-{name}-{view['kind']}-result-{lang}")
            await browser.close()
    finally:
        await clerk.close()
        for client in seats.values():
            await client.close()
        await srv.stop()
    assert errors.seen == []
    assert kinds_seen == {b.kind for b in agenda.ballots.values()}  # every kind of paper and result looked at
