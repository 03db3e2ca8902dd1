// Ballot control: open (with a countdown), hold, resume, close, announce, void, re-run,
// further rounds; live progress; the result with the named annex; printing.

import { t, joined, num } from "/static/lib/i18n.js";
import { h, mount, resultView, ballotRuleText, ballotHeader, choiceText, words } from "/static/lib/dom.js";
import { ui } from "./ui.js";

const $ = (id) => document.getElementById(id);
const DONE = ["closed", "announced"];

function pickBallot() {
  const s = ui.conn.state;
  if (ui.selected && s.ballot(ui.selected)) return ui.selected;
  return s.liveBallot()?.id ?? itemBallot(s, s.snap.current_item) ?? s.snap.ballots[0]?.id;
}

/** The ballot of an item the clerk most likely wants next: the live one, else the first not yet done. */
function itemBallot(s, itemId) {
  const ids = s.item(itemId)?.ballots || [];
  const ballots = ids.map((id) => s.ballot(id)).filter(Boolean);
  const pick = ballots.find((b) => b.status === "open" || b.status === "held")
    || ballots.find((b) => !DONE.includes(b.status)) || ballots[0];
  return pick?.id;
}

/**
 * The panel follows the sitting: an item made current shows its ballot, an opened ballot
 * shows itself (whoever opened it), and a further round the clerk just asked for shows
 * the new round. Called by main.js for every event, after the state has folded it.
 */
export function followEvent(ev) {
  const s = ui.conn.state;
  if (ev.name === "item.selected") ui.selected = itemBallot(s, ev.item) ?? ui.selected;
  if (ev.name === "ballot.opened") ui.selected = ev.ballot;
  if (ev.name === "ballot.created" && ui.awaitingRound && ev.ballot.item === ui.awaitingRound) {
    ui.selected = ev.ballot.id;
    ui.awaitingRound = null;
  }
}

/** The next round of an election (created by create_further_round: id `<first id>-r<round>`), if it exists. */
function nextRound(s, b) {
  if (b.kind !== "election") return undefined;
  const round = (b.round || 1) + 1;
  return s.ballot(`${b.id.replace(/-r\d+$/, "")}-r${round}`);
}

export function renderBallot() {
  const s = ui.conn.state;
  const { busy, command, confirmStep } = ui;
  const selected = (ui.selected = pickBallot());
  const b = selected ? s.ballot(selected) : undefined;
  if (!b) {
    mount($("ballot"), h("p", { class: "muted" }, t("console.no_ballots")));
    return;
  }
  const live = s.liveBallot();
  const other = live && live.id !== b.id;
  const controls = [];
  const act = (label, name, extra = {}, cls = "btn", id = null) =>
    h("button", { class: cls, id, disabled: busy, onclick: () => command(name, { ballot: b.id, ...extra }, null) }, label);
  if (b.status === "draft" || b.status === "voided") {
    // the field starts at the agenda's countdown; emptied, the ballot opens without a limit
    const typed = ui.countdown && ui.countdown.ballot === b.id ? ui.countdown.value : null;
    const input = h("input", {
      id: "countdown-input", type: "number", min: 5, max: 3600, step: 1, value: typed ?? b.countdown ?? "",
      placeholder: t("console.no_countdown"), "aria-describedby": "countdown-help",
      oninput: (ev) => { ui.countdown = { ballot: b.id, value: ev.target.value }; },
    });
    controls.push(h("div", { class: "field" },
      h("label", { for: "countdown-input" }, t("console.countdown_seconds")), input,
      h("span", { id: "countdown-help", class: "muted" }, joined([
        t("console.countdown_help"), b.countdown ? t("console.countdown_agenda", { n: b.countdown }) : "",
      ], "items"))));
    controls.push(h("button", {
      class: "btn primary", id: "open-ballot", disabled: busy || other,
      onclick: () => {
        const text = input.value.trim();
        const seconds = text === "" ? 0 : Number(text);
        if (input.validity.badInput || (seconds !== 0 && !(Number.isInteger(seconds) && seconds >= 5 && seconds <= 3600))) {
          ui.toast(t("console.countdown_range"), "error");
          input.focus();
          return;
        }
        ui.countdown = null;
        command("open_ballot", { ballot: b.id, countdown: seconds }, t("console.done_open"));
      },
    }, b.status === "voided" ? t("console.rerun") : t("console.open")));
    if (other) controls.push(h("p", { class: "muted" }, t("console.another_open", { title: live.title })));
  }
  if (b.status === "open") controls.push(act(t("console.hold"), "hold_ballot", {}, "btn", "hold-ballot"));
  if (b.status === "held") controls.push(act(t("console.resume"), "resume_ballot", {}, "btn primary", "resume-ballot"));
  if (b.status === "open" || b.status === "held") {
    controls.push(h("button", {
      class: "btn primary danger", id: "close-ballot", disabled: busy,
      onclick: async () => {
        if ((await confirmStep(closeBallotText(b), t("console.close"))) !== null) {
          command("close_ballot", { ballot: b.id }, t("console.done_close"));
        }
      },
    }, t("console.close")));
  }
  if (b.status === "closed") controls.push(act(t("console.announce"), "announce_ballot", {}, "btn primary", "announce-ballot"));
  if (b.result && (b.status === "closed" || b.status === "announced")) {
    // The print stylesheet (console.css) keeps the meeting, this ballot and its result only.
    controls.push(h("button", { class: "btn", id: "print-result", type: "button", onclick: () => window.print() }, t("console.print_result")));
  }
  const next = nextRound(s, b);
  if (next) {
    controls.push(h("button", {
      class: "btn", id: "go-to-round", onclick: () => { ui.selected = next.id; ui.render(); },
    }, t("console.go_to_round", { n: next.round })));
  } else if (b.result && DONE.includes(b.status) && b.result.verdict === "further_round_needed") {
    controls.push(h("button", {
      class: "btn", id: "further-round", disabled: busy,
      onclick: async () => {
        ui.awaitingRound = b.item; // followEvent moves the panel to the round when it is created
        const ok = await command("create_further_round", { ballot: b.id }, t("console.done_further_round", { n: (b.round || 1) + 1 }));
        if (!ok) ui.awaitingRound = null;
      },
    }, t("console.further_round")));
  }
  if (["open", "held", "closed", "announced"].includes(b.status)) {
    controls.push(h("button", {
      class: "btn danger", id: "void-ballot", disabled: busy,
      onclick: async () => {
        const reason = await confirmStep(t("console.confirm_void", { title: b.title }), t("console.void"), true);
        if (reason !== null) command("void_ballot", { ballot: b.id, reason }, t("console.done_void"));
      },
    }, t("console.void")));
  }

  if (s.snap.closed) controls.length = 0; // the sitting is over: nothing left to run
  const parts = [
    h("div", { class: "bhead" },
      h("div", {},
        h("div", { class: "muted", id: "ballot-kind" }, joined([ballotHeader(b), b.run ? t("console.run", { n: b.run }) : ""], "dot")),
        h("h3", { class: "btitle", id: "ballot-title" }, words(b.title))),
      h("span", { class: `status status-${b.status}`, id: "ballot-status", "data-status": b.status }, t(`status.${b.status}`))),
    h("p", { class: "muted", id: "ballot-rule" }, ballotRuleText(b)),
    h("div", { class: "controls" }, controls),
  ];
  if (b.status === "open" || b.status === "held") parts.push(progressView(b));
  if (b.result && (b.status === "closed" || b.status === "announced")) {
    parts.push(h("h4", {}, t("console.result")));
    if (b.status === "closed" && b.reveal === "on_announce") {
      parts.push(h("p", { class: "state-held", id: "not-yet-shown" }, t("console.not_yet_shown")));
    }
    parts.push(h("div", { id: "result" }, resultView(b.result)));
    if (b.choices && Object.keys(b.choices).length) parts.push(namedAnnex(b));
  }
  if (b.status === "voided" && b.reason) parts.push(h("p", { class: "muted" }, t("console.voided_reason", { reason: b.reason })));
  if ((b.previous_runs || []).length) {
    parts.push(h("details", {}, h("summary", {}, t("console.previous_runs", { n: b.previous_runs.length })),
      b.previous_runs.map((r) => h("div", { class: "prev" },
        h("b", {}, joined([t("console.run", { n: r.run }), t(`status.${r.status}`)], "dot")),
        r.result ? resultView(r.result, { detail: false }) : null))));
  }
  mount($("ballot"), parts);
}

