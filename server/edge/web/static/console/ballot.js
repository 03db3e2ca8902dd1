// Ballot control: open (with a countdown), hold, resume, close, announce, void, re-run,
// further rounds; live progress; the result with the named annex; printing.

import { t } from "/static/lib/i18n.js";
import { h, mount, optionLabel, resultView, ruleText } from "/static/lib/dom.js";
import { ui } from "./ui.js";

const $ = (id) => document.getElementById(id);

function pickBallot() {
  const s = ui.conn.state;
  const selected = ui.selected;
  const live = s.liveBallot();
  if (live && (!selected || s.ballot(selected)?.status === "draft")) return live.id;
  if (selected && s.ballot(selected)) return selected;
  if (live) return live.id;
  const item = s.currentItem();
  return item && item.ballots.length ? item.ballots[0] : s.snap.ballots[0]?.id;
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
    const input = h("input", {
      id: "countdown-input", type: "number", min: 5, max: 3600, step: 5, value: ui.countdownValue ?? b.countdown ?? "",
      placeholder: t("console.no_countdown"), "aria-describedby": "countdown-help",
      oninput: (ev) => { ui.countdownValue = ev.target.value; },
    });
    controls.push(h("div", { class: "field" },
      h("label", { for: "countdown-input" }, t("console.countdown_seconds")), input,
      h("span", { id: "countdown-help", class: "muted" }, t("console.countdown_help"))));
    controls.push(h("button", {
      class: "btn primary", id: "open-ballot", disabled: busy || other,
      onclick: () => {
        const args = { ballot: b.id };
        if (input.value) args.countdown = parseInt(input.value, 10);
        ui.countdownValue = null;
        command("open_ballot", args, t("console.done_open"));
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
        if ((await confirmStep(t("console.confirm_close", { title: b.title }), t("console.close"))) !== null) {
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
  if (b.status === "closed" && b.result && b.result.verdict === "further_round_needed") {
    controls.push(act(t("console.further_round"), "create_further_round", {}, "btn", "further-round"));
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

  const parts = [
    h("div", { class: "bhead" },
      h("div", {},
        h("div", { class: "muted" }, t(`kind.${b.kind}`), " · ", b.secret ? t("ballot.secret") : t("ballot.named"),
          b.run ? ` · ${t("console.run", { n: b.run })}` : ""),
        h("h3", { class: "btitle", id: "ballot-title" }, b.title)),
      h("span", { class: `status status-${b.status}`, id: "ballot-status", "data-status": b.status }, t(`status.${b.status}`))),
    h("p", { class: "muted" }, ruleText(b.rule)),
    h("div", { class: "controls" }, controls),
  ];
  if (b.status === "open" || b.status === "held") parts.push(progressView(b));
  if (b.result && (b.status === "closed" || b.status === "announced")) {
    parts.push(h("h4", {}, t("console.result")), h("div", { id: "result" }, resultView(b.result)));
    if (b.choices && Object.keys(b.choices).length) parts.push(namedAnnex(b));
  }
  if (b.status === "voided" && b.reason) parts.push(h("p", { class: "muted" }, t("console.voided_reason", { reason: b.reason })));
  if ((b.previous_runs || []).length) {
    parts.push(h("details", {}, h("summary", {}, t("console.previous_runs", { n: b.previous_runs.length })),
      b.previous_runs.map((r) => h("div", { class: "prev" }, h("b", {}, t("console.run", { n: r.run })), " ",
        t(`status.${r.status}`), r.result ? resultView(r.result, { detail: false }) : null))));
  }
  mount($("ballot"), parts);
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
      h("ul", { id: "not-voted" }, missing.map((m) => h("li", {}, `${m.seat} ${m.name}`)))));
  }
  return h("div", { class: "progress" }, parts);
}

function namedAnnex(b) {
  const s = ui.conn.state;
  const text = (c) => (typeof c === "string" ? optionLabel(c) : JSON.stringify(c));
  return h("details", {}, h("summary", {}, t("console.named_annex")),
    h("table", { class: "annex" }, h("tbody", {}, Object.entries(b.choices).map(([mid, c]) => {
      const m = s.memberById(mid);
      return h("tr", {}, h("td", {}, m ? m.seat : ""), h("td", {}, m ? m.name : mid), h("td", {}, text(c)));
    }))));
}
