// Ballot papers for the seat tablet, one per kind (docs/ballot-kinds.md), rendered from
// the ballot view alone. Each paper: empty() -> draft, render(ctx), and choice(draft): the
// choice it casts, read from the draft when the member submits — never a copy taken when
// the paper was drawn, so what the member sees selected (a mark, a typed write-in, a
// score) is exactly what is cast. A kind without a paper shows "not supported".

import { h, words } from "/static/lib/dom.js";
import { t, tOr, num, joined } from "/static/lib/i18n.js";

const MARKS = ["for", "against", "abstain"];
const GRADES = ["satisfied", "basically_satisfied", "dissatisfied"];
const MAX_BUTTONS = 11; // a scale with at most this many values gets one button per value

const opt = (o) => tOr(`option.${o}`, o);

/** A typed name as the server keeps it (NFKC, one space between words): the tablet shows what is counted. */
export function normalName(text) {
  return (text || "").normalize("NFKC").split(/\s+/).filter(Boolean).join(" ");
}

/** Three (or the ballot's own) big buttons; one tap casts, or tap then confirm. */
function bigButtons(options, { draft, update, submit, disabled, quick }, cast = (o) => o) {
  const pick = draft.pick;
  const buttons = h("div", { class: "choices", role: "group", "aria-label": t("seat.your_vote") },
    options.map((o) => h("button", {
      class: `choice choice-${o}`, "data-choice": o, disabled, "aria-pressed": pick === o ? "true" : "false",
      onclick: () => (quick ? submit(cast(o)) : update({ pick: o })),
    }, opt(o))));
  if (quick || pick === undefined) return buttons;
  return [buttons, h("div", { class: "submit-row" },
    h("button", { class: "btn primary touch", id: "confirm-vote", disabled, onclick: () => submit(cast(pick)) },
      t("seat.confirm_choice", { choice: opt(pick) })),
    h("button", { class: "btn touch", onclick: () => update({}) }, t("seat.cancel")))];
}

function segRow(id, label, sub, values, current, onPick, disabled, extra) {
  return h("div", { class: "markrow", "data-row": id },
    h("div", { class: "who" }, words(label), sub ? h("div", { class: "muted" }, sub) : null),
    h("div", {},
      h("div", { class: "seg", role: "group", "aria-label": label },
        values.map((v) => h("button", {
          class: `m-${v}`, "aria-pressed": current === v ? "true" : "false", disabled, "data-mark": v,
          onclick: () => onPick(current === v ? null : v),
        }, opt(v)))),
      extra || null));
}

/**
 * The submit button and the live warning. `paper.ready(draft)` and `paper.warning(draft)`
 * are asked again whenever a field changes without redrawing the paper (`ctx.refresh()`),
 * and `paper.choice(draft)` when the button is pressed.
 */
function submitRow(ctx, paper) {
  const warn = h("div", { class: "state state-refused", id: "paper-warning-live", role: "alert" });
  const button = h("button", {
    class: "btn primary touch", id: "submit-paper",
    onclick: () => ctx.submit(paper.choice(ctx.draft)),
  }, t("seat.submit_paper"));
  ctx.refresh = () => {
    warn.textContent = (paper.warning && paper.warning(ctx.draft)) || "";
    button.disabled = ctx.disabled || !paper.ready(ctx.draft);
  };
  ctx.refresh();
  return h("div", {}, warn, h("div", { class: "submit-row" }, button));
}

function appointment(b) {
  const nominees = b.nominees || [];
  if (nominees.length === 1) {
    // one nominee: the big buttons, cast in the canonical form the server records and echoes
    const only = nominees[0].id;
    return { empty: () => ({}), render: (ctx) => bigButtons(MARKS, ctx, (o) => ({ [only]: o })) };
  }
  const paper = {
    empty: () => ({ marks: {} }),
    choice: (d) => Object.fromEntries(nominees.map((n) => [n.id, d.marks[n.id] ?? null])),
    ready: (d) => Object.values(d.marks).some(Boolean),
    render: (ctx) => {
      const marks = ctx.draft.marks;
      const rows = nominees.map((n) => segRow(n.id, n.name,
        joined([n.post, tOr(`action.${n.action || "appoint"}`, "")], "dot"),
        MARKS, marks[n.id], (v) => ctx.update({ marks: { ...marks, [n.id]: v } }), ctx.disabled));
      return [h("div", { class: "marks" }, rows), submitRow(ctx, paper)];
    },
  };
  return paper;
}