/** The close confirmation says how many present have voted, and warns when nobody has. */
function closeBallotText(b) {
  const { voted, present } = ui.conn.state.turnout(b);
  const lines = [t("console.confirm_close", { title: b.title }), t("console.voted_of_present", { voted: num(voted), present: num(present) })];
  if (!voted) lines.push(t("console.nobody_voted"));
  return lines.join("\n");
}

function progressView(b) {
  const s = ui.conn.state;
  const { voted, present, live } = s.turnout(b);
  const pct = present ? Math.min(100, (100 * voted) / present) : 0;
  const parts = [
    h("div", { class: "progress-head" },
      h("span", { class: "big", id: "progress-count" }, t("progress.voted_of", { voted, present })),
      h("span", { class: "countdown", id: "countdown", "data-deadline": b.deadline ?? "", "data-remaining": b.remaining ?? "" })),
    h("div", { class: "meter", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": present, "aria-valuenow": voted },
      h("span", { style: { width: `${pct}%` } })),
  ];
  if (b.status === "held") parts.push(h("p", { class: "state-held" }, t("console.held_note")));
  if (live) parts.push(resultView({ kind: b.kind, lines: live }, { detail: false, live: true }));
  if (!b.secret) {
    const voters = new Set(b.voters || []);
    const missing = s.snap.members.filter((m) => m.votes && s.snap.attendance[m.id] === "present" && !voters.has(m.id));
    parts.push(h("div", { class: "not-voted" },
      h("h4", {}, t("progress.not_yet", { n: missing.length })),
      h("ul", { id: "not-voted" }, missing.map((m) => h("li", {}, t("console.seat_name", { seat: m.seat, name: m.name }))))));
  }
  return h("div", { class: "progress" }, parts);
}

function namedAnnex(b) {
  const s = ui.conn.state;
  return h("details", {}, h("summary", {}, t("console.named_annex")),
    h("table", { class: "annex" }, h("tbody", {}, Object.entries(b.choices).map(([mid, c]) => {
      const m = s.memberById(mid);
      return h("tr", {}, h("td", {}, m ? m.seat : ""), h("td", {}, m ? m.name : mid), h("td", {}, choiceText(b, c)));
    }))));
}
