// Ballot papers for the seat tablet, one per kind (docs/ballot-kinds.md), rendered from
// the ballot view alone. Each paper: empty() -> draft, render({draft, update, submit}),
// and the choice it sends. A kind without a paper shows "not supported on this tablet".

import { h } from "/static/lib/dom.js";
import { t, tOr, num } from "/static/lib/i18n.js";

const MARKS = ["for", "against", "abstain"];
const GRADES = ["satisfied", "basically_satisfied", "dissatisfied"];

const opt = (o) => tOr(`option.${o}`, o);

/** Three (or the ballot's own) big buttons; one tap casts, or tap then confirm. */
function bigButtons(options, { draft, update, submit, disabled, quick }) {
  const pick = draft.pick;
  const buttons = h("div", { class: "choices", role: "group", "aria-label": t("seat.your_vote") },
    options.map((o) => h("button", {
      class: `choice choice-${o}`, "data-choice": o, disabled, "aria-pressed": pick === o ? "true" : "false",
      onclick: () => (quick ? submit(o) : update({ pick: o })),
    }, opt(o))));
  if (quick || pick === undefined) return buttons;
  return [buttons, h("div", { class: "submit-row" },
    h("button", { class: "btn primary touch", id: "confirm-vote", disabled, onclick: () => submit(pick) },
      t("seat.confirm_choice", { choice: opt(pick) })),
    h("button", { class: "btn touch", onclick: () => update({}) }, t("seat.cancel")))];
}

function segRow(label, sub, values, current, onPick, disabled, extra) {
  return h("div", { class: "markrow" },
    h("div", { class: "who" }, label, sub ? h("div", { class: "muted" }, sub) : null),
    h("div", {},
      h("div", { class: "seg", role: "group", "aria-label": label },
        values.map((v) => h("button", {
          class: `m-${v}`, "aria-pressed": current === v ? "true" : "false", disabled, "data-mark": v,
          onclick: () => onPick(current === v ? null : v),
        }, opt(v)))),
      extra || null));
}

function submitRow(ctx, choice, ready, warning) {
  return h("div", {},
    warning ? h("div", { class: "state state-refused", id: "paper-warning" }, warning) : null,
    h("div", { class: "submit-row" },
      h("button", { class: "btn primary touch", id: "submit-paper", disabled: ctx.disabled || !ready, onclick: () => ctx.submit(choice) },
        t("seat.submit_paper"))));
}