function election(b) {
  const candidates = b.candidates || [];
  const writeIns = b.write_ins !== false;
  const seats = b.seats || 1;
  const writeIn = (d, id) => (writeIns && d.marks[id] === "against" ? normalName(d.names[id]) : "");
  const paper = {
    empty: () => ({ marks: {}, names: {} }),
    choice: (d) => Object.fromEntries(candidates.map((c) => {
      const name = writeIn(d, c.id);
      return [c.id, name ? { mark: "against", write_in: name } : d.marks[c.id] ?? null];
    })),
    ready: (d) => Object.values(d.marks).some(Boolean),
    warning: (d) => {
      const n = candidates.filter((c) => d.marks[c.id] === "for" || writeIn(d, c.id)).length;
      return n > seats ? t("election.over_vote", { n, seats }) : "";
    },
    render: (ctx) => {
      const { marks, names } = ctx.draft;
      const rows = candidates.map((c) => {
        const input = writeIns && marks[c.id] === "against" ? h("input", {
          class: "writein", value: names[c.id] || "", maxlength: 40, "data-candidate": c.id,
          "aria-label": t("election.write_in_for", { name: c.name }), placeholder: t("election.write_in"),
          oninput: (ev) => {
            names[c.id] = ev.target.value; // kept in the draft; no redraw while typing
            ctx.refresh();
          },
        }) : null;
        return segRow(c.id, c.name, null, MARKS, marks[c.id],
          (v) => ctx.update({ marks: { ...marks, [c.id]: v }, names }), ctx.disabled, input);
      });
      return [h("p", { class: "hint" }, t("election.rule", { seats })), h("div", { class: "marks" }, rows), submitRow(ctx, paper)];
    },
  };
  return paper;
}

function selection(b) {
  const candidates = b.candidates || [];
  const k = b.seats || candidates.length;
  const paper = {
    empty: () => ({ picked: [] }),
    choice: (d) => candidates.filter((c) => d.picked.includes(c.id)).map((c) => c.id),
    ready: (d) => (b.exact ? d.picked.length === k : true),
    render: (ctx) => {
      const picked = ctx.draft.picked;
      const full = picked.length >= k;
      const rows = candidates.map((c) => h("div", { class: "markrow", "data-row": c.id },
        h("div", { class: "who" }, words(c.name)),
        h("div", { class: "seg" }, h("button", {
          class: "m-pick", "aria-pressed": picked.includes(c.id) ? "true" : "false", "data-candidate": c.id,
          disabled: ctx.disabled || (full && !picked.includes(c.id)),
          onclick: () => ctx.update({ picked: picked.includes(c.id) ? picked.filter((x) => x !== c.id) : [...picked, c.id] }),
        }, picked.includes(c.id) ? t("selection.picked") : t("selection.pick")))));
      return [
        h("p", { class: "hint" }, b.exact ? t("selection.exactly", { k }) : t("selection.up_to", { k, n: picked.length })),
        h("div", { class: "marks" }, rows),
        submitRow(ctx, paper),
      ];
    },
  };
  return paper;
}

function evaluation(b) {
  const subjects = b.subjects || [];
  const paper = {
    empty: () => ({ grades: {} }),
    choice: (d) => Object.fromEntries(subjects.map((s) => [s.id, d.grades[s.id] ?? null])),
    ready: (d) => Object.values(d.grades).some(Boolean),
    render: (ctx) => {
      const grades = ctx.draft.grades;
      const rows = subjects.map((s) => segRow(s.id, s.title, null, GRADES, grades[s.id],
        (v) => ctx.update({ grades: { ...grades, [s.id]: v } }), ctx.disabled));
      return [h("div", { class: "marks" }, rows), submitRow(ctx, paper)];
    },
  };
  return paper;
}

// -- score ----------------------------------------------------------------------------------

/** A subject's scale: its values as exact decimals (0.1 steps give 0.3, not 0.30000000000000004). */
function scale(s) {
  const step = s.step || 1;
  const places = Math.max(...[s.min, step].map((x) => (String(x).split(".")[1] || "").length));
  const count = Math.round((s.max - s.min) / step) + 1;
  const at = (i) => Number((s.min + i * step).toFixed(places));
  const index = (v) => (v - s.min) / step;
  const valid = (v) => Number.isFinite(v) && v >= s.min && v <= s.max && Math.abs(index(v) - Math.round(index(v))) < 1e-9;
  return { step, count, at, valid, snap: (v) => at(Math.min(count - 1, Math.max(0, Math.round(index(v))))) };
}

