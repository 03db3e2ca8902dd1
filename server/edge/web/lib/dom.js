// A tiny element builder and the pieces every screen shares (status badge, result view).

import { t, tOr, num, percent, joined, pair, paren } from "./i18n.js";

/** h("div", {class: "x", onclick: fn}, child, "text", [more]) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/**
 * Text with a line-break opportunity (<wbr>) between its words. Chinese has no spaces, and
 * under `word-break: keep-all` a title without punctuation could otherwise only break
 * inside a word. The browser's word segmenter (Intl.Segmenter) finds the words; as its
 * dictionary splits unknown terms into single characters, a one-character piece stays with
 * the word before it (满意|度|测|评 → 满意度测评) and numerals stay together (第|二|十三|次 → 第二十三次).
 */
export function words(text) {
  if (!text || !/[\u3400-\u9fff]/.test(text) || typeof Intl.Segmenter !== "function") return text;
  words.segmenter ??= new Intl.Segmenter("zh", { granularity: "word" });
  const numeral = /^[第零〇一二三四五六七八九十百千万两0-9]+$/;
  const chunks = [];
  for (const { segment, isWordLike } of words.segmenter.segment(text)) {
    const last = chunks[chunks.length - 1];
    const ordinal = segment === "第"; // 第 belongs to the number after it
    const joins = last && last.word && isWordLike && !ordinal
      && (last.ordinal || [...segment].length === 1 || (numeral.test(segment) && numeral.test(last.text)));
    if (joins) Object.assign(last, { text: last.text + segment, ordinal: false });
    else chunks.push({ text: segment, word: isWordLike, ordinal });
  }
  const out = [];
  chunks.forEach((c, i) => {
    if (i && c.word && chunks[i - 1].word) out.push(document.createElement("wbr"));
    out.push(c.text);
  });
  return out;
}

/** Replace a container's content. */
export function mount(container, ...children) {
  container.replaceChildren();
  append(container, children);
}

/** The connection badge: connecting / online / offline / refused. */
export function statusBadge(status) {
  return h("span", { class: `conn conn-${status}`, role: "status", "data-status": status }, t(`conn.${status}`));
}

export function optionLabel(option) {
  return tOr(`option.${option}`, option);
}

export function verdictLabel(verdict) {
  return verdict === null || verdict === undefined ? "" : tOr(`verdict.${verdict}`, String(verdict));
}

/** Order of count keys: the usual options first, then whatever a kind adds. */
export function countKeys(lines) {
  const order = ["for", "against", "abstain", "satisfied", "basically_satisfied", "dissatisfied", "scored"];
  const seen = new Set();
  for (const line of lines) for (const key of Object.keys(line.counts || {})) seen.add(key);
  return [...order.filter((k) => seen.has(k)), ...[...seen].filter((k) => !order.includes(k))];
}

/** Text of a threshold: "Rule: for more than 1/2 of all seated members" (`kind` may name it otherwise). */
export function ruleText(rule, kind) {
  if (!rule) return "";
  return t("rule.text", {
    label: tOr(`rule.label.${kind}`, t("rule.label")), ...thresholdParts(rule),
  });
}

function thresholdParts(rule) {
  return {
    option: optionLabel(rule.option), cmp: rule.cmp === ">=" ? t("rule.ge") : t("rule.gt"),
    fraction: rule.fraction, base: tOr(`base.${rule.base}`, rule.base),
    constant: rule.constant ? t("rule.constant", { n: rule.constant }) : "",
  };
}

/**
 * The rule a member reads under a ballot, in the ballot kind's own terms: a score has no
 * pass mark, a selection ranks, an evaluation grades (docs/ballot-kinds.md).
 */
export function ballotRuleText(b) {
  const rule = b.rule || {};
  switch (b.kind) {
    case "score":
      return b.trim ? t("rule.score_trim", { trim: b.trim }) : t("rule.score");
    case "selection": {
      const parts = [t(b.exact ? "rule.selection_exact" : "rule.selection", { k: b.seats })];
      if (b.minimum) parts.push(t("rule.selection_minimum", { n: b.minimum }));
      if (rule.fraction && Number(String(rule.fraction).split("/")[0]) > 0) parts.push(ruleText(rule, b.kind));
      return joined(parts, "items");
    }
    case "evaluation": {
      const rows = (b.verdicts || []).map((row) => {
        if (!row.grades) return t("rule.evaluation_else", { verdict: verdictLabel(row.verdict) });
        const own = { ...rule, ...row, option: null };
        return t("rule.evaluation_row", {
          ...thresholdParts(own), grades: joined(row.grades.map(optionLabel), "plus"), verdict: verdictLabel(row.verdict),
        });
      });
      return pair(t("rule.label.evaluation"), joined(rows, "items"));
    }
    default:
      return ruleText(rule, b.kind);
  }
}