const PAPERS = {
  motion: (b) => ({
    empty: () => ({}),
    render: (ctx) => bigButtons(b.options || MARKS, ctx),
  }),

  appointment: (b) => {
    const nominees = b.nominees || [];
    if (nominees.length === 1) {
      return { empty: () => ({}), render: (ctx) => bigButtons(MARKS, ctx) };
    }
    return {
      empty: () => ({ marks: {} }),
      render: (ctx) => {
        const marks = ctx.draft.marks;
        const rows = nominees.map((n) => segRow(n.name, [n.post, tOr(`action.${n.action || "appoint"}`, "")].filter(Boolean).join(" · "),
          MARKS, marks[n.id], (v) => ctx.update({ marks: { ...marks, [n.id]: v } }), ctx.disabled));
        const choice = Object.fromEntries(nominees.map((n) => [n.id, marks[n.id] ?? null]));
        return [h("div", { class: "marks" }, rows), submitRow(ctx, choice, Object.values(marks).some(Boolean))];
      },
    };
  },

  election: (b) => {
    const candidates = b.candidates || [];
    const writeIns = b.write_ins !== false;
    const seats = b.seats || 1;
    return {
      empty: () => ({ marks: {}, names: {} }),
      render: (ctx) => {
        const { marks, names } = ctx.draft;
        const rows = candidates.map((c) => {
          const input = writeIns && marks[c.id] === "against" ? h("input", {
            class: "writein", value: names[c.id] || "", maxlength: 40, "aria-label": t("election.write_in_for", { name: c.name }),
            placeholder: t("election.write_in"),
            oninput: (ev) => {
              names[c.id] = ev.target.value; // no re-render while typing
              const warn = document.getElementById("paper-warning-live");
              if (warn) warn.textContent = overText(countFor(marks, names));
            },
          }) : null;
          return segRow(c.name, null, MARKS, marks[c.id], (v) => ctx.update({ marks: { ...marks, [c.id]: v }, names }), ctx.disabled, input);
        });
        const countFor = (m, n) => Object.values(m).filter((v) => v === "for").length
          + Object.entries(m).filter(([id, v]) => v === "against" && (n[id] || "").trim()).length;
        const overText = (n) => (n > seats ? t("election.over_vote", { n, seats }) : "");
        const choice = Object.fromEntries(candidates.map((c) => {
          const mark = marks[c.id] ?? null;
          const name = (names[c.id] || "").trim();
          return [c.id, mark === "against" && name && writeIns ? { mark: "against", write_in: name } : mark];
        }));
        return [
          h("p", { class: "hint" }, t("election.rule", { seats })),
          h("div", { class: "marks" }, rows),
          h("div", { class: "state state-refused", id: "paper-warning-live", role: "alert" }, overText(countFor(marks, names)) || null),
          submitRow(ctx, choice, Object.values(marks).some(Boolean)),
        ];
      },
    };
  },

  selection: (b) => {
    const candidates = b.candidates || [];
    const k = b.seats || candidates.length;
    return {
      empty: () => ({ picked: [] }),
      render: (ctx) => {
        const picked = ctx.draft.picked;
        const full = picked.length >= k;
        const rows = candidates.map((c) => h("div", { class: "markrow" },
          h("div", { class: "who" }, c.name),
          h("div", { class: "seg" }, h("button", {
            class: "m-pick", "aria-pressed": picked.includes(c.id) ? "true" : "false", "data-candidate": c.id,
            disabled: ctx.disabled || (full && !picked.includes(c.id)),
            onclick: () => ctx.update({ picked: picked.includes(c.id) ? picked.filter((x) => x !== c.id) : [...picked, c.id] }),
          }, picked.includes(c.id) ? t("selection.picked") : t("selection.pick")))));
        const ready = b.exact ? picked.length === k : true;
        return [
          h("p", { class: "hint" }, b.exact ? t("selection.exactly", { k }) : t("selection.up_to", { k, n: picked.length })),
          h("div", { class: "marks" }, rows),
          submitRow(ctx, candidates.filter((c) => picked.includes(c.id)).map((c) => c.id), ready),
        ];
      },
    };
  },

  evaluation: (b) => {
    const subjects = b.subjects || [];
    return {
      empty: () => ({ grades: {} }),
      render: (ctx) => {
        const grades = ctx.draft.grades;
        const rows = subjects.map((s) => segRow(s.title, null, GRADES, grades[s.id],
          (v) => ctx.update({ grades: { ...grades, [s.id]: v } }), ctx.disabled));
        const choice = Object.fromEntries(subjects.map((s) => [s.id, grades[s.id] ?? null]));
        return [h("div", { class: "marks" }, rows), submitRow(ctx, choice, Object.values(grades).some(Boolean))];
      },
    };
  },

  score: (b) => {
    const subjects = b.subjects || [];
    return {
      empty: () => ({ scores: {} }),
      render: (ctx) => {
        const scores = ctx.draft.scores;
        const rows = subjects.map((s) => {
          const step = s.step || 1;
          const value = scores[s.id];
          const out = h("output", {}, value === undefined ? "—" : num(value));
          return h("div", { class: "markrow" },
            h("div", { class: "who" }, s.title, h("div", { class: "muted" }, t("score.range", { min: s.min, max: s.max }))),
            h("div", { class: "score" },
              h("input", {
                type: "range", min: s.min, max: s.max, step, value: value ?? s.min, disabled: ctx.disabled,
                "aria-label": s.title,
                oninput: (ev) => {
                  scores[s.id] = Number(ev.target.value);
                  out.textContent = num(scores[s.id]);
                },
                onchange: () => ctx.update({ scores: { ...scores } }),
              }), out));
        });
        const choice = Object.fromEntries(subjects.map((s) => [s.id, scores[s.id] ?? null]));
        return [h("div", { class: "marks" }, rows), submitRow(ctx, choice, Object.keys(scores).length > 0)];
      },
    };
  },
};

export function paperFor(b) {
  const make = PAPERS[b.kind];
  return make ? make(b) : null;
}

/** What the tablet sends for a paper's choice (papers already build the wire form). */
export function paperChoice(b, choice) {
  return choice;
}

/** A recorded choice in words, for "Recorded: …". */
export function choiceText(b, choice) {
  if (choice === null || choice === undefined) return "";
  if (typeof choice === "string") return opt(choice);
  if (Array.isArray(choice)) {
    const names = Object.fromEntries((b.candidates || []).map((c) => [c.id, c.name]));
    return choice.length ? choice.map((id) => names[id] || id).join("、") : t("selection.blank");
  }
  if (typeof choice === "number") return num(choice);
  const names = Object.fromEntries([...(b.nominees || []), ...(b.candidates || [])].map((p) => [p.id, p.name])
    .concat((b.subjects || []).map((s) => [s.id, s.title])));
  return Object.entries(choice).filter(([, v]) => v !== null && v !== undefined).map(([id, v]) => {
    const mark = typeof v === "object" && !Array.isArray(v)
      ? `${opt(v.mark)}（${t("election.write_in")}: ${v.write_in}）`
      : typeof v === "number" ? num(v) : opt(v);
    return `${names[id] || id}: ${mark}`;
  }).join("; ");
}