/** Small scales: a button per value (stars for 1–5); a tap on the chosen one clears it. */
function scoreButtons(s, sc, ctx) {
  const scores = ctx.draft.scores;
  const stars = s.min === 1 && s.max <= 5 && sc.step === 1;
  const values = Array.from({ length: sc.count }, (_, i) => sc.at(i));
  return h("div", { class: `seg score-buttons${stars ? " stars" : ""}`, role: "group", "aria-label": s.title },
    values.map((v) => h("button", {
      class: "m-score", "data-score": v, disabled: ctx.disabled,
      "aria-pressed": scores[s.id] === v ? "true" : "false",
      "aria-label": stars ? t("score.stars", { n: v }) : null,
      "data-lit": stars && scores[s.id] !== undefined && v <= scores[s.id] ? "true" : null,
      onclick: () => {
        const next = { ...scores };
        if (scores[s.id] === v) delete next[s.id];
        else next[s.id] = v;
        ctx.update({ ...ctx.draft, scores: next });
      },
    }, stars ? "★" : num(v))));
}

/** Large scales (0–100): a number field with − / + steppers beside a slider, kept in step in place. */
function scoreField(s, sc, ctx) {
  const { scores, typed } = ctx.draft;
  const value = scores[s.id];
  const field = h("input", {
    class: "score-number", type: "number", inputmode: "decimal", min: s.min, max: s.max, step: sc.step,
    value: typed[s.id] ?? (value === undefined ? "" : String(value)), disabled: ctx.disabled,
    "aria-label": t("score.number", { title: s.title }), placeholder: t("score.unscored"),
  });
  const slider = h("input", {
    type: "range", min: s.min, max: s.max, step: sc.step, value: value ?? s.min, disabled: ctx.disabled,
    class: value === undefined ? "unset" : "", "aria-label": s.title,
  });
  const problem = h("div", { class: "score-problem", role: "alert" });
  const show = () => {
    const v = scores[s.id];
    slider.classList.toggle("unset", v === undefined);
    if (v !== undefined) slider.value = v;
    problem.textContent = typed[s.id] !== undefined && scores[s.id] === undefined
      ? t("score.invalid", { min: s.min, max: s.max, step: sc.step }) : "";
    ctx.refresh();
  };
  const set = (v) => {
    if (v === undefined) delete scores[s.id];
    else scores[s.id] = v;
  };
  field.addEventListener("input", () => {
    const text = field.value.trim();
    const v = Number(text);
    if (field.validity.badInput || (text !== "" && !sc.valid(v))) {
      typed[s.id] = field.value; // shown as typed, with what is wrong; not cast
      set(undefined);
    } else {
      delete typed[s.id];
      set(text === "" ? undefined : sc.snap(v)); // emptied: not scored
    }
    show();
  });
  slider.addEventListener("input", () => {
    set(sc.snap(Number(slider.value)));
    delete typed[s.id];
    field.value = String(scores[s.id]);
    show();
  });
  const stepper = (dir, cls, label, glyph) => h("button", {
    class: `btn touch stepper ${cls}`, type: "button", disabled: ctx.disabled, "aria-label": label,
    onclick: () => {
      const base = scores[s.id] ?? (dir > 0 ? s.min - sc.step : s.max + sc.step);
      set(sc.snap(base + dir * sc.step));
      delete typed[s.id];
      field.value = String(scores[s.id]);
      show();
    },
  }, glyph);
  queueMicrotask(show); // the problem line for a value typed before a redraw
  return h("div", { class: "score" },
    stepper(-1, "step-down", t("score.step_down"), "−"), field, stepper(1, "step-up", t("score.step_up"), "+"),
    slider, problem);
}

function score(b) {
  const subjects = b.subjects || [];
  const paper = {
    empty: () => ({ scores: {}, typed: {} }),
    choice: (d) => Object.fromEntries(subjects.map((s) => [s.id, d.scores[s.id] ?? null])),
    // a number typed but not on the scale blocks the paper: it would not be what is cast
    ready: (d) => Object.keys(d.scores).length > 0 && Object.keys(d.typed).length === 0,
    render: (ctx) => {
      const rows = subjects.map((s) => {
        const sc = scale(s);
        const range = sc.step === 1 ? t("score.range", { min: s.min, max: s.max })
          : t("score.range_step", { min: s.min, max: s.max, step: sc.step });
        return h("div", { class: "markrow", "data-row": s.id },
          h("div", { class: "who" }, words(s.title), h("div", { class: "muted" }, range)),
          sc.count <= MAX_BUTTONS ? scoreButtons(s, sc, ctx) : scoreField(s, sc, ctx));
      });
      return [h("div", { class: "marks" }, rows), submitRow(ctx, paper)];
    },
  };
  return paper;
}

const PAPERS = {
  motion: (b) => ({ empty: () => ({}), render: (ctx) => bigButtons(b.options || MARKS, ctx) }),
  appointment,
  election,
  selection,
  evaluation,
  score,
};

export function paperFor(b) {
  const make = PAPERS[b.kind];
  return make ? make(b) : null;
}