/** A recorded choice in words ("Recorded: …", the named list), for any kind. */
export function choiceText(b, choice) {
  if (choice === null || choice === undefined) return "";
  if (typeof choice === "string") return optionLabel(choice);
  if (typeof choice === "number") return num(choice);
  if (Array.isArray(choice)) {
    const names = Object.fromEntries((b.candidates || []).map((c) => [c.id, c.name]));
    return choice.length ? joined(choice.map((id) => names[id] || id)) : t("selection.blank");
  }
  const names = Object.fromEntries([...(b.nominees || []), ...(b.candidates || [])].map((p) => [p.id, p.name])
    .concat((b.subjects || []).map((s) => [s.id, s.title])));
  const parts = Object.entries(choice).filter(([, v]) => v !== null && v !== undefined).map(([id, v]) => {
    const mark = typeof v === "object" && !Array.isArray(v)
      ? t("choice.write_in", { mark: optionLabel(v.mark), name: v.write_in })
      : Array.isArray(v) ? joined(v.map(optionLabel)) : typeof v === "number" ? num(v) : optionLabel(v);
    return pair(names[id] || id, mark);
  });
  return parts.length ? joined(parts, "items") : t("selection.blank");
}

/** The kind, secrecy and (for a later election round) the round: one header line for every screen. */
export function ballotHeader(b, { secrecy = true } = {}) {
  return joined([
    t(`kind.${b.kind}`), secrecy ? (b.secret ? t("ballot.secret") : t("ballot.named")) : "",
    b.kind === "election" && b.round > 1 ? t("ballot.round", { n: b.round }) : "",
  ], "dot");
}

/**
 * A result (protocol.md "Results"), generic over its lines: per line the counts as bars,
 * the verdict in words; score lines show their figures. `big` for displays.
 */
export function resultView(result, { detail = true, live = false } = {}) {
  const lines = result.lines || [];
  const keys = countKeys(lines);
  const scoreLike = result.kind === "score";
  const rows = lines.map((line) => {
    if (scoreLike) {
      const fig = (v) => (v === null || v === undefined ? "—" : num(v));
      return h("div", { class: "rline" },
        h("div", { class: "rlabel" }, words(line.label)),
        h("div", { class: "rscore" },
          h("span", {}, t("score.mean"), " ", h("b", {}, fig(line.mean))),
          h("span", {}, t("score.median"), " ", h("b", {}, fig(line.median))),
          h("span", {}, t("score.trimmed"), " ", h("b", {}, fig(line.trimmed_mean))),
          h("span", {}, t("score.count"), " ", h("b", {}, fig(line.count))),
          line.note ? h("span", { class: "muted" }, tOr(`score.note.${line.note}`, line.note)) : null));
    }
    const total = Math.max(1, keys.reduce((sum, k) => sum + (line.counts[k] || 0), 0), result.present || 0);
    const bars = keys.filter((k) => k in line.counts).map((k) =>
      h("div", { class: `bar bar-${k}` },
        h("span", { class: "bname" }, optionLabel(k)),
        h("span", { class: "btrack" }, h("span", { class: "bfill", style: { width: `${(100 * (line.counts[k] || 0)) / total}%` } })),
        h("span", { class: "bcount" }, num(line.counts[k] || 0))));
    const extras = [];
    if (detail && line.needed !== undefined && line.needed !== null) extras.push(t("result.needed", { n: line.needed }));
    if (line.invalid) extras.push(t("result.invalid_n", { n: line.invalid }));
    if (line.rank) extras.push(t("result.rank", { n: line.rank }));
    if (line.write_in) extras.push(t("result.write_in"));
    return h("div", { class: "rline", "data-line": line.id },
      lines.length > 1 || result.kind !== "motion" ? h("div", { class: "rlabel" }, words(line.label),
        line.post ? h("span", { class: "muted rpost" }, line.post) : null) : null,
      h("div", { class: "bars" }, bars),
      h("div", { class: "rfoot" },
        line.verdict && !live ? h("span", { class: `verdict verdict-${line.verdict}`, "data-verdict": line.verdict }, verdictLabel(line.verdict)) : null,
        extras.length ? h("span", { class: "muted" }, joined(extras, "dot")) : null));
  });
  if (live) return h("div", { class: `result live kind-${result.kind}` }, rows);
  const figures = h("div", { class: "rfigures" },
    fig2("result.seated", result.seated), fig2("result.present", result.present), fig2("result.voted", result.voted),
    fig2("result.not_voted", result.not_voted), result.invalid ? fig2("result.invalid", result.invalid) : null);
  return h("div", { class: `result kind-${result.kind}` },
    result.verdict && (lines.length > 1 || result.kind !== "motion")
      ? h("div", { class: `overall verdict-${result.verdict}`, "data-verdict": result.verdict }, verdictLabel(result.verdict)) : null,
    rows, figures);
}

function fig2(key, value) {
  if (value === undefined || value === null) return null;
  return h("span", { class: "fig" }, h("span", { class: "flabel" }, t(key)), " ", h("b", {}, num(value)));
}

export { percent, joined, pair, paren };
